import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../http/auth.ts';
import { frameMllp } from '../core/wire/hl7/mllp-framing.ts';
import type { TestPki } from '../ingest/hl7/mllp-test-pki.ts';
import { createTestPki } from '../ingest/hl7/mllp-test-pki.ts';
import { connectMllp, msaOf } from '../simulators/device-protocols/mllp-client.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * The HL7 edge as an operator runs it (issue 12, finding 1): plain MLLP stays on loopback and
 * says so; with the VIGIL_MLLP_TLS_* variables a monitor proves who it is with its certificate
 * and its readings reach the ward.
 */
const SECRET = 'mllp-e2e-secret-0123456789';
let dir: string;
let pki: TestPki;
let vigil: VigilProcess | undefined;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-mllp-e2e-'));
  pki = createTestPki();
});
afterEach(async () => {
  await vigil?.stop();
  vigil = undefined;
});
afterAll(() => {
  pki.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const at = (): string => `${new Date(Date.now() - 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
const oru = (controlId: string, sender: string, patient: string): string => [
  `MSH|^~\\&|${sender}|ICU|VIGIL|HOSP|${at()}||ORU^R01^ORU_R01|${controlId}|P|2.6`,
  `PID|1||${patient}^^^HOSP^MR`,
  `OBR|1|||182777000^monitoring of patient^SCT|||${at()}`,
  'OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.2.1|71|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
].join('\r');
const mllpAddressOf = (output: string): { host: string; port: number } => {
  const match = /MLLP on ([\d.]+):(\d+)/.exec(output);
  if (!match) throw new Error(`no MLLP address in the banner:\n${output}`);
  return { host: match[1]!, port: Number(match[2]) };
};

describe('MLLP at start-up', () => {
  it('vigil ingest without TLS binds MLLP to loopback, even with VIGIL_HOST=0.0.0.0, and says so', async () => {
    vigil = await startVigil('ingest', { VIGIL_DATA_DIR: path.join(dir, 'plain'), VIGIL_AUTH_SECRET: SECRET, VIGIL_HOST: '0.0.0.0', VIGIL_LOG_LEVEL: 'info' });
    // The banner (console) and the log line (pino, flushed on its own schedule) may come in either order.
    const output = await eventually(async () => {
      const text = vigil!.output();
      return /MLLP on/.test(text) && /listens on loopback only/.test(text) ? text : undefined;
    }, 15_000, 'the MLLP banner line and the loopback log line');
    expect(mllpAddressOf(output).host).toBe('127.0.0.1');
    expect(output).toMatch(/plaintext, loopback only/);
  }, budget(40_000));

  it('vigil start with mTLS: a mapped certificate reaches the ward, a spoofed sender and a certificate-less client do not', async () => {
    const file = (name: string, content: Buffer): string => {
      const target = path.join(dir, name);
      writeFileSync(target, content);
      return target;
    };
    const client = pki.client('gw-icu-west');
    vigil = await startVigil('start', {
      VIGIL_DATA_DIR: path.join(dir, 'mtls'), VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0',
      VIGIL_MLLP_TLS_CERT: file('server.pem', pki.server.cert), VIGIL_MLLP_TLS_KEY: file('server.key', pki.server.key),
      VIGIL_MLLP_TLS_CA: file('ca.pem', pki.ca), VIGIL_MLLP_CERT_SENDERS: 'gw-icu-west=MONITOR', VIGIL_MLLP_HOST: '127.0.0.1',
    });
    const output = await eventually(async () => (/MLLP on/.test(vigil!.output()) ? vigil!.output() : undefined), 10_000, 'the MLLP banner line');
    expect(output).toMatch(/TLS; senders proven by client certificate/);
    const { port } = mllpAddressOf(output);

    const monitor = await connectMllp({ host: '127.0.0.1', port, tls: { ca: pki.ca, servername: 'localhost', ...client } });
    expect(msaOf(await monitor.send(oru('E2E-1', 'MONITOR', 'PMTLS1')))).toMatchObject({ code: 'AA', controlId: 'E2E-1' });
    expect(msaOf(await monitor.send(oru('E2E-2', 'VIGIL-SIM', 'PMTLS2')))).toMatchObject({ code: 'AR', controlId: 'E2E-2' });
    await monitor.close();

    const anonymous = tls.connect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost' });
    let answered = '';
    anonymous.on('data', (chunk: Buffer) => (answered += chunk.toString('latin1')));
    anonymous.on('error', () => undefined);
    anonymous.once('secureConnect', () => anonymous.write(frameMllp(oru('E2E-3', 'MONITOR', 'PMTLS3'))));
    await new Promise<void>((resolve) => anonymous.once('close', () => resolve()));
    expect(answered).not.toMatch(/MSA\|/);

    const clinician = { authorization: `Bearer ${signToken(SECRET, { sub: 'e2e', role: 'clinician', expiresIn: '1h' })}` };
    const vitalsOf = async (patient: string): Promise<unknown[]> => {
      const to = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
      const response = await fetch(`${vigil!.url}/v1/patients/${patient}/vitals?from=2026-01-01T00:00:00Z&to=${to}`, { headers: clinician });
      if (response.status === 404) return [];
      const body = (await response.json()) as { readings?: unknown[] } | unknown[];
      return Array.isArray(body) ? body : (body.readings ?? []);
    };
    const stored = await eventually(async () => {
      const rows = await vitalsOf('PMTLS1');
      return rows.length > 0 ? rows : undefined;
    }, 15_000, 'the mTLS monitor reading on the ward');
    expect(stored).toMatchObject([{ heartRate: 71 }]);
    expect(await vitalsOf('PMTLS2')).toEqual([]);
  }, budget(60_000));
});

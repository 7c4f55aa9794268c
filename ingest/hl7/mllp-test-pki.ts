import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Throwaway certificates for the mTLS tests, made with `openssl` at test time (nothing long-lived
 * is committed): a CA, a server certificate for 127.0.0.1/localhost, client certificates signed by
 * that CA, and a second "foreign" CA whose client certificate the listener must refuse.
 */
export interface TestPki {
  readonly ca: Buffer;
  readonly server: { key: Buffer; cert: Buffer };
  /** A client certificate signed by `ca`, with the given subject CN and optional SANs. */
  client(cn: string, sans?: string[]): { key: Buffer; cert: Buffer };
  /** A client certificate from a CA the listener does not trust. */
  foreignClient(cn: string): { key: Buffer; cert: Buffer };
  dispose(): void;
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-pki-'));
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const makeCa = (name: string): void => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`));
  };
  let serial = 0;
  const issue = (caName: string, cn: string, sans: string[], usage: 'serverAuth' | 'clientAuth'): { key: Buffer; cert: Buffer } => {
    const base = `leaf-${++serial}`;
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`,
      '-keyout', file(`${base}.key`), '-out', file(`${base}.csr`));
    writeFileSync(file(`${base}.ext`), [`extendedKeyUsage=${usage}`, ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : [])].join('\n'));
    openssl('x509', '-req', '-in', file(`${base}.csr`), '-CA', file(`${caName}.pem`), '-CAkey', file(`${caName}.key`),
      '-CAcreateserial', '-days', '1', '-extfile', file(`${base}.ext`), '-out', file(`${base}.pem`));
    return { key: readFileSync(file(`${base}.key`)), cert: readFileSync(file(`${base}.pem`)) };
  };
  makeCa('test-ca');
  makeCa('foreign-ca');
  const server = issue('test-ca', 'localhost', ['DNS:localhost', 'IP:127.0.0.1'], 'serverAuth');
  return {
    ca: readFileSync(file('test-ca.pem')),
    server,
    client: (cn, sans = []) => issue('test-ca', cn, sans, 'clientAuth'),
    foreignClient: (cn) => issue('foreign-ca', cn, [], 'clientAuth'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

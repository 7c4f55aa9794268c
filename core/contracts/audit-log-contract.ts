import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../ports/audit-log.ts';
import { openPortForSuite } from './provisioned-port.ts';
import { runPrefix } from './wait-for.ts';

/**
 * The audit log contract (core/ports/audit-log.ts), run by every adapter's tests.
 *
 * `make` must return a NEW handle on the SAME shared log each time it is called (the same file,
 * the same table): the suite opens a second one to play a second dashboard instance. The log may
 * hold entries of earlier runs, so each case writes its own ids and its own day of timestamps and
 * reads within them.
 */
export function describeAuditLogContract(name: string, make: () => Promise<AuditLog>, options: { testTimeoutMs?: number } = {}): void {
  const prefix = runPrefix('audit');
  const timeout = options.testTimeoutMs ?? 30_000;
  const DAY = 86_400_000;
  // A day per case, far from any real clock, so a ward-wide list inside that day sees only the case's entries.
  let nextDay = Date.parse('2031-01-01T00:00:00Z') + Math.floor(Math.random() * 1000) * 7 * DAY;
  const caseWindow = (): { from: number; to: number } => {
    const from = nextDay;
    nextDay += DAY;
    return { from, to: from + DAY };
  };
  const entry = (at: number, fields: Partial<AuditEntry> = {}): AuditEntry => ({
    at, actor: `${prefix}-clinician`, role: 'clinician', action: 'GET /v1/patients/:patientId/vitals', status: 200, ...fields,
  });

  describe(`audit log contract: ${name}`, () => {
    let log: AuditLog;
    openPortForSuite(make, (port) => { log = port; }, timeout);

    it('lists newest first, filtered by patient, actor and time window, bounded by limit; entries come back as written', async () => {
      const { from, to } = caseWindow();
      const [p1, p2, alice, bob] = [`${prefix}-P1`, `${prefix}-P2`, `${prefix}-alice`, `${prefix}-bob`];
      const written: AuditEntry[] = [
        { at: from + 10, actor: alice, role: 'clinician', action: 'GET /v1/patients', status: 200 },
        { at: from + 20, actor: bob, role: 'clinician', action: 'GET /v1/patients/:patientId/vitals', patientId: p1, status: 200 },
        { at: from + 30, actor: alice, role: 'admin', action: 'GET /v1/patients/:patientId/risk', patientId: p2, status: 403 },
        { at: from + 40, actor: alice, role: 'clinician', action: 'PUT /v1/patients/:patientId/profile', patientId: p1, status: 200 },
      ];
      for (const e of written) await log.append(e);
      const ats = async (query: Parameters<AuditLog['list']>[0]): Promise<number[]> => (await log.list(query)).map((e) => e.at - from);

      expect(await ats({ since: from, until: to, limit: 10 })).toEqual([40, 30, 20, 10]);
      expect(await ats({ patientId: p1, limit: 10 })).toEqual([40, 20]);
      expect(await ats({ actor: alice, limit: 10 })).toEqual([40, 30, 10]);
      expect(await ats({ actor: alice, patientId: p1, limit: 10 })).toEqual([40]);
      expect(await ats({ since: from + 20, until: to, limit: 10 })).toEqual([40, 30, 20]);
      expect(await ats({ since: from, until: from + 30, limit: 10 })).toEqual([20, 10]);
      expect(await ats({ actor: alice, since: from + 11, until: from + 40, limit: 10 })).toEqual([30]);
      expect(await ats({ since: from, until: to, limit: 2 })).toEqual([40, 30]);
      expect(await ats({ actor: alice, limit: 1 })).toEqual([40]);
      expect(await log.list({ patientId: p2, limit: 5 })).toEqual([written[2]]);
      const wardWide = await log.list({ actor: alice, until: from + 11, limit: 5 });
      expect(wardWide).toEqual([written[0]]);
      expect(wardWide[0]).not.toHaveProperty('patientId');
    }, timeout);

    it('compares patient and actor ids exactly: no prefix, case folding or separator confusion', async () => {
      const { from } = caseWindow();
      const ids = [`${prefix}-X1`, `${prefix}-X10`, `${prefix}-X1#a`, `${prefix}-x1`, `${prefix}-X1%23a`];
      for (const [i, id] of ids.entries()) await log.append(entry(from + i, { patientId: id, actor: id }));
      for (const [i, id] of ids.entries()) {
        expect((await log.list({ patientId: id, limit: 10 })).map((e) => e.at - from), `patient ${id}`).toEqual([i]);
        expect((await log.list({ actor: id, limit: 10 })).map((e) => e.at - from), `actor ${id}`).toEqual([i]);
      }
    }, timeout);

    it('two handles appending concurrently: every entry of both is visible through either, none doubled', async () => {
      const other = await make();
      try {
        await other.provision();
        const { from } = caseWindow();
        const patient = `${prefix}-shared`;
        const perHandle = 40;
        await Promise.all([
          Promise.all(Array.from({ length: perHandle }, (_, i) => log.append(entry(from + 2 * i, { patientId: patient, actor: `${prefix}-one` })))),
          Promise.all(Array.from({ length: perHandle }, (_, i) => other.append(entry(from + 2 * i + 1, { patientId: patient, actor: `${prefix}-two` })))),
        ]);
        const expected = Array.from({ length: 2 * perHandle }, (_, i) => 2 * perHandle - 1 - i);
        for (const [handle, through] of [[log, 'the first handle'], [other, 'the second handle']] as const) {
          const seen = (await handle.list({ patientId: patient, limit: 1000 })).map((e) => e.at - from);
          expect(seen, `the trail read through ${through}`).toEqual(expected);
          expect((await handle.list({ actor: `${prefix}-two`, limit: 1000 })).length, `the second handle's entries read through ${through}`).toBe(perHandle);
        }
      } finally {
        await other.close();
      }
    }, timeout);

    it('an entry is durable: a handle opened after the writer closed finds it', async () => {
      const { from } = caseWindow();
      const writer = await make();
      const written = entry(from + 5, { patientId: `${prefix}-durable` });
      await writer.append(written);
      await writer.close();
      const reader = await make();
      try {
        expect(await reader.list({ patientId: `${prefix}-durable`, limit: 5 })).toEqual([written]);
      } finally {
        await reader.close();
      }
    }, timeout);

    it('refuses an entry it cannot store faithfully, naming the field, and stores nothing of it', async () => {
      const { from } = caseWindow();
      const patient = `${prefix}-invalid`;
      await expect(log.append(entry(from + 0.5, { patientId: patient }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'at' } });
      await expect(log.append(entry(-1, { patientId: patient }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'at' } });
      await expect(log.append(entry(from, { patientId: patient, actor: '' }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'actor' } });
      expect(await log.list({ patientId: patient, limit: 5 })).toEqual([]);
    }, timeout);

    it('a closed handle refuses appends with a retriable error instead of dropping them', async () => {
      const closed = await make();
      await closed.close();
      await expect(closed.append(entry(caseWindow().from))).rejects.toMatchObject({ code: 'SHUTTING_DOWN', retriable: true });
      await expect(closed.close()).resolves.toBeUndefined();
    }, timeout);
  });
}

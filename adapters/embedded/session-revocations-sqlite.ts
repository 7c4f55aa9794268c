import { openSqliteFile } from './open-sqlite-file.ts';
import { VigilError } from '../../core/errors.ts';
import type { SessionRevocations } from '../../core/ports/session-revocations.ts';

/**
 * The embedded session revocation list: one SQLite file (`sessions.sqlite` under VIGIL_DATA_DIR).
 * Every process on the machine that opens the same file shares it; entries past their session's
 * expiry are pruned on each revocation, so the table holds at most one shift of sign-outs.
 */
export function createSqliteSessionRevocations(options: { path: string }): SessionRevocations {
  const db = openSqliteFile({ path: options.path, what: 'session revocation list', schema: `
      CREATE TABLE IF NOT EXISTS revoked_sessions (
        session_id TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      );
  ` });
  const insert = db.prepare('INSERT INTO revoked_sessions (session_id, expires_at) VALUES (?, ?) ON CONFLICT (session_id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)');
  const prune = db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?');
  const lookup = db.prepare('SELECT 1 AS revoked FROM revoked_sessions WHERE session_id = ? AND expires_at > ?');
  let closed = false;
  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'session revocation list is closed');
  };
  const guarded = <T>(what: string, run: () => T): T => {
    open();
    try {
      return run();
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot ${what} the session revocation list`, { cause });
    }
  };

  return {
    kind: 'sqlite',
    async provision() {},
    async revoke(sessionId, expiresAt) {
      guarded('write to', () => {
        prune.run(Date.now());
        insert.run(sessionId, expiresAt);
      });
    },
    async isRevoked(sessionId) {
      return guarded('read', () => lookup.get(sessionId, Date.now()) !== undefined);
    },
    async ping() {
      guarded('read', () => lookup.get('', 0));
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

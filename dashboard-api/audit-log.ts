/**
 * The audit port moved to core/ports/audit-log.ts and its SQLite adapter to
 * adapters/embedded/audit-log-sqlite.ts; these names stay importable from here for the routes
 * that take an AuditLog (alerts among them).
 */
export type { AuditEntry, AuditLog, AuditQuery } from '../core/ports/audit-log.ts';
export { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';

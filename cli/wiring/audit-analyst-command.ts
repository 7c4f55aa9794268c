import { userInfo } from 'node:os';
import type { VigilConfig } from '../../core/config.ts';
import type { Logger } from '../../core/observability/logger.ts';
import { openAuditLog } from './open-backends.ts';

/**
 * One audit entry per analyst command (`vigil sql`, `vigil export`), in the same log as the API's
 * reads: who (the OS user: the command runs on the host, with no token), when, what and the outcome.
 */
export async function auditAnalystCommand(config: VigilConfig, logger: Logger, action: string, status: number): Promise<void> {
  const audit = await openAuditLog(config, logger);
  try {
    await audit.append({ at: Date.now(), actor: `os:${userInfo().username}`, role: 'analyst', action, status });
  } finally {
    await audit.close();
  }
}

import { afterAll, beforeAll, expect, it } from 'vitest';

/** What every store port has: it creates its tables, answers a ping and closes. */
export interface ProvisionedPort {
  provision(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The opening every contract suite shares, registered inside its `describe`: the adapter made and
 * provisioned once before the cases (`use` receives it), closed after them, and the first case —
 * provisioning again changes nothing and ping answers.
 */
export function openPortForSuite<T extends ProvisionedPort>(make: () => Promise<T>, use: (port: T) => void, timeoutMs: number): void {
  let port: T | undefined;
  beforeAll(async () => {
    port = await make();
    use(port);
    await port.provision();
  }, timeoutMs);
  afterAll(async () => {
    await port?.close();
  }, timeoutMs);
  it('provision is idempotent and ping answers', async () => {
    await expect(port!.provision()).resolves.toBeUndefined();
    await expect(port!.ping()).resolves.toBeUndefined();
  }, timeoutMs);
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes. Contract suites wait on observed
 * behaviour this way instead of sleeping a fixed time, so a fast adapter finishes fast and a slow
 * emulator only needs a larger timeout.
 */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A per-run prefix so resources of concurrent or earlier runs never collide. */
export function runPrefix(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

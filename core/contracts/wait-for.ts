/**
 * How long tests may wait, and how they wait. Every test that waits does so on a condition with a
 * budget (never a fixed sleep), and every budget goes through `budget()`, so one setting makes the
 * whole suite patient on a slow or busy machine while a fast machine still finishes fast: a
 * condition that holds ends the wait at once, whatever the budget.
 */

/**
 * `VIGIL_TEST_TIME_SCALE`: a multiplier for every test budget (and vitest's test and hook
 * timeouts). Default 1 on a developer's machine, 2 under `CI=true`, where the suite shares its
 * cores with other work; raise it on a machine that is slower still.
 */
export function testTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.VIGIL_TEST_TIME_SCALE?.trim();
  if (raw === undefined || raw === '') return env.CI === 'true' ? 2 : 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`VIGIL_TEST_TIME_SCALE must be a positive number (a multiplier for test budgets), not ${JSON.stringify(raw)}`);
  }
  return scale;
}

const SCALE = testTimeScale();

/** A test's time budget: `ms` as measured on an idle developer machine, scaled by VIGIL_TEST_TIME_SCALE. */
export function budget(ms: number): number {
  return Math.ceil(ms * SCALE);
}

/** Says how a budget was reached, so a timeout message shows whether the scale was applied. */
function describeBudget(ms: number): string {
  return SCALE === 1 ? `${ms} ms` : `${budget(ms)} ms (${ms} ms × VIGIL_TEST_TIME_SCALE ${SCALE})`;
}

/**
 * Polls `condition` until it holds or the budget for `timeoutMs` passes. Contract suites wait on
 * observed behaviour this way instead of sleeping a fixed time, so a fast adapter finishes fast
 * and a slow emulator only needs a larger budget. `what` names what was awaited; `detail`, when
 * given, says what was seen instead (it is read only when the wait fails).
 */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + budget(timeoutMs);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${describeBudget(timeoutMs)} waiting for ${what}${detail ? `; ${detail()}` : ''}`);
    await delay(10);
  }
}

/**
 * Probes (asynchronously) until `accept` holds for the value, and returns that value; on timeout
 * the error names what was awaited and quotes the last value seen, so a failure says what was
 * missing rather than only that time ran out.
 */
export async function eventually<T>(what: string, probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + budget(timeoutMs);
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${describeBudget(timeoutMs)} waiting for ${what}; last seen: ${preview(value)}`);
    await delay(intervalMs);
  }
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 500 ? `${text.slice(0, 500)}… (${text.length} chars)` : text;
}

/**
 * A pause for what a test cannot observe as a condition: letting time pass on purpose (an expiry,
 * a deadline) or giving something that must NOT happen a chance to. Never a wait for something to
 * happen: use `waitFor` or `eventually`.
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A per-run prefix so resources of concurrent or earlier runs never collide. */
export function runPrefix(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

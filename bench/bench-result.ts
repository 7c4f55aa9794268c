/** What one benchmark reports: a title and named figures, printed as a table by bench/run.ts. */
export interface BenchResult {
  readonly name: string;
  readonly figures: Readonly<Record<string, number | string>>;
  /** Set when the benchmark could not run here (missing emulator); says why. */
  readonly skipped?: string;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.min(sortedAscending.length - 1, Math.max(0, Math.ceil(p * sortedAscending.length) - 1));
  return sortedAscending[rank]!;
}

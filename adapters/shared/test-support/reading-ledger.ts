/**
 * What a fault test knows about each reading, so a failure says where every missing one is rather
 * than only "timed out waiting for the store to hold every reading".
 *
 * The test records each reading it sent as `accepted` (the edge or bus said yes) or `refused`, what
 * an independent subscription saw on the bus (`onBus`) and on the dead-letter topic
 * (`deadLettered`); the stores are read at the end. `problems()` then lists, per reading id, what
 * is wrong: an accepted reading missing from a store is placed as "never published" (the bus has
 * no record of it), "dead-lettered", "on the bus, in no store" or "in <store> but not <store>"; a
 * reading twice in a store, or a refused one stored anyway, is a problem too.
 */
export interface ReadingLedger {
  accepted(readingId: string): void;
  refused(readingId: string): void;
  onBus(readingId: string): void;
  deadLettered(readingId: string): void;
  readonly counts: { readonly accepted: number; readonly refused: number; readonly onBus: number; readonly deadLettered: number };
  /** Accepted readings not yet in every store (cheap, for waits). */
  missing(stores: Readonly<Record<string, readonly string[]>>): number;
  /** Every problem, one line each, at most `limit` (default 40) plus a count of the rest. */
  problems(stores: Readonly<Record<string, readonly string[]>>, limit?: number): string[];
}

export function createReadingLedger(): ReadingLedger {
  const accepted = new Set<string>();
  const refused = new Set<string>();
  const bus = new Set<string>();
  const dead = new Set<string>();

  return {
    accepted: (id) => void accepted.add(id),
    refused: (id) => void refused.add(id),
    onBus: (id) => void bus.add(id),
    deadLettered: (id) => void dead.add(id),
    get counts() {
      return { accepted: accepted.size, refused: refused.size, onBus: bus.size, deadLettered: dead.size };
    },
    missing(stores) {
      const sets = Object.values(stores).map((ids) => new Set(ids));
      let n = 0;
      for (const id of accepted) if (sets.some((s) => !s.has(id))) n++;
      return n;
    },
    problems(stores, limit = 40) {
      const names = Object.keys(stores);
      const sets = new Map(names.map((name) => [name, new Set(stores[name])]));
      const lines: string[] = [];
      for (const id of accepted) {
        const inStores = names.filter((n) => sets.get(n)!.has(id));
        if (inStores.length === names.length) continue;
        const lacking = names.filter((n) => !inStores.includes(n));
        let where: string;
        if (dead.has(id)) where = 'dead-lettered';
        else if (inStores.length > 0) where = `in ${inStores.join(' and ')} but not ${lacking.join(' or ')}`;
        else if (bus.size > 0 && !bus.has(id)) where = 'never published (no subscription saw it on the bus)';
        else where = 'on the bus, in no store';
        lines.push(`${id}: accepted, ${where}`);
      }
      for (const id of dead) if (!accepted.has(id) || lines.every((l) => !l.startsWith(`${id}:`))) lines.push(`${id}: dead-lettered (a valid reading must not be)`);
      for (const [name, ids] of Object.entries(stores)) {
        const seen = new Set<string>();
        for (const id of ids) {
          if (seen.has(id)) lines.push(`${id}: more than once in ${name}`);
          seen.add(id);
          if (refused.has(id) && !accepted.has(id)) lines.push(`${id}: refused by the edge, yet in ${name}`);
        }
      }
      return lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines;
    },
  };
}

import { describe, expect, it } from 'vitest';
import { createReadingLedger } from './reading-ledger.ts';

describe('reading ledger', () => {
  it('places each missing reading: never published, on the bus, dead-lettered, in one store but not the other; and flags doubles', () => {
    const ledger = createReadingLedger();
    for (const id of ['ok', 'lost-before-bus', 'stuck', 'dead', 'half']) ledger.accepted(id);
    for (const id of ['ok', 'stuck', 'dead', 'half']) ledger.onBus(id);
    ledger.deadLettered('dead');
    ledger.refused('nope');
    const stores = { bigtable: ['ok', 'half', 'ok'], bigquery: ['ok', 'nope'] };
    expect(ledger.missing(stores)).toBe(4);
    expect(ledger.problems(stores)).toEqual([
      'lost-before-bus: accepted, never published (no subscription saw it on the bus)',
      'stuck: accepted, on the bus, in no store',
      'dead: accepted, dead-lettered',
      'half: accepted, in bigtable but not bigquery',
      'ok: more than once in bigtable',
      'nope: refused by the edge, yet in bigquery',
    ]);
    expect(ledger.problems({ bigtable: ['ok', 'stuck', 'half', 'lost-before-bus', 'dead'] })).toEqual(['dead: dead-lettered (a valid reading must not be)']);
  });
});

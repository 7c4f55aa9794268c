import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Seeded randomness for the simulators (pure-rand's xoroshiro128+ underneath).
 *
 * Every independent part of a simulation (one admission, one device) draws from its own stream,
 * derived from the run seed and a label. So the values one patient gets never depend on how many
 * readings another patient produced or in which order beds were polled: the same seed gives the
 * same ward whatever the rate or the sink.
 */
export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform in [low, high). */
  between(low: number, high: number): number;
  /** Integer uniform in [low, high] (both included). */
  int(low: number, high: number): number;
  /** Normal with the given mean and standard deviation. */
  normal(mean?: number, sd?: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Key drawn with probability proportional to its weight. */
  pickWeighted<K extends string>(weights: Readonly<Record<K, number>>): K;
}

export function createRandom(seed: number, ...labels: readonly (string | number)[]): Random {
  return wrap(xoroshiro128plusFromState(stateFor(seed, labels)));
}

/** 128 bits of state from SHA-256 of the seed and labels: distinct labels give unrelated streams. */
function stateFor(seed: number, labels: readonly (string | number)[]): number[] {
  const digest = createHash('sha256').update(JSON.stringify([seed, ...labels])).digest();
  const state: number[] = [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)];
  // xoroshiro must not start from the all-zero state.
  if (!state.some((word) => word !== 0)) state[0] = 1;
  return state;
}

function wrap(rng: RandomGenerator): Random {
  let spareNormal: number | undefined;
  const uniform = (): number => uniformFloat64(rng);
  const random: Random = {
    uniform,
    between: (low, high) => low + (high - low) * uniform(),
    int: (low, high) => low + Math.floor(uniform() * (high - low + 1)),
    normal(mean = 0, sd = 1) {
      // Box–Muller, keeping the second value of each pair.
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return mean + sd * value;
      }
      const u1 = 1 - uniform();
      const u2 = uniform();
      const radius = Math.sqrt(-2 * Math.log(u1));
      spareNormal = radius * Math.sin(2 * Math.PI * u2);
      return mean + sd * radius * Math.cos(2 * Math.PI * u2);
    },
    chance: (probability) => uniform() < probability,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(uniform() * items.length)] as T;
    },
    pickWeighted<K extends string>(weights: Readonly<Record<K, number>>): K {
      const entries = Object.entries(weights) as [K, number][];
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let target = uniform() * total;
      for (const [key, weight] of entries) {
        target -= weight;
        if (target < 0) return key;
      }
      return entries[entries.length - 1]![0];
    },
  };
  return random;
}

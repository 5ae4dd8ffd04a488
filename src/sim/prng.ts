/**
 * A small seeded pseudo-random generator (mulberry32). The simulator must produce
 * the same data and the same fault sequence for the same seed, so nothing in it may
 * use Math.random.
 */

/** Spreads an arbitrary integer seed (and optional stream number) into a 32-bit state. */
export function mixSeed(seed: number, stream = 0): number {
  // A few rounds of an integer hash so that nearby seeds (1, 2, 3) give unrelated streams.
  let h = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic random numbers from a 32-bit seed. */
export class Prng {
  #state: number;

  /** `seed` is any integer; `stream` separates independent sequences drawn from one seed. */
  constructor(seed: number, stream = 0) {
    this.#state = mixSeed(seed, stream);
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`; 0 and 1 are exact and draw nothing. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick needs a non-empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Up to `count` distinct elements, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    const n = Math.min(count, copy.length);
    // Partial Fisher-Yates: only the first n slots need to be settled.
    for (let i = 0; i < n; i++) {
      const j = this.int(i, copy.length - 1);
      const tmp = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = tmp;
    }
    return copy.slice(0, n);
  }
}

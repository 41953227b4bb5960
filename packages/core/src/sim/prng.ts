/**
 * The simulator's only source of randomness: a seeded PRNG (mulberry32), so the same scenario + policy + seed
 * gives the same bytes on every machine. Math.random is never used.
 */

/** FNV-1a, 32 bit: a small stable string hash for deriving stream seeds and session ids. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  gauss(): number;
}

/** mulberry32: 32-bit state, full period 2^32, passes the usual smoke tests; ample for training noise. */
export function mulberry32(seed: number): Rng {
  return new Mulberry32(seed);
}

/**
 * mulberry32 as a class rather than a closure: its state lives in object fields, which V8 updates in place, where a
 * closure's captured `a` and `spare` were context slots that boxed a fresh heap number on every draw above 2^31 (the
 * simulator draws millions: bench/engine). Same arithmetic, same sequence.
 */
class Mulberry32 implements Rng {
  private a: number;
  /** The second Box–Muller value of the last pair, when `hasSpare`. */
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  gauss(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u1 = this.next();
    while (u1 <= Number.MIN_VALUE) u1 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const phi = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(phi);
    this.hasSpare = true;
    return r * Math.cos(phi);
  }
}

/**
 * An independent stream per purpose ("disturbances", "policy", …) derived from one seed. Separate streams keep the
 * environment identical across policies for the same seed: a novice and an expert face the same noise.
 */
export function rngStream(seed: number, purpose: string): Rng {
  return mulberry32(fnv1a(`${seed >>> 0}:${purpose}`));
}

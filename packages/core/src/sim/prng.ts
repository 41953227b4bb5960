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

/** The mulberry32 sequence of `seed` as a plain function returning floats in [0, 1): for jitter, shuffles, test data. */
export function seededRandom(seed: number): () => number {
  const r = new Mulberry32(seed);
  return () => r.next();
}

/**
 * mulberry32 as a class rather than a closure: its state lives in object fields, which V8 updates in place, where a
 * closure's captured `a` and `spare` were context slots that boxed a fresh heap number on every draw above 2^31 (the
 * simulator draws millions: bench/engine). Same arithmetic, same sequence.
 */
class Mulberry32 implements Rng {
  /**
   * Initialised with a number, not assigned in the constructor only: a field declared without a value starts as
   * undefined, and V8 then keeps it as a generic tagged field in which every state above 2^30 is a fresh heap number.
   */
  private a = 0;
  /** The last Box–Muller pair, handed out from the end: pair[1] (the cosine value) first, then pair[0]. */
  private readonly pair = new Float64Array(2);
  /** How many values of `pair` are still to hand out. */
  private left = 0;

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

  /**
   * Tiny on purpose (under V8's size for functions it always inlines), so the simulator's step loop draws without a
   * call: a double returned across a call that is not inlined is boxed in a fresh heap number, one a step. The pair is
   * drawn by `drawPair`, which returns nothing.
   */
  gauss(): number {
    if (this.left === 0) this.drawPair();
    return this.pair[--this.left]!; // 0 <= left - 1 < 2
  }

  /** Box–Muller: two standard normal values from two uniform draws. */
  private drawPair(): void {
    let u1 = this.next();
    while (u1 <= Number.MIN_VALUE) u1 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const phi = 2 * Math.PI * this.next();
    this.pair[0] = r * Math.sin(phi);
    this.pair[1] = r * Math.cos(phi);
    this.left = 2;
  }
}

/**
 * An independent stream per purpose ("disturbances", "policy", …) derived from one seed. Separate streams keep the
 * environment identical across policies for the same seed: a novice and an expert face the same noise.
 */
export function rngStream(seed: number, purpose: string): Rng {
  return mulberry32(fnv1a(`${seed >>> 0}:${purpose}`));
}

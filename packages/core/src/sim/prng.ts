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
  let a = seed >>> 0;
  let spare: number | undefined;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    gauss() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u1 = next();
      while (u1 <= Number.MIN_VALUE) u1 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const phi = 2 * Math.PI * next();
      spare = r * Math.sin(phi);
      return r * Math.cos(phi);
    },
  };
}

/**
 * An independent stream per purpose ("disturbances", "policy", …) derived from one seed. Separate streams keep the
 * environment identical across policies for the same seed: a novice and an expert face the same noise.
 */
export function rngStream(seed: number, purpose: string): Rng {
  return mulberry32(fnv1a(`${seed >>> 0}:${purpose}`));
}

/**
 * Restart delays: exponential, capped, with deterministic jitter. Attempt n (1-based) waits
 * `min(maxMs, initialMs · factor^(n-1))`, scaled down by up to `jitter` (0…1) with a seeded PRNG — so drivers that
 * crash together do not restart in lock-step, and a test (or a replayed incident) sees the same delays every time.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay that is random: the delay lies in [(1 − jitter)·d, d]. Default 0.2. */
  jitter?: number;
  /** PRNG seed (default: from the driver's name). */
  seed?: number;
}

/** mulberry32: a tiny, well-mixed 32-bit PRNG; plenty for jitter, and reproducible from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string: a stable seed from a driver's name. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    if (
      !(this.initialMs > 0 && this.maxMs >= this.initialMs && this.factor >= 1 && this.jitter >= 0 && this.jitter <= 1)
    )
      throw new RangeError("backoff: need 0 < initialMs ≤ maxMs, factor ≥ 1, 0 ≤ jitter ≤ 1");
    this.random = mulberry32(opts.seed ?? 1);
  }

  /** The un-jittered delay before restart attempt `n` (1-based). */
  ceiling(n: number): number {
    return Math.min(this.maxMs, this.initialMs * this.factor ** Math.max(0, n - 1));
  }

  /** The delay before restart attempt `n`; consumes one PRNG step. */
  delay(n: number): number {
    const d = this.ceiling(n);
    return Math.round(d * (1 - this.jitter * this.random()));
  }
}

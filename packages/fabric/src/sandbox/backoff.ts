import { seededRandom } from "@rtt/core";

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
    this.random = seededRandom(opts.seed ?? 1);
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

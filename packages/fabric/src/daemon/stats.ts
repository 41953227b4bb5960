import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

/** Per-route counters and a latency histogram (ns), reported by `rtt fabric status`. */
export class RouteStats {
  calls = 0;
  ok = 0;
  errors = 0;
  rerouted = 0;
  inflight = 0;
  readonly errorsByCode: Record<string, number> = {};
  private readonly hist: RecordableHistogram = createHistogram();

  /** A call started at `startNs` settled (`ns`: its duration, when the caller already measured it). */
  done(startNs: bigint, code?: string, ns = Number(process.hrtime.bigint() - startNs)): void {
    this.inflight--;
    this.hist.record(Math.max(1, ns));
    if (code === undefined) this.ok++;
    else {
      this.errors++;
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    }
  }

  toJSON() {
    const us = (p: number) => (this.hist.count ? Math.round(this.hist.percentile(p) / 100) / 10 : null);
    return {
      calls: this.calls,
      ok: this.ok,
      errors: this.errors,
      errors_by_code: { ...this.errorsByCode },
      rerouted: this.rerouted,
      inflight: this.inflight,
      p50_us: us(50),
      p99_us: us(99),
    };
  }
}

/** Adds counts into `into` (drops by reason). */
export function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) if (v) into[k] = (into[k] ?? 0) + v;
}

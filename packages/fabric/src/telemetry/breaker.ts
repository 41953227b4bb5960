import { globRe } from "../planner/constraints.js";

/**
 * Circuit breakers of the data path with Envoy's semantics (spec/fabric/breakers.md): per-route concurrency caps that
 * fail fast, naming the overflowing cap as the drop reason, plus outlier ejection. Plain counters and one clock read
 * per state change — no timers, no allocation per call — so the call path pays a few nanoseconds.
 */

/** The caps, named as in Envoy's `circuit_breakers.thresholds` and used as drop reasons. */
export const CAPS = ["max_connections", "max_pending_requests", "max_requests", "max_retries"] as const;
export type CapName = (typeof CAPS)[number];
/** Why a breaker refused a call: the overflowing cap, or the route is ejected (open, or half-open with its probe out). */
export type BreakerDrop = CapName | "ejected";
export type BreakerState = "closed" | "open" | "half-open";
export const BREAKER_STATES: readonly BreakerState[] = ["closed", "open", "half-open"];

export interface BreakerConfig {
  /** Envoy defaults: 1024 connections, pending requests and requests, 3 concurrent retries. */
  max_connections: number;
  max_pending_requests: number;
  max_requests: number;
  max_retries: number;
  /** Consecutive failed calls that eject the route (Envoy's consecutive_5xx; default 5; 0 turns ejection off). */
  consecutive_errors: number;
  /** Ejection lasts base × the number of ejections (default 30 s) … */
  base_ejection_time_ms: number;
  /** … at most this long (default 300 s). */
  max_ejection_time_ms: number;
  /** Every interval a route spends without being ejected takes one off its ejection count (default 10 s). */
  interval_ms: number;
  /** Calls a half-open route lets through at once to probe it (default 1). */
  half_open_calls: number;
}

export const DEFAULT_BREAKER: Readonly<BreakerConfig> = Object.freeze({
  max_connections: 1024,
  max_pending_requests: 1024,
  max_requests: 1024,
  max_retries: 3,
  consecutive_errors: 5,
  base_ejection_time_ms: 30_000,
  max_ejection_time_ms: 300_000,
  interval_ms: 10_000,
  half_open_calls: 1,
});

/** Envoy's default max_ejection_percent; at least one route may always be ejected. */
export const DEFAULT_MAX_EJECTION_PERCENT = 10;

/** What a breaker shows (recorder lines, metrics, `rtt fabric status`). */
export interface BreakerView {
  state: BreakerState;
  /** Caps at their limit now (Envoy's cx_open, rq_pending_open, rq_open, rq_retry_open gauges). */
  caps_open: CapName[];
  connections: number;
  pending: number;
  requests: number;
  retries: number;
  consecutive_errors: number;
  /** The ejection multiplier: ejections in a row, minus one per healthy interval. */
  ejections: number;
  /** Ejections ever (a counter). */
  ejections_total: number;
  /** Ejections refused because max_ejection_percent of the routes were out already (Envoy's ejections_overflow). */
  ejections_overflow: number;
  /** Until when (clock ms) an open route stays open. */
  open_until: number | null;
  /** Refusals by reason, ever. */
  overflow: Record<BreakerDrop, number>;
}

export type Clock = () => number;

/** The breaker of one route. Obtain it from a BreakerSet (which enforces max_ejection_percent across routes). */
export class RouteBreaker {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;
  state: BreakerState = "closed";
  consecutiveErrors = 0;
  ejections = 0;
  ejectionsTotal = 0;
  ejectionsOverflow = 0;
  openUntil = 0;
  /** Calls admitted while half-open and not finished yet. */
  private probes = 0;
  /** When the ejection multiplier was last decayed (or the route last came back). */
  private healthySince = 0;
  readonly overflow: Record<BreakerDrop, number> = {
    max_connections: 0,
    max_pending_requests: 0,
    max_requests: 0,
    max_retries: 0,
    ejected: 0,
  };

  constructor(
    readonly routeId: number,
    public config: BreakerConfig,
    private readonly set: BreakerSet,
  ) {
    this.healthySince = set.now();
  }

  /**
   * Admits one request or says why not. Admitted: call `done(ok)` exactly once when it finishes. The closed state
   * reads no clock; an open route checks whether its ejection time is up (then it turns half-open).
   */
  admit(): BreakerDrop | undefined {
    if (this.state !== "closed") {
      if (this.state === "open") {
        if (this.set.now() < this.openUntil) return this.refuse("ejected");
        this.state = "half-open";
        this.probes = 0;
      }
      if (this.probes >= this.config.half_open_calls) return this.refuse("ejected");
      this.probes++;
    }
    if (this.requests >= this.config.max_requests) {
      if (this.state === "half-open") this.probes--;
      return this.refuse("max_requests");
    }
    this.requests++;
    return undefined;
  }

  /** An admitted request finished: ok, or failed in a way that counts towards ejection (driver error, timeout). */
  done(ok: boolean): void {
    this.requests--;
    if (ok) {
      this.consecutiveErrors = 0;
      if (this.state === "half-open") {
        this.probes = 0;
        this.state = "closed";
        this.healthySince = this.set.now();
      }
      return;
    }
    this.consecutiveErrors++;
    if (this.state === "half-open") {
      this.probes = 0;
      this.eject(true);
    } else if (
      this.state === "closed" &&
      this.config.consecutive_errors > 0 &&
      this.consecutiveErrors >= this.config.consecutive_errors
    )
      this.eject(false);
  }

  /**
   * An admitted request finished with an outcome that says nothing about the route's health (refused by the
   * endpoint's own back-pressure): frees its slot only.
   */
  release(): void {
    this.requests--;
    if (this.state === "half-open") this.probes = 0;
  }

  /** A request about to wait for the endpoint (its queue): refused with max_pending_requests at the cap. */
  enterPending(): BreakerDrop | undefined {
    if (this.pending >= this.config.max_pending_requests) return this.refuse("max_pending_requests");
    this.pending++;
    return undefined;
  }

  exitPending(): void {
    this.pending--;
  }

  /** A connection bound to this route (an SHM lane): refused with max_connections at the cap. */
  connect(): BreakerDrop | undefined {
    if (this.connections >= this.config.max_connections) return this.refuse("max_connections");
    this.connections++;
    return undefined;
  }

  disconnect(): void {
    this.connections--;
  }

  /** A retry about to be sent (Envoy counts concurrent retries): refused with max_retries at the cap. */
  enterRetry(): BreakerDrop | undefined {
    if (this.retries >= this.config.max_retries) return this.refuse("max_retries");
    this.retries++;
    return undefined;
  }

  exitRetry(): void {
    this.retries--;
  }

  /** The state as of now (an open route whose time is up reads as half-open). */
  view(): BreakerView {
    const now = this.set.now();
    this.decay(now);
    const state = this.state === "open" && now >= this.openUntil ? "half-open" : this.state;
    const c = this.config;
    const caps_open: CapName[] = [];
    if (this.connections >= c.max_connections) caps_open.push("max_connections");
    if (this.pending >= c.max_pending_requests) caps_open.push("max_pending_requests");
    if (this.requests >= c.max_requests) caps_open.push("max_requests");
    if (this.retries >= c.max_retries) caps_open.push("max_retries");
    return {
      state,
      caps_open,
      connections: this.connections,
      pending: this.pending,
      requests: this.requests,
      retries: this.retries,
      consecutive_errors: this.consecutiveErrors,
      ejections: this.ejections,
      ejections_total: this.ejectionsTotal,
      ejections_overflow: this.ejectionsOverflow,
      open_until: state === "open" ? this.openUntil : null,
      overflow: { ...this.overflow },
    };
  }

  private refuse(why: BreakerDrop): BreakerDrop {
    this.overflow[why]++;
    return why;
  }

  /** Envoy: one off the multiplier for every interval spent un-ejected. */
  private decay(now: number): void {
    if (this.state !== "closed" || this.ejections === 0 || this.config.interval_ms <= 0) return;
    const n = Math.floor((now - this.healthySince) / this.config.interval_ms);
    if (n > 0) {
      this.ejections = Math.max(0, this.ejections - n);
      this.healthySince += n * this.config.interval_ms;
    }
  }

  private eject(fromHalfOpen: boolean): void {
    const now = this.set.now();
    this.decay(now);
    if (!fromHalfOpen && !this.set.mayEject()) {
      this.ejectionsOverflow++;
      return;
    }
    this.ejections++;
    this.ejectionsTotal++;
    this.state = "open";
    this.openUntil =
      now + Math.min(this.config.base_ejection_time_ms * this.ejections, this.config.max_ejection_time_ms);
    this.consecutiveErrors = 0;
    this.set.changed(this);
  }

  /** Ends an ejection early (operator action, tests). */
  reset(): void {
    this.state = "closed";
    this.consecutiveErrors = 0;
    this.probes = 0;
    this.healthySince = this.set.now();
  }
}

/** One rule of `.rtt/policy.json` `breakers.routes`: fields for routes matching `from`/`to` (globs). */
export interface BreakerRule extends Partial<BreakerConfig> {
  from?: string;
  to?: string;
}

/** `.rtt/policy.json` `breakers` (spec/fabric/policy.schema.json). */
export interface BreakerPolicy {
  defaults?: Partial<BreakerConfig>;
  routes?: BreakerRule[];
  max_ejection_percent?: number;
}

const pick = (o: Partial<BreakerConfig> | undefined): Partial<BreakerConfig> => {
  const out: Partial<BreakerConfig> = {};
  if (!o) return out;
  for (const k of Object.keys(DEFAULT_BREAKER) as (keyof BreakerConfig)[])
    if (typeof o[k] === "number") out[k] = o[k] as number;
  return out;
};

/** A route's configuration: Envoy's defaults, then `defaults`, then every matching rule in the order written. */
export function breakerConfigFor(policy: BreakerPolicy | undefined, from: string, to: string): BreakerConfig {
  let c: BreakerConfig = { ...DEFAULT_BREAKER, ...pick(policy?.defaults) };
  for (const r of policy?.routes ?? [])
    if ((r.from === undefined || globRe(r.from).test(from)) && (r.to === undefined || globRe(r.to).test(to)))
      c = { ...c, ...pick(r) };
  return c;
}

/**
 * The breakers of all routes of a daemon: the "cluster" over which max_ejection_percent applies (as in Envoy, at
 * least one route may always be ejected). `clock` is injectable (tests use a fake one).
 */
export class BreakerSet {
  private readonly byRoute = new Map<number, RouteBreaker>();
  maxEjectionPercent: number;
  /** Called when a route is ejected (logging, tests). */
  onEject: ((b: RouteBreaker) => void) | undefined;

  constructor(
    readonly now: Clock = Date.now,
    private policy: BreakerPolicy = {},
  ) {
    this.maxEjectionPercent = policy.max_ejection_percent ?? DEFAULT_MAX_EJECTION_PERCENT;
  }

  get size(): number {
    return this.byRoute.size;
  }

  get(routeId: number): RouteBreaker | undefined {
    return this.byRoute.get(routeId);
  }

  /** The breaker of `routeId`, created with the policy's configuration for from → to. */
  route(routeId: number, from = "", to = ""): RouteBreaker {
    let b = this.byRoute.get(routeId);
    if (!b) {
      b = new RouteBreaker(routeId, breakerConfigFor(this.policy, from, to), this);
      this.byRoute.set(routeId, b);
    }
    return b;
  }

  /**
   * The routes in force changed (a commit) or the policy did: breakers of routes still served keep their counters
   * and state (calls in flight release them), take the new configuration; routes gone are dropped.
   */
  setRoutes(routes: ReadonlyArray<{ route_id: number; from: string; to: string }>, policy?: BreakerPolicy): void {
    if (policy) {
      this.policy = policy;
      this.maxEjectionPercent = policy.max_ejection_percent ?? DEFAULT_MAX_EJECTION_PERCENT;
    }
    const keep = new Set<number>();
    for (const r of routes) {
      keep.add(r.route_id);
      const b = this.byRoute.get(r.route_id);
      if (b) b.config = breakerConfigFor(this.policy, r.from, r.to);
      else this.route(r.route_id, r.from, r.to);
    }
    for (const id of [...this.byRoute.keys()]) if (!keep.has(id)) this.byRoute.delete(id);
  }

  /** Routes open now. */
  ejected(): number {
    const now = this.now();
    let n = 0;
    for (const b of this.byRoute.values()) if (b.state === "open" && now < b.openUntil) n++;
    return n;
  }

  /** Whether one more route may be ejected: max(1, floor(routes × max_ejection_percent / 100)). */
  mayEject(): boolean {
    const allowed = Math.max(1, Math.floor((this.byRoute.size * this.maxEjectionPercent) / 100));
    return this.ejected() < allowed;
  }

  changed(b: RouteBreaker): void {
    this.onEject?.(b);
  }

  views(): Map<number, BreakerView> {
    const out = new Map<number, BreakerView>();
    for (const [id, b] of this.byRoute) out.set(id, b.view());
    return out;
  }
}

import { existsSync } from "node:fs";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";
import type { PlanRoute } from "../planner/types.js";
import { type BreakerPolicy, BreakerSet, type Clock, type RouteBreaker } from "./breaker.js";
import { fabricRegistry } from "./metrics.js";
import { FlightRecorder, type FlightSnapshot, type RouteInfo, type RouteRecord } from "./recorder.js";

/** A route's breaker and record, looked up once per hook. */
interface Slot {
  b: RouteBreaker | undefined;
  rec: RouteRecord;
}

/** Error codes that say the route's endpoint is unhealthy (count towards outlier ejection). */
const HEALTH_NEUTRAL = new Set(["RTT_FABRIC_OVERLOAD"]);

/**
 * The telemetry of one fabric daemon — flight recorder and breakers — behind the few hooks the daemon calls
 * (spec/fabric/flight.md, "In the daemon"). Every hook is O(1) and allocation-free on the success path:
 * - `admit(route)` before dispatch: the route's breaker (ejection, max_requests); a refusal is counted as a drop
 *   and comes back as an RTT_FABRIC_OVERLOAD error naming the cap;
 * - `queue(route)` when the endpoint is at its concurrency cap (the call will wait): max_pending_requests; the
 *   returned callback ends the wait;
 * - `done(route, ns, code?)` when the call settled after `ns` nanoseconds (latency, outcome, breaker): the daemon
 *   times every call anyway (RouteStats), so the recorder adds no clock read of its own;
 * - `connect(route)` / `disconnect(route)` for connections bound to one route (SHM lanes): max_connections;
 * - `onTable(routes)` when a table comes into force.
 */
export class DaemonTelemetry {
  readonly recorder = new FlightRecorder();
  readonly breakers: BreakerSet;
  private slots = new Map<number, Slot>();

  constructor(
    readonly policyPath: string | undefined,
    clock: Clock = Date.now,
  ) {
    this.breakers = new BreakerSet(clock, this.readPolicy());
  }

  /** `.rtt/policy.json` `breakers` (absent: Envoy's defaults); an unreadable policy keeps the defaults. */
  readPolicy(): BreakerPolicy {
    if (!this.policyPath || !existsSync(this.policyPath)) return {};
    try {
      const doc = readJsonFile(this.policyPath) as { breakers?: BreakerPolicy };
      return doc.breakers ?? {};
    } catch {
      return {};
    }
  }

  /** A table came into force (start, commit): breakers follow its routes and re-read the policy. */
  onTable(routes: readonly PlanRoute[]): void {
    this.breakers.setRoutes(routes, this.readPolicy());
    this.recorder.retain(new Set(routes.map((r) => r.route_id)));
    this.slots = new Map();
  }

  private slot(routeId: number): Slot {
    let s = this.slots.get(routeId);
    if (!s) {
      s = { b: this.breakers.get(routeId), rec: this.recorder.route(routeId) };
      this.slots.set(routeId, s);
    }
    return s;
  }

  admit(routeId: number): void {
    const s = this.slot(routeId);
    const why = s.b?.admit();
    if (why) {
      s.rec.drop(why);
      throw new FabricError("RTT_FABRIC_OVERLOAD", `route ${routeId}: breaker refused the call (${why})`);
    }
    s.rec.inflight++;
  }

  /** The call is about to wait for its endpoint; the callback ends the wait (exactly once). */
  queue(routeId: number): () => void {
    const { b, rec } = this.slot(routeId);
    const why = b?.enterPending();
    if (why) {
      rec.drop(why);
      throw new FabricError("RTT_FABRIC_OVERLOAD", `route ${routeId}: breaker refused the call (${why})`);
    }
    rec.enqueue();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      b?.exitPending();
      rec.dequeue();
    };
  }

  /**
   * An admitted call settled; `code` when it failed. A refusal by the endpoint's own back-pressure
   * (RTT_FABRIC_OVERLOAD) is a drop ("endpoint_overload"), not a call, and says nothing about the route's health.
   */
  done(routeId: number, ns: number, code?: string): void {
    const { b, rec } = this.slot(routeId);
    rec.inflight--;
    if (code !== undefined && HEALTH_NEUTRAL.has(code)) {
      rec.drop("endpoint_overload");
      b?.release();
      return;
    }
    rec.done(ns, code);
    b?.done(code === undefined);
  }

  connect(routeId: number): void {
    const why = this.breakers.get(routeId)?.connect();
    if (why) {
      this.recorder.route(routeId).drop(why);
      throw new FabricError("RTT_FABRIC_OVERLOAD", `route ${routeId}: breaker refused the lane (${why})`);
    }
  }

  disconnect(routeId: number): void {
    this.breakers.get(routeId)?.disconnect();
  }

  snapshot(table: readonly RouteInfo[], planId: string | null, laneDrops: Record<string, Record<string, number>>) {
    return this.recorder.snapshot({
      table,
      planId,
      laneDrops,
      breakers: (id) => this.breakers.get(id)?.view(),
    });
  }

  /** The daemon's Prometheus registry over `snapshot`. */
  registry(snapshot: () => FlightSnapshot, walPath?: string) {
    return fabricRegistry({ snapshot, ...(walPath ? { walPath } : {}) });
  }
}

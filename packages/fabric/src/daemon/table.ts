import { FabricError } from "../errors.js";
import type { PlanRoute } from "../planner/types.js";
import type { ResolvedRoute } from "./protocol.js";

/**
 * The routing table the daemon serves (one plan's `routes`), indexed for the call path. A call names a route_id (data
 * frames) or a symbol (`resolve`). route_ids are stable per (from, to) across plans, so a route_id that left the table
 * still names its `from`: when exactly one route in force leaves that `from`, the call goes there — this is how a
 * client keeps calling through a hot swap that moved its route to another endpoint (counted as `rerouted`).
 */
export class RoutingTable {
  readonly byId = new Map<number, PlanRoute>();
  private readonly byFrom = new Map<string, PlanRoute[]>();
  private readonly byTo = new Map<string, PlanRoute[]>();

  constructor(
    readonly planId: string | null,
    readonly routes: readonly PlanRoute[],
    /** from-symbol of every route_id ever served by this daemon (carried over from table to table). */
    readonly known: Map<number, string> = new Map(),
  ) {
    for (const r of routes) {
      this.byId.set(r.route_id, r);
      this.known.set(r.route_id, r.from);
      push(this.byFrom, r.from, r);
      push(this.byTo, r.to, r);
    }
  }

  /** The next table, sharing the route_id memory. */
  next(planId: string | null, routes: readonly PlanRoute[]): RoutingTable {
    return new RoutingTable(planId, routes, this.known);
  }

  /** The route a data frame's route_id goes to now; `rerouted` when its own route left the table. */
  dispatch(routeId: number): { route: PlanRoute; rerouted: boolean } | undefined {
    const r = this.byId.get(routeId);
    if (r) return { route: r, rerouted: false };
    const from = this.known.get(routeId);
    const now = from === undefined ? undefined : this.byFrom.get(from);
    return now?.length === 1 ? { route: now[0] as PlanRoute, rerouted: true } : undefined;
  }

  /** A symbol's route: the one route leaving it, else the lowest route_id arriving at it (a direct endpoint call). */
  resolve(symbol: string): ResolvedRoute {
    const out = this.byFrom.get(symbol);
    if (out && out.length > 1)
      throw new FabricError(
        "RTT_FABRIC_NO_ROUTE",
        `${out.length} routes leave ${symbol} (${out.map((r) => r.to).join(", ")}): call one by route_id`,
      );
    const r = out?.[0] ?? this.byTo.get(symbol)?.[0];
    if (!r)
      throw new FabricError(
        "RTT_FABRIC_NO_ROUTE",
        `no route from or to ${symbol} in ${this.planId ?? "the empty table"}`,
      );
    return { route_id: r.route_id, from: r.from, to: r.to, lane: r.lane };
  }

  /** Endpoint symbols the table uses. */
  endpoints(): Set<string> {
    return new Set(this.byTo.keys());
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

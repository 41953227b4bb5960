import type { LatencyConstants, TopologyDoc } from "./inputs.js";
import type { Lane } from "./types.js";

/**
 * The planner's latency model (spec/fabric/planner.md): a route's modelled p99 is
 *   base(lane) + numa_hop_ms × (distance(numa(a), numa(b)) / 10 − 1) + the provider's own qos.latency_p99_ms,
 * where distance is the topology's SLIT matrix (10 = local, so ends on one NUMA node add nothing). The bases are the
 * seed's lane targets scaled to what FABRIC.md measured here (futex shm 64 KiB p99 ~80 µs, UDS p99 ~200 µs).
 */
export const DEFAULT_LATENCY: LatencyConstants = { shm_ms: 0.1, uds_ms: 0.3, tcp_ms: 1, numa_hop_ms: 0.5 };

export const latencyConstants = (t: TopologyDoc): LatencyConstants => ({ ...DEFAULT_LATENCY, ...t.latency });

export const laneBase = (c: LatencyConstants, lane: Lane): number =>
  lane === "shm" ? c.shm_ms : lane === "uds" ? c.uds_ms : c.tcp_ms;

/** Modelled p99 in ms of one route; `distance` is the SLIT distance between the ends' NUMA nodes (10 = local). */
export function routeLatency(c: LatencyConstants, lane: Lane, distance: number, endpointMs: number): number {
  return laneBase(c, lane) + c.numa_hop_ms * (distance / 10 - 1) + endpointMs;
}

/** The lane a route gets with its ends on nodes a and b (null: the lane it requires is impossible there). */
export function chooseLane(
  sameNode: boolean,
  offers: { shm: boolean; uds: boolean },
  route: { lane?: Lane; control?: boolean },
): Lane | null {
  if (route.lane) {
    if (route.lane === "tcp") return "tcp";
    return sameNode && offers[route.lane] ? route.lane : null;
  }
  if (!sameNode) return "tcp";
  if (route.control) return offers.uds ? "uds" : "tcp";
  return offers.shm ? "shm" : offers.uds ? "uds" : "tcp";
}

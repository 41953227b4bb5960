/**
 * Prometheus metrics of the diagnostics API, in the seeds' label style:
 *
 *   rtt_beacons_total{service="auth-service",event="heartbeat"}
 *   rtt_drift_events_total{cluster="east",event="structure_change"}
 *
 * Label rule (docs/api/rtt/metrics.md): a site is counted under exactly one of `service` or `cluster`.
 *   1. The site's profile `scope` ("service" | "cluster") when set; the value is the profile `name`,
 *      else the site name.
 *   2. Without a profile scope: `cluster` if the site has ever sent a cluster_heartbeat, else `service`;
 *      the value is the site name.
 * `event` is the beacon event for rtt_beacons_total and the drift kind for rtt_drift_events_total.
 */
import { Counter, type Registry } from "prom-client";
import type { SiteState } from "./drift.js";
import type { Profile } from "./store.js";

export type ScopeLabel = { service: string } | { cluster: string };

export function scopeLabel(
  site: string,
  profile: Profile | undefined,
  state: Pick<SiteState, "cluster_seen"> | undefined,
): ScopeLabel {
  const value = profile?.name ?? site;
  const scope = profile?.scope ?? (state?.cluster_seen ? "cluster" : "service");
  return scope === "cluster" ? { cluster: value } : { service: value };
}

export interface DiagnosticsMetrics {
  beacons: Counter<"service" | "cluster" | "event">;
  drift: Counter<"service" | "cluster" | "event">;
}

/**
 * Registers the counters, or reuses them when the registry already has them (a second plugin
 * instance on the same registry, e.g. in tests, must not throw "already registered").
 */
export function diagnosticsMetrics(registry: Registry): DiagnosticsMetrics {
  const counter = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Counter<"service" | "cluster" | "event"> | undefined) ??
    new Counter({ name, help, labelNames: ["service", "cluster", "event"], registers: [registry] });
  return {
    beacons: counter("rtt_beacons_total", "RTT beacons accepted, by site scope (service or cluster) and event."),
    drift: counter(
      "rtt_drift_events_total",
      "RTT drift events detected, by site scope (service or cluster) and drift kind.",
    ),
  };
}

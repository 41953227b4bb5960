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
 *
 * Scope values come from clients (any new site name is a new series), so they are capped like the
 * session labels: past `maxSiteSeries` distinct values, new ones are counted as "other".
 */

import { OVERFLOW_LABEL } from "@rtt/http";
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

/**
 * Default of the plugin's `maxSiteSeries`: distinct service/cluster label values in /metrics. `rtt serve` passes
 * its own setting (`--max-site-series`, same default).
 */
export const MAX_SITE_SERIES_DEFAULT = 500;

/**
 * Keeps the first `max` distinct scope labels (service and cluster values together) and folds later ones
 * into `{service|cluster: "other"}` — the same overflow value as the server's session labels (OVERFLOW_LABEL). A site
 * already counted keeps its series; the key (service or cluster) is kept so the rule stays readable.
 */
export class ScopeLabelBudget {
  private readonly seen = new Set<string>();
  constructor(readonly max = MAX_SITE_SERIES_DEFAULT) {}

  /** The label to count under; takes one of the `max` places when it is new and one is free. */
  label(l: ScopeLabel): ScopeLabel {
    const out = this.peek(l);
    if (out === l) this.seen.add(keyOf(l));
    return out;
  }

  /** The label `label(l)` would give, without taking a place (GET /sites shows it). */
  peek(l: ScopeLabel): ScopeLabel {
    if (this.seen.has(keyOf(l)) || this.seen.size < this.max) return l;
    return "service" in l ? { service: OVERFLOW_LABEL } : { cluster: OVERFLOW_LABEL };
  }
}

const keyOf = (l: ScopeLabel) => ("service" in l ? `s:${l.service}` : `c:${l.cluster}`);

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

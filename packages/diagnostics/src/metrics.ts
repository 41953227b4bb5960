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
 * Corridor alignment and coherence (seed 001's "corridor alignment indicators", "structural coherence over time"),
 * from POST /api/rtt/corridor and /api/rtt/validate requests that name a `site` (under the same label):
 *
 *   rtt_corridor_alignment_score{cluster="east"} 0.5      last corridor score (when a flow had a budget)
 *   rtt_corridor_checks_total{cluster="east",aligned="true"} 3
 *   rtt_coherence_score{service="auth"} 1                 last coherence score
 *   rtt_coherence_checks_total{service="auth",coherent="true"} 2
 *
 * Scope values come from clients (any new site name is a new series), so they are capped like the
 * session labels: past `maxSiteSeries` distinct values, new ones are counted as "other".
 */

import { OVERFLOW_LABEL } from "@rtt/http";
import { Counter, Gauge, type Registry } from "prom-client";
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

type Scope = "service" | "cluster";

export interface DiagnosticsMetrics {
  beacons: Counter<Scope | "event">;
  drift: Counter<Scope | "event">;
  corridorScore: Gauge<Scope>;
  corridorChecks: Counter<Scope | "aligned">;
  coherenceScore: Gauge<Scope>;
  coherenceChecks: Counter<Scope | "coherent">;
}

/**
 * Registers the counters, or reuses them when the registry already has them (a second plugin
 * instance on the same registry, e.g. in tests, must not throw "already registered").
 */
export function diagnosticsMetrics(registry: Registry): DiagnosticsMetrics {
  const counter = <L extends string>(name: string, help: string, label: L) =>
    (registry.getSingleMetric(name) as Counter<Scope | L> | undefined) ??
    new Counter<Scope | L>({ name, help, labelNames: ["service", "cluster", label], registers: [registry] });
  const gauge = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Gauge<Scope> | undefined) ??
    new Gauge<Scope>({ name, help, labelNames: ["service", "cluster"], registers: [registry] });
  return {
    beacons: counter(
      "rtt_beacons_total",
      "RTT beacons accepted, by site scope (service or cluster) and event.",
      "event",
    ),
    drift: counter(
      "rtt_drift_events_total",
      "RTT drift events detected, by site scope (service or cluster) and drift kind.",
      "event",
    ),
    corridorScore: gauge(
      "rtt_corridor_alignment_score",
      "Last corridor alignment score (0-1) of POST /api/rtt/corridor for the site, by site scope.",
    ),
    corridorChecks: counter(
      "rtt_corridor_checks_total",
      "Corridor analyses of POST /api/rtt/corridor naming a site, by site scope and whether every flow was aligned.",
      "aligned",
    ),
    coherenceScore: gauge(
      "rtt_coherence_score",
      "Last coherence score (0-1) of POST /api/rtt/validate for the site, by site scope.",
    ),
    coherenceChecks: counter(
      "rtt_coherence_checks_total",
      "Coherence validations of POST /api/rtt/validate naming a site, by site scope and whether it was coherent.",
      "coherent",
    ),
  };
}

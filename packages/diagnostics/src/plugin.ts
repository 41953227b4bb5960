/**
 * Fastify plugin for the RTT-Inside diagnostics API (seeds 001/002), mounted at /api/rtt/:
 *
 *   POST /api/rtt/beacon            ingest a beacon (write)       → drift detection, metrics
 *   GET  /api/rtt/sites             sites with last beacon, cadence, drift state
 *   PUT  /api/rtt/profile/:site     register a profile (write)
 *   GET  /api/rtt/profile/:site
 *   GET  /api/rtt/drift?site=&limit=
 *   POST /api/rtt/validate          coherence validation (pure, no write)
 *   POST /api/rtt/corridor          corridor alignment   (pure, no write)
 *   POST /api/rtt/topology          topology decomposition (pure, no write)
 *
 * Register it WITHOUT a prefix and WITHOUT fastify-plugin: the routes carry their full paths, and
 * the error handler and JSON parser below must stay encapsulated to these routes so every bad input
 * here answers {error, details:[{path, message}]} (400, 413 too large, 415 not JSON) without changing
 * the rest of the server.
 */

import { exceedsDepth, MAX_JSON_DEPTH } from "@rtt/core";
import { type HttpError, httpError, installErrorHandler, installValidation, q } from "@rtt/http";
import type { BeaconResponse, SiteSummary, DriftEvent as WireDriftEvent } from "@rtt/sdk";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import { preflightValidate, type ValidateRequest, validateCoherence } from "./coherence.js";
import { analyzeCorridor, type CorridorRequest, preflightCorridor } from "./corridor.js";
import {
  applyBeacon,
  type Beacon,
  cadenceMs,
  type DriftEvent,
  fingerprint,
  isOverdue,
  type SiteState,
} from "./drift.js";
import { diagnosticsMetrics, ScopeLabelBudget, scopeLabel } from "./metrics.js";
import { check, checkSite } from "./schemas.js";
import type { DiagnosticsStore, Profile } from "./store.js";
import { decomposeTopology, preflightTopology, type TopologyRequest } from "./topology.js";

export interface DiagnosticsPluginOptions {
  store: DiagnosticsStore;
  registry: Registry;
  /**
   * Extra authorisation for writes (beacon, profile) when the plugin is embedded alone; reply or throw to refuse.
   * `rtt serve` checks tokens for every route before the body is read (guard.ts) and passes none.
   */
  requireWrite?: (req: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
  /** Epoch-ms clock; injectable so drift tests control cadence. */
  clock?: () => number;
  /** Distinct service/cluster label values in /metrics before new sites count as "other" (default 500). */
  maxSiteSeries?: number;
}

export const DRIFT_LIMIT_DEFAULT = 100;
export const DRIFT_LIMIT_MAX = 1000;
/** `site` is checked against the spec's site definition (checkSite); other parameters are ignored, as always. */
const DRIFT_QUERY = {
  ...q.object({ site: { type: "string" }, limit: q.integer(1, DRIFT_LIMIT_MAX) }),
  additionalProperties: true,
};

export async function diagnosticsPlugin(app: FastifyInstance, opts: DiagnosticsPluginOptions): Promise<void> {
  const { store, requireWrite } = opts;
  const clock = opts.clock ?? Date.now;
  const metrics = diagnosticsMetrics(opts.registry);
  const siteLabels = new ScopeLabelBudget(opts.maxSiteSeries);
  const writeGuard = async (req: FastifyRequest, reply: FastifyReply) => {
    await requireWrite?.(req, reply);
  };

  // The server's one error handler, with this API's wording of body errors and `details` on every answer; route
  // schemas worded by the one formatter, URL parts named `query/<name>`, `params/<name>` as this API documents.
  installErrorHandler(app, { translate: bodyError, alwaysDetails: true });
  installValidation(app, { prefixUrlPaths: true });

  // Deep nesting is refused from the raw bytes: parsing it costs seconds and every recursive consumer
  // (schema validation, canonical JSON, storage) would overflow the stack. Then Fastify's own JSON
  // parser, so prototype-poisoning checks and empty-body errors stay as they were.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const buf = body as Buffer;
    const deepAt = exceedsDepth(buf);
    if (deepAt >= 0) {
      const message = `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${deepAt})`;
      done(httpError("RTT_ERR_INVALID_BODY", "invalid request body", [{ path: "", message }]), undefined);
      return;
    }
    parseJson(req, buf.toString("utf8"), done);
  });

  // Beacons of one site are applied strictly in arrival order: drift detection is a read-modify-write
  // of the site state, and two interleaved beacons would otherwise both compare against the same
  // "previous" state. The queue keeps one process's requests from contending for the lock; across processes on one
  // database the store's recordBeacon holds the site's lock (an advisory lock in PostgreSQL, SQLite's write lock).
  const siteQueues = new Map<string, Promise<unknown>>();
  const serialized = <T>(site: string, fn: () => Promise<T>): Promise<T> => {
    const prev = siteQueues.get(site) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    siteQueues.set(site, tail);
    void tail.then(() => {
      if (siteQueues.get(site) === tail) siteQueues.delete(site);
    });
    return next;
  };

  app.post("/api/rtt/beacon", { preHandler: writeGuard }, async (req): Promise<BeaconResponse> => {
    const beacon = check<Beacon>("beacon", req.body, "beacon");
    const { state, drift } = await serialized(beacon.site, () =>
      // The read, the drift detection and the write in one transaction holding the site's lock: servers sharing
      // one database apply a site's beacons in turn, each against the state the previous one committed.
      store.recordBeacon(beacon.site, (prev) => {
        const now = clock();
        const next = applyBeacon(prev, beacon, now);
        return {
          beacon: { ...beacon, received_at: now, fingerprint: fingerprint(beacon.structure) },
          state: next.state,
          drift: next.drift,
        };
      }),
    );
    const label = siteLabels.label(scopeLabel(beacon.site, await store.getProfile(beacon.site), state));
    metrics.beacons.inc({ ...label, event: beacon.event });
    for (const d of drift) metrics.drift.inc({ ...label, event: d.kind });
    req.log.info(
      { site: beacon.site, event: beacon.event, drift: drift.map((d) => d.kind) },
      `[RTT] ${beacon.event} received`,
    );
    for (const d of drift)
      req.log.warn({ site: d.site, kind: d.kind, details: d.details }, `[RTT] drift detected: ${d.kind}`);
    return {
      status: "ok",
      site: beacon.site,
      event: beacon.event,
      fingerprint: state.fingerprint,
      drift_state: state.drift_state,
      drift: drift.map(driftView),
    };
  });

  app.get("/api/rtt/sites", async () => {
    const now = clock();
    const [sites, profiles] = await Promise.all([store.listSites(), store.listProfiles()]);
    return { sites: sites.map((s) => siteView(s, profiles.get(s.site), now, siteLabels)) };
  });

  app.put<{ Params: { site: string } }>("/api/rtt/profile/:site", { preHandler: writeGuard }, async (req) => {
    const site = checkSite(req.params.site, "params/site");
    const profile = check<Profile>("profile", req.body, "profile");
    await store.putProfile(site, profile, clock());
    return { status: "ok", site, profile };
  });

  app.get<{ Params: { site: string } }>("/api/rtt/profile/:site", async (req) => {
    const site = checkSite(req.params.site, "params/site");
    const profile = await store.getProfile(site);
    if (!profile)
      throw httpError("RTT_ERR_NOT_FOUND", `no profile for site ${site}`, [
        { path: "params/site", message: "has no profile" },
      ]);
    return { site, profile };
  });

  app.get<{ Querystring: { site?: string; limit?: number } }>(
    "/api/rtt/drift",
    { schema: { querystring: DRIFT_QUERY } },
    async (req) => {
      const site = req.query.site === undefined ? undefined : checkSite(req.query.site, "query/site");
      const limit = req.query.limit ?? DRIFT_LIMIT_DEFAULT;
      const events = await store.listDrift({ site, limit });
      return { events: events.map(driftView) };
    },
  );

  /** The scope label a request naming `site` counts under (as its beacons do), or undefined without a site. */
  const labelOf = async (site: string | undefined, profile?: Profile) =>
    site === undefined
      ? undefined
      : siteLabels.label(scopeLabel(site, profile ?? (await store.getProfile(site)), await store.getSite(site)));

  app.post("/api/rtt/validate", { config: { access: "compute" } }, async (req) => {
    preflightValidate(req.body);
    const body = check<ValidateRequest>("validate", req.body, "validate request");
    const result = validateCoherence(body);
    const label = await labelOf(body.site);
    if (label) {
      metrics.coherenceScore.set(label, result.score);
      metrics.coherenceChecks.inc({ ...label, coherent: String(result.coherent) });
    }
    return result;
  });

  app.post("/api/rtt/corridor", { config: { access: "compute" } }, async (req) => {
    preflightCorridor(req.body);
    const body = check<CorridorRequest>("corridor", req.body, "corridor request");
    const profile = body.site === undefined ? undefined : await store.getProfile(body.site);
    const result = analyzeCorridor(body, profile?.latency_budget_ms);
    const label = await labelOf(body.site, profile);
    if (label) {
      if (result.score !== null) metrics.corridorScore.set(label, result.score);
      metrics.corridorChecks.inc({ ...label, aligned: String(result.aligned) });
    }
    return result;
  });

  app.post("/api/rtt/topology", { config: { access: "compute" } }, async (req) => {
    preflightTopology(req.body);
    return decomposeTopology(check<TopologyRequest>("topology", req.body, "topology request"));
  });
}

/** Fastify's body errors in this API's wording, each with a detail at the body (path ""). */
function bodyError(err: FastifyError, req: FastifyRequest): HttpError | undefined {
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return httpError("RTT_ERR_TOO_LARGE", "request body too large", [
      { path: "", message: `the body exceeds the limit of ${req.routeOptions.bodyLimit} bytes` },
    ]);
  if (err.statusCode === 415 || err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    const type = String(req.headers["content-type"] ?? "").slice(0, 100);
    return httpError("RTT_ERR_UNSUPPORTED_MEDIA_TYPE", "unsupported media type", [
      { path: "", message: `send application/json, not ${JSON.stringify(type)}` },
    ]);
  }
  // Body parsing failures (bad JSON, empty body) are bad input like any other.
  if (err.code?.startsWith("FST_ERR_CTP"))
    return httpError("RTT_ERR_INVALID_BODY", "invalid request body", [{ path: "", message: err.message }]);
  return undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A stored drift event on the wire (stored events always have their id). */
function driftView(d: DriftEvent): WireDriftEvent {
  return {
    id: d.id as number,
    site: d.site,
    kind: d.kind,
    at: iso(d.at),
    session: d.session,
    event: d.event,
    details: d.details,
  };
}

function siteView(s: SiteState, profile: Profile | undefined, now: number, labels: ScopeLabelBudget): SiteSummary {
  return {
    site: s.site,
    labels: labels.peek(scopeLabel(s.site, profile, s)),
    first_seen: iso(s.first_seen),
    last_seen: iso(s.last_seen),
    last_event: s.last_event,
    beacons: s.beacons,
    fingerprint: s.fingerprint,
    cadence_ms: cadenceMs(s),
    overdue: isOverdue(s, now),
    drift_state: s.drift_state,
    baseline_fingerprint: s.baseline?.fingerprint ?? null,
    deploying: s.deploy !== null,
    profile: profile ?? null,
  };
}

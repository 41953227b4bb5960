import { evaluateCurriculum } from "@rtt/core";
import { httpError, invalid, NO_QUERY, q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import type { ListQuery, SessionRecord, SortKey } from "../store/types.js";
import { columnsJson, columnsViewJson, eventAt, lowerBound, type ReplaySegment, upperBound } from "./model.js";

const SORTS = ["timestamp", "-timestamp", "score_final", "-score_final", "mastery_level", "-mastery_level"] as const;

const LIST_QUERY = q.object({
  operator: q.string(),
  device_type: q.string(),
  scenario: q.string(),
  difficulty: q.string(),
  mode: q.string(),
  level_min: q.integer(0, 30),
  level_max: q.integer(0, 30),
  has_anomalies: q.boolean(),
  spec_version: q.oneOf("v1", "v2"),
  from: q.timestamp(),
  to: q.timestamp(),
  sort: q.oneOf(...SORTS),
  limit: q.integer(1, 500),
  cursor: q.string(512),
});
interface ListParams {
  operator?: string;
  device_type?: string;
  scenario?: string;
  difficulty?: string;
  mode?: string;
  level_min?: number;
  level_max?: number;
  has_anomalies?: boolean;
  spec_version?: "v1" | "v2";
  from?: string;
  to?: string;
  sort?: (typeof SORTS)[number];
  limit?: number;
  cursor?: string;
}

export const DEFAULT_EVENTS_LIMIT = 10_000;
const EVENTS_QUERY = q.object({ from_t: q.number(), to_t: q.number(), limit: q.integer(1, 100_000) });
const COLUMNS_QUERY = q.object({ from_t: q.number(), to_t: q.number(), max_points: q.integer(100, 2_000_000) });

/** A `from_t`/`to_t` pair, where given both, must not run backwards (a 400 naming from_t otherwise). */
export function assertTimeRange(r: { from_t?: number; to_t?: number }): void {
  if (r.from_t !== undefined && r.to_t !== undefined && r.from_t > r.to_t)
    throw invalid("querystring", [{ path: "from_t", message: "from_t is after to_t" }]);
}

/** Row of GET /replay/sessions (the seed's shape plus the browser's columns). */
export function listItem(r: SessionRecord) {
  return {
    session_id: r.session_id,
    operator_id: r.operator_id,
    operator_display: r.operator_display,
    mastery_level: r.mastery_level,
    timestamp: r.timestamp,
    device: r.device,
    device_type: r.device_type,
    scenario: r.scenario,
    difficulty: r.difficulty,
    mode: r.mode,
    spec_version: r.spec_version,
    segment_count: r.segment_count,
    sample_count: r.sample_count,
    anomaly_count: r.anomaly_count,
    max_severity: r.max_severity,
    score_final: r.score_final,
  };
}

/** The body of `GET /replay/{id}/segments`. */
export function sessionSegments(r: SessionRecord) {
  return { session_id: r.session_id, segments: segmentList(r) };
}

function segmentList(r: SessionRecord) {
  return r.summary.segments.map((s) => ({
    segment_id: s.segment_id,
    label: s.label,
    duration: s.duration,
    sample_count: s.sample_count,
    anomaly_count: s.anomaly_count,
    t_min: s.t_min,
    t_max: s.t_max,
    max_severity: s.max_severity,
  }));
}

/** Cursor = base64url JSON of the sort and the last row's key; bound to the sort it was issued for. */
function encodeCursor(sort: string, after: { value: number; seq: number }): string {
  return Buffer.from(JSON.stringify({ s: sort, v: after.value, q: after.seq })).toString("base64url");
}

function decodeCursor(cursor: string, sort: string): { value: number; seq: number } {
  try {
    const c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { s: unknown; v: unknown; q: unknown };
    if (c.s === sort && typeof c.v === "number" && Number.isFinite(c.v) && Number.isSafeInteger(c.q))
      return { value: c.v, seq: c.q as number };
  } catch {
    // fall through
  }
  throw invalid("querystring", [
    { path: "cursor", message: "not a cursor of this listing (cursors are tied to the sort they came with)" },
  ]);
}

export async function loadSession(ctx: AppContext, id: string): Promise<SessionRecord> {
  const rec = await ctx.store.getSession(id);
  if (!rec) throw httpError("RTT_ERR_NOT_FOUND", `session ${JSON.stringify(id)} not found`);
  return rec;
}

export async function loadSegment(ctx: AppContext, id: string, segmentId: string): Promise<ReplaySegment> {
  const rec = await loadSession(ctx, id);
  if (!rec.summary.segments.some((s) => s.segment_id === segmentId))
    throw httpError(
      "RTT_ERR_NOT_FOUND",
      `segment ${JSON.stringify(segmentId)} not found in session ${JSON.stringify(id)} (segments: ${rec.summary.segments.map((s) => s.segment_id).join(", ")})`,
    );
  const session = await ctx.cache.get(id);
  const seg = session?.segments.get(segmentId);
  if (!seg) throw httpError("RTT_ERR_NOT_FOUND", `session ${JSON.stringify(id)} not found`);
  return seg;
}

type IdParams = { id: string };
type SegParams = { id: string; seg: string };

export function replayRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: ListParams }>(
    "/replay/sessions",
    { schema: { querystring: LIST_QUERY } },
    async (req, reply) => {
      const q = req.query;
      if (q.level_min !== undefined && q.level_max !== undefined && q.level_min > q.level_max)
        throw invalid("querystring", [{ path: "level_min", message: "level_min is above level_max" }]);
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && from > to)
        throw invalid("querystring", [{ path: "from", message: "from is after to" }]);
      const sort = q.sort ?? "-timestamp";
      const query: ListQuery = {
        operator: q.operator,
        device_type: q.device_type,
        scenario: q.scenario,
        difficulty: q.difficulty,
        mode: q.mode,
        spec_version: q.spec_version,
        level_min: q.level_min,
        level_max: q.level_max,
        has_anomalies: q.has_anomalies,
        from_ms: from,
        to_ms: to,
        sort: sort.replace(/^-/, "") as SortKey,
        desc: sort.startsWith("-"),
        limit: q.limit ?? 50,
        after: q.cursor === undefined ? undefined : decodeCursor(q.cursor, sort),
      };
      const page = await ctx.store.listSessions(query);
      if (page.next) {
        const cursor = encodeCursor(sort, page.next);
        const params = new URLSearchParams(req.query as Record<string, string>);
        params.set("cursor", cursor);
        reply.header("X-Next-Cursor", cursor);
        reply.header("Link", `</replay/sessions?${params.toString()}>; rel="next"`);
      }
      return page.rows.map(listItem);
    },
  );

  app.get("/replay/facets", { schema: NO_QUERY }, async () => ctx.store.facets());

  app.get<{ Params: IdParams }>("/replay/:id", async (req) => {
    const r = await loadSession(ctx, req.params.id);
    return {
      ...listItem(r),
      operator_team: r.operator_team,
      engine_version: r.engine_version,
      scores: r.summary.scores,
      triadic: r.summary.triadic,
      segments: segmentList(r),
      // The validator's warnings stored at ingest (spec/VALIDATION.md); [] when none or stored before they were kept.
      warnings: r.summary.warnings ?? [],
    };
  });

  // The seed's shape (seed 000, "Replay Viewer API" §6): `{session_id, segments}` (its later bare-array sketch is
  // the same index without the id; spec/SEED_CHOICES.md says why this one).
  app.get<{ Params: IdParams }>("/replay/:id/segments", async (req) =>
    sessionSegments(await loadSession(ctx, req.params.id)),
  );

  app.get<{ Params: SegParams; Querystring: { from_t?: number; to_t?: number; limit?: number } }>(
    "/replay/:id/segment/:seg/events",
    { schema: { querystring: EVENTS_QUERY } },
    async (req) => {
      const q = req.query;
      assertTimeRange(q);
      const seg = await loadSegment(ctx, req.params.id, req.params.seg);
      const start = q.from_t === undefined ? 0 : lowerBound(seg.times, q.from_t);
      const end = q.to_t === undefined ? seg.times.length : upperBound(seg.times, q.to_t);
      const limit = q.limit ?? DEFAULT_EVENTS_LIMIT;
      const stop = Math.min(end, start + limit);
      const events = [];
      for (let k = start; k < stop; k++) events.push(eventAt(seg, k));
      return { segment_id: seg.segment_id, events, truncated: stop < end };
    },
  );

  app.get<{ Params: SegParams; Querystring: { from_t?: number; to_t?: number; max_points?: number } }>(
    "/replay/:id/segment/:seg/columns",
    { schema: { querystring: COLUMNS_QUERY } },
    async (req, reply) => {
      const q = req.query;
      assertTimeRange(q);
      const seg = await loadSegment(ctx, req.params.id, req.params.seg);
      // Without parameters: the full-resolution body, byte for byte as it always was (cached on the segment).
      const body =
        q.from_t === undefined && q.to_t === undefined && q.max_points === undefined
          ? columnsJson(seg)
          : columnsViewJson(seg, q);
      return reply.type("application/json").send(body);
    },
  );

  app.get<{ Params: IdParams }>("/replay/:id/export", async (req, reply) => {
    const doc = await ctx.store.getDocument(req.params.id);
    if (!doc) throw httpError("RTT_ERR_NOT_FOUND", `session ${JSON.stringify(req.params.id)} not found`);
    const ascii = req.params.id.replace(/[^A-Za-z0-9._-]/g, "_");
    return reply
      .type("application/json")
      .header(
        "Content-Disposition",
        `attachment; filename="${ascii}.json"; filename*=UTF-8''${encodeURIComponent(req.params.id)}.json`,
      )
      .send(doc);
  });

  app.get<{ Params: IdParams }>("/replay/:id/curriculum", async (req) => {
    await loadSession(ctx, req.params.id);
    const session = await ctx.cache.get(req.params.id);
    if (!session) throw httpError("RTT_ERR_NOT_FOUND", `session ${JSON.stringify(req.params.id)} not found`);
    return evaluateCurriculum(session.log);
  });
}

import { evaluateCurriculum } from "@rtt/core";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { httpError } from "../errors.js";
import { assertTimeRange, p, parseQuery } from "../routes/params.js";
import type { ListQuery, SessionRecord, SortKey } from "../store/types.js";
import { columnsJson, columnsViewJson, eventAt, lowerBound, type ReplaySegment, upperBound } from "./model.js";

const SORTS = ["timestamp", "-timestamp", "score_final", "-score_final", "mastery_level", "-mastery_level"] as const;

const LIST_PARAMS = {
  operator: p.string(),
  device_type: p.string(),
  scenario: p.string(),
  difficulty: p.string(),
  mode: p.string(),
  level_min: p.integer(0, 30),
  level_max: p.integer(0, 30),
  has_anomalies: p.boolean(),
  spec_version: p.oneOf("v1", "v2"),
  from: p.isoTime(),
  to: p.isoTime(),
  sort: p.oneOf(...SORTS),
  limit: p.integer(1, 500),
  cursor: p.string(512),
};

const EVENTS_PARAMS = { from_t: p.number(), to_t: p.number(), limit: p.integer(1, 100_000) };
export const DEFAULT_EVENTS_LIMIT = 10_000;
const COLUMNS_PARAMS = { from_t: p.number(), to_t: p.number(), max_points: p.integer(100, 2_000_000) };

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
  throw httpError("RTT_ERR_INVALID_QUERY", "invalid query parameters", [
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
  app.get("/replay/sessions", async (req, reply) => {
    const q = parseQuery(req.query, LIST_PARAMS);
    if (q.level_min !== undefined && q.level_max !== undefined && q.level_min > q.level_max)
      throw httpError("RTT_ERR_INVALID_QUERY", "invalid query parameters", [
        { path: "level_min", message: "level_min is above level_max" },
      ]);
    if (q.from !== undefined && q.to !== undefined && q.from > q.to)
      throw httpError("RTT_ERR_INVALID_QUERY", "invalid query parameters", [
        { path: "from", message: "from is after to" },
      ]);
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
      from_ms: q.from,
      to_ms: q.to,
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
  });

  app.get("/replay/facets", async (req) => {
    parseQuery(req.query, {});
    return ctx.store.facets();
  });

  app.get<{ Params: IdParams }>("/replay/:id", async (req) => {
    const r = await loadSession(ctx, req.params.id);
    return {
      ...listItem(r),
      operator_team: r.operator_team,
      engine_version: r.engine_version,
      scores: r.summary.scores,
      triadic: r.summary.triadic,
      segments: segmentList(r),
    };
  });

  app.get<{ Params: IdParams }>("/replay/:id/segments", async (req) =>
    segmentList(await loadSession(ctx, req.params.id)),
  );

  app.get<{ Params: SegParams }>("/replay/:id/segment/:seg/events", async (req) => {
    const q = parseQuery(req.query, EVENTS_PARAMS);
    assertTimeRange(q);
    const seg = await loadSegment(ctx, req.params.id, req.params.seg);
    const start = q.from_t === undefined ? 0 : lowerBound(seg.times, q.from_t);
    const end = q.to_t === undefined ? seg.times.length : upperBound(seg.times, q.to_t);
    const limit = q.limit ?? DEFAULT_EVENTS_LIMIT;
    const stop = Math.min(end, start + limit);
    const events = [];
    for (let k = start; k < stop; k++) events.push(eventAt(seg, k));
    return { segment_id: seg.segment_id, events, truncated: stop < end };
  });

  app.get<{ Params: SegParams }>("/replay/:id/segment/:seg/columns", async (req, reply) => {
    const q = parseQuery(req.query, COLUMNS_PARAMS);
    assertTimeRange(q);
    const seg = await loadSegment(ctx, req.params.id, req.params.seg);
    // Without parameters: the full-resolution body, byte for byte as it always was (cached on the segment).
    const body =
      q.from_t === undefined && q.to_t === undefined && q.max_points === undefined
        ? columnsJson(seg)
        : columnsViewJson(seg, q);
    return reply.type("application/json").send(body);
  });

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

import { httpError, q } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { lowerBound, type ReplaySegment, sseFrames, upperBound } from "./model.js";
import { assertTimeRange, loadSegment } from "./routes.js";

/** `speed` is a factor on real time (Δt seconds of session time take Δt/speed seconds); `max` is unpaced. */
export const MAX_SPEED = 1_000_000;
const HEARTBEAT_MS = 15_000;
/** Bytes written per burst before yielding to the event loop, so one fast stream cannot starve others. */
const BURST_BYTES = 256 * 1024;

const STREAM_QUERY = q.object({
  speed: { anyOf: [{ const: "max" }, { ...q.number(), exclusiveMinimum: 0, maximum: MAX_SPEED }] },
  from_t: q.number(),
  to_t: q.number(),
  overlay: q.pattern("^\\s*(anomalies|none)\\s*(,\\s*(anomalies|none)\\s*)*$", "anomalies or none"),
  last_event_id: q.integer(-1, 2 ** 31),
});
interface StreamParams {
  speed?: number | "max";
  from_t?: number;
  to_t?: number;
  overlay?: string;
  last_event_id?: number;
}

function sseFrame(event: string, id: number | undefined, data: string): string {
  return `event: ${event}\n${id === undefined ? "" : `id: ${id}\n`}data: ${data}\n\n`;
}

/**
 * GET /replay/{id}/segment/{seg}/stream — Server-Sent Events `sample`, `anomaly`, then `end`.
 * `id:` is the event's index in the segment's merged time order, so `Last-Event-ID` (header, or the
 * `last_event_id` query for clients that cannot set headers) resumes right after it with the same filters.
 * Pacing: event k is due at start + (t_k − t_first)/speed; everything already due is written in one burst,
 * then a single timer waits for the next due event. Writing stops when the client goes away or the
 * socket pushes back (resumed on drain), and on server shutdown.
 */
export function sseRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string; seg: string }; Querystring: StreamParams }>(
    "/replay/:id/segment/:seg/stream",
    { schema: { querystring: STREAM_QUERY } },
    async (req, reply) => {
      const q = req.query;
      assertTimeRange(q);
      let lastId = q.last_event_id;
      const header = req.headers["last-event-id"];
      if (header !== undefined) {
        if (typeof header !== "string" || !/^\d{1,10}$/.test(header.trim()))
          throw httpError("RTT_ERR_INVALID_INPUT", "invalid Last-Event-ID header", [
            { path: "Last-Event-ID", message: "expected an event index" },
          ]);
        lastId = Number(header.trim());
      }
      const seg = await loadSegment(ctx, req.params.id, req.params.seg);
      const speed = q.speed === "max" ? Number.POSITIVE_INFINITY : (q.speed ?? 1);
      const withAnomalies = q.overlay === undefined || q.overlay.split(",").some((part) => part.trim() === "anomalies");
      let k = q.from_t === undefined ? 0 : lowerBound(seg.times, q.from_t);
      if (lastId !== undefined) k = Math.max(k, lastId + 1);
      const end = q.to_t === undefined ? seg.times.length : upperBound(seg.times, q.to_t);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      streamSegment(ctx, seg, res, { start: Math.min(k, end), end, speed, withAnomalies });
    },
  );
}

interface StreamPlan {
  /** 0 <= start <= end <= the segment's frame count. */
  start: number;
  end: number;
  speed: number;
  withAnomalies: boolean;
}

// Hot path: frames are read by index without checks, asserted with `!`. Every index below is a frame index
// k < plan.end, or at most plan.end for offsets (seg.times and seg.order have one entry per frame, offsets one more).
function streamSegment(ctx: AppContext, seg: ReplaySegment, res: import("node:http").ServerResponse, plan: StreamPlan) {
  let k = plan.start;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let done = false;
  const t0 = k < plan.end ? seg.times[k]! : 0;
  const wall0 = performance.now();

  const stop = () => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    if (heartbeat) clearInterval(heartbeat);
    unregister();
    if (!res.writableEnded) res.end();
  };
  const unregister = ctx.streams.add(stop);
  res.on("close", stop);
  res.on("error", stop);
  heartbeat = setInterval(() => {
    if (!done) res.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const dueAt = (i: number) => wall0 + ((seg.times[i]! - t0) / plan.speed) * 1000;
  const { buf, offsets } = sseFrames(seg);

  /** Frames [from, to) as one buffer; without the anomaly overlay, only the sample frames. */
  const slice = (from: number, to: number): Buffer => {
    if (plan.withAnomalies) return buf.subarray(offsets[from], offsets[to]);
    const runs: Buffer[] = [];
    let runStart = -1;
    for (let i = from; i <= to; i++) {
      const isSample = i < to && seg.order[i]! >= 0;
      if (isSample && runStart < 0) runStart = i;
      else if (!isSample && runStart >= 0) {
        runs.push(buf.subarray(offsets[runStart], offsets[i]));
        runStart = -1;
      }
    }
    const [only] = runs;
    return runs.length === 1 && only ? only : Buffer.concat(runs);
  };

  const pump = () => {
    timer = undefined;
    if (done) return;
    const now = performance.now();
    const from = k;
    const limit = offsets[from]! + BURST_BYTES;
    while (k < plan.end && offsets[k]! < limit && dueAt(k) <= now) k++;
    const chunk = k > from ? slice(from, k) : undefined;
    if (k >= plan.end) {
      if (chunk) res.write(chunk);
      res.write(sseFrame("end", undefined, "{}"));
      stop();
      return;
    }
    const writable = !chunk || res.write(chunk);
    if (!writable) {
      res.once("drain", pump);
      return;
    }
    const wait = dueAt(k) - performance.now();
    if (wait <= 0) setImmediate(pump);
    else timer = setTimeout(pump, Math.min(wait, 2 ** 31 - 1));
  };
  pump();
}

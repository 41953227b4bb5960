import { HttpError, httpError } from "@rtt/http";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { AppContext } from "../context.js";
import { splitNdjson } from "../ingest/ndjson.js";
import { applyStrict, type PreparedSession, warningJson } from "../ingest/prepare.js";
import { prepareBodies, sharedPreparePool } from "../ingest/prepare-pool.js";
import type { IngestResult } from "../ingest/service.js";
import { JSON_TYPE, mediaType, NDJSON_TYPES } from "../media.js";

export interface LineResult {
  line: number;
  status: number;
  session_id?: string;
  /** The project's rules this line breaks (accepted lines only; absent when none). */
  warnings?: Array<ReturnType<typeof warningJson>>;
  error?: string;
  details?: Array<{ path?: string; message: string }>;
}

const STATUS: Record<IngestResult["status"], number> = { created: 201, duplicate: 200, conflict: 409 };

/**
 * POST /sessions — one log (application/json) or a batch (application/x-ndjson).
 * Registered in its own encapsulated context: here the body parsers keep the raw bytes (stored byte for
 * byte) and any other content type is a 415.
 */
export async function sessionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  sharedPreparePool(); // start the prepare workers now, not on the first request
  app.removeAllContentTypeParsers();
  const raw = (_req: unknown, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser(JSON_TYPE, { parseAs: "buffer" }, raw);
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: "buffer" }, raw);
  app.addContentTypeParser("*", (req, _payload, done) => {
    ctx.metrics.rejected("unsupported_media");
    done(
      httpError(
        "RTT_ERR_UNSUPPORTED_MEDIA_TYPE",
        `unsupported content type ${JSON.stringify(String(req.headers["content-type"] ?? "").slice(0, 100))}: send application/json (one session) or application/x-ndjson (a batch)`,
      ),
    );
  });

  app.post("/sessions", async (req, reply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body)) {
      ctx.metrics.rejected("unsupported_media");
      throw httpError(
        "RTT_ERR_UNSUPPORTED_MEDIA_TYPE",
        "missing content type: send application/json or application/x-ndjson",
      );
    }
    const type = mediaType(req.headers);
    // Tracked so shutdown finishes bodies already received, even when their client has gone.
    return ctx.ingest.track(NDJSON_TYPES.includes(type) ? ingestBatch(ctx, body, reply) : ingestOne(ctx, body, reply));
  });
}

async function ingestOne(ctx: AppContext, body: Buffer, reply: FastifyReply) {
  const [raw] = await prepareBodies([body]);
  const prepared = applyStrict(raw!, ctx.strict); // one body, one result
  if (!prepared.ok) {
    ctx.metrics.rejected(prepared.reason);
    throw httpError(
      prepared.reason === "bad_json" ? "RTT_ERR_INVALID_BODY" : "RTT_ERR_INVALID_INPUT",
      prepared.error,
      prepared.details,
    );
  }
  const result = await ctx.ingest.ingest(prepared.session);
  if (result.status === "conflict")
    throw httpError(
      "RTT_ERR_CONFLICT",
      `session ${result.session_id} already exists with different content`,
      undefined,
      {
        extra: { session_id: result.session_id },
      },
    );
  // Additive: clients that read only session_id are unaffected; `code` names the rule (spec/VALIDATION.md).
  const warnings = prepared.session.warnings.map(warningJson);
  return reply
    .code(STATUS[result.status])
    .send(warnings.length ? { session_id: result.session_id, warnings } : { session_id: result.session_id });
}

/**
 * Each line is validated on its own; valid lines are committed (group commit) and acknowledged per line.
 * Status: 201 all lines created; 200 all accepted (some duplicates); 207 mixed; when no line was accepted,
 * the lines' common status (400, 409 or 503), else 400. The body always lists every line's result.
 */
async function ingestBatch(ctx: AppContext, body: Buffer, reply: FastifyReply) {
  const lines = splitNdjson(body);
  if (lines.length === 0) {
    ctx.metrics.rejected("bad_json");
    throw httpError("RTT_ERR_INVALID_BODY", "empty NDJSON body: send one session log per line");
  }
  const results: LineResult[] = new Array(lines.length);
  const accepted: Array<{ index: number; line: number; session: PreparedSession }> = [];
  const preparedLines = (await prepareBodies(lines.map((l) => l.bytes))).map((p) => applyStrict(p, ctx.strict));
  // prepareBodies answers one result per body, in order: results, preparedLines and lines share their indexes, and
  // outcomes (below) those of accepted.
  lines.forEach(({ line }, index) => {
    const prepared = preparedLines[index]!;
    if (prepared.ok) accepted.push({ index, line, session: prepared.session });
    else {
      ctx.metrics.rejected(prepared.reason);
      results[index] = { line, status: 400, error: prepared.error, details: prepared.details };
    }
  });
  const outcomes = await Promise.allSettled(accepted.map((a) => ctx.ingest.ingest(a.session)));
  outcomes.forEach((o, k) => {
    const { index, line, session } = accepted[k]!;
    if (o.status === "fulfilled") {
      const r = o.value;
      const warnings = session.warnings;
      results[index] = {
        line,
        status: STATUS[r.status],
        session_id: r.session_id,
        ...(warnings.length && r.status !== "conflict" ? { warnings: warnings.map(warningJson) } : {}),
        ...(r.status === "conflict" ? { error: "session_id already exists with different content" } : {}),
      };
    } else results[index] = { line, status: 503, error: "not stored: storage unavailable, retry this line" };
  });
  const created = results.filter((r) => r.status === 201).length;
  const duplicate = results.filter((r) => r.status === 200).length;
  const failed = results.length - created - duplicate;
  const [firstFailure, ...otherFailures] = new Set(results.filter((r) => r.status >= 300).map((r) => r.status));
  const status =
    failed === 0
      ? created > 0
        ? 201
        : 200
      : created + duplicate > 0
        ? 207
        : firstFailure !== undefined && otherFailures.length === 0
          ? firstFailure
          : 400;
  const summary = { created, duplicate, failed, results };
  if (status >= 400)
    throw new HttpError(
      status,
      "RTT_ERR_BATCH_REJECTED",
      "no line of the batch was accepted",
      results.flatMap((r) =>
        r.details?.length
          ? r.details.map((d) => ({ line: r.line, message: `${d.path ?? ""}: ${d.message}` }))
          : [{ line: r.line, message: r.error ?? "rejected" }],
      ),
      // Only storage failures make every line 503: the whole batch may be sent again shortly.
      { extra: summary, headers: status === 503 ? { "retry-after": "1" } : undefined },
    );
  return reply.code(status).send(summary);
}

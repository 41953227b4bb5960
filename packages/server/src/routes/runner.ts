import { randomBytes } from "node:crypto";
import {
  buildSessionV1,
  listScenarios,
  referenceRunV1,
  referenceRunV2,
  type SessionLog,
  type SessionLogV2,
  type SimulateOptions,
  sessionLogBuffer,
  simulateSession,
} from "@rtt/core";
import { HttpError, httpError, q } from "@rtt/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../context.js";
import type { Access } from "../guard.js";
import { prepareSession } from "../ingest/prepare.js";

/** Fields an optional /run or /run/v2 body may carry (all optional). */
interface RunBody {
  scenario?: string;
  policy?: string;
  seed?: number;
  operator_id?: string;
  operator_display?: string;
  operator_team?: string;
  mastery_level?: number;
  mode?: "TRAINING" | "LIVE" | "REPLAY";
  session_id?: string;
}

/** The body of /run and /run/v2: optional, an object of these options when given. */
const RUN_BODY = q.nullable(
  q.object({
    scenario: q.string(200),
    policy: q.string(200),
    seed: q.integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    operator_id: q.pattern("^urn:operator:\\S{1,200}$", "urn:operator:<id>"),
    operator_display: q.anyString(200),
    operator_team: q.anyString(200),
    mastery_level: q.integer(0, 30),
    mode: q.oneOf("TRAINING", "LIVE", "REPLAY"),
    session_id: q.pattern("^[\\x21-\\x7e]{1,128}$", "1-128 printable ASCII characters"),
  }),
);

/** `?store=true` keeps the run as a session (a write); without it a run is computed and returned, nothing stored. */
const RUN_QUERY = q.object({ store: q.boolean() });

/**
 * The access level of a run, from the request's head (the guard decides before any body is read): a run that
 * stores is a write; one that only computes needs no token, as the seed's runner (`curl -X POST …/run`). Any
 * `store` value but "false" counts as asking to store, so a malformed one is refused only after the token check.
 */
function runAccess(req: FastifyRequest): Access {
  const store = (req.query as Record<string, unknown> | undefined)?.store;
  return req.method === "POST" && store !== undefined && store !== "false" ? "write" : "public";
}

const newSessionId = (prefix: string) =>
  `${prefix}-${new Date().toISOString().replace(/[-:.]/g, "")}-${randomBytes(4).toString("hex")}`;

function simulate(opts: RunBody, sessionId: string, timestamp: string): SessionLogV2 {
  const scenarios = listScenarios().map((s) => s.id);
  const scenario = opts.scenario ?? scenarios[0];
  if (!scenario || !scenarios.includes(scenario))
    throw httpError("RTT_ERR_INVALID_INPUT", "unknown scenario", [
      { path: "/scenario", message: `known scenarios: ${scenarios.join(", ")}` },
    ]);
  const { session_id: _id, ...rest } = opts;
  try {
    return simulateSession({ ...rest, scenario, session_id: sessionId, timestamp } as SimulateOptions);
  } catch (e) {
    // The simulator rejects options it cannot honour (e.g. an unknown policy): the caller's to fix.
    throw httpError("RTT_ERR_INVALID_INPUT", `cannot run scenario: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A v1 flat log from a simulated v2 run: its `main` segment (or first), operator fields kept as extras. */
function toV1(v2: SessionLogV2): SessionLog {
  const main = v2.segments?.find((s) => s.label === "main") ?? v2.segments?.[0];
  const samples = main?.samples ?? v2.samples ?? [];
  const log = buildSessionV1(
    {
      session_id: v2.session_id,
      timestamp: v2.timestamp,
      device: v2.device,
      scenario: v2.scenario,
      difficulty: v2.difficulty,
    },
    samples,
    main?.anomalies ?? [],
    {
      stability: v2.scores.stability,
      response: v2.scores.response,
      quality: v2.scores.quality,
      final: v2.scores.final,
    },
  );
  for (const k of ["operator_id", "operator_display", "operator_team", "mastery_level"] as const)
    if (v2[k] !== undefined) (log as Record<string, unknown>)[k] = v2[k];
  return log;
}

/**
 * The seed's runner API: /healthz, /run, /run/v2, /validate, /metrics. As the seed's runner, /run and /run/v2
 * compute a session log and return it — storing nothing, unless asked with `POST …?store=true` — and answer any
 * body-less request, `GET` included (the seed's Go handlers take every method). Compute-only runs and /validate
 * need no token; a storing run is a write (docs/security.md).
 */
export function runnerRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/healthz", { config: { access: "public" } }, async () => ctx.selfCheckMonitor.health());

  app.get("/metrics", { config: { access: "public" } }, async (_req, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  // `Content-Type: application/json` with no body (or only whitespace) is a run without options, as the seed's
  // runner ignores the body; anything else goes through Fastify's own JSON parser (prototype-poisoning checks).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, null);
    parseJson(req, text, done);
  });

  const run =
    (version: "v1" | "v2") =>
    async (req: FastifyRequest<{ Body: RunBody | null; Querystring: { store?: boolean } }>, reply: FastifyReply) => {
      const store = req.query.store === true;
      if (store && req.method !== "POST")
        throw httpError(
          "RTT_ERR_INVALID_INPUT",
          "a GET run stores nothing: to store the run, POST it with ?store=true",
          [{ path: "query/store", message: "only POST stores" }],
        );
      const body = req.body ?? null;
      const opts = body && Object.keys(body).length ? body : undefined;
      const started = performance.now();
      ctx.metrics.runRequests.inc();
      try {
        const timestamp = new Date().toISOString();
        const sessionId = opts?.session_id ?? newSessionId(version === "v1" ? "RTT-RUN" : "RTT-RUN-V2");
        let log: SessionLog;
        if (opts && Object.keys(opts).some((k) => k !== "session_id")) {
          const v2 = simulate(opts, sessionId, timestamp);
          log = version === "v1" ? toV1(v2) : v2;
        } else {
          log =
            version === "v1"
              ? referenceRunV1({ session_id: sessionId, timestamp })
              : referenceRunV2({ session_id: sessionId, timestamp });
        }
        const raw = sessionLogBuffer(log); // a simulated log's bytes straight from its columns
        // The engine's output passes the ingest gate whether it is stored or not (a run is self-validating).
        const prepared = prepareSession(raw);
        if (!prepared.ok) {
          req.log.error({ reason: prepared.reason, error: prepared.error }, "engine produced an invalid session");
          throw new HttpError(500, "RTT_ERR_INTERNAL", "the engine produced an invalid session log");
        }
        if (store) {
          const result = await ctx.ingest.ingest(prepared.session);
          if (result.status === "conflict")
            throw httpError("RTT_ERR_CONFLICT", `session ${sessionId} already exists with different content`);
        }
        return reply.code(200).type("application/json").send(raw);
      } finally {
        ctx.metrics.lastRunDuration.observe((performance.now() - started) / 1000);
      }
    };

  const config = { access: runAccess };
  const postRun = { schema: { body: RUN_BODY, querystring: RUN_QUERY }, config };
  const getRun = { schema: { querystring: RUN_QUERY }, config };
  app.post("/run", postRun, run("v1"));
  app.post("/run/v2", postRun, run("v2"));
  app.get("/run", getRun, run("v1"));
  app.get("/run/v2", getRun, run("v2"));

  // Runs the engine and the conformance gate, stores nothing: no token, as the seed's `curl -X POST …/validate`.
  app.post("/validate", { config: { access: "public" } }, async () => {
    ctx.metrics.validateRequests.inc();
    const result = ctx.selfCheckMonitor.run();
    ctx.metrics.conformanceOk.set(result.ok ? 1 : 0);
    if (result.ok) return { status: "ok" };
    throw httpError("RTT_ERR_SELF_CHECK_FAILED", result.reason, undefined, { extra: { status: "failed" } });
  });
}

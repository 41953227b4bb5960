import { randomBytes } from "node:crypto";
import {
  buildSessionV1,
  listScenarios,
  referenceRunV1,
  referenceRunV2,
  type SessionLog,
  type SessionLogV2,
  type SimulateOptions,
  simulateSession,
} from "@rtt/core";
import { HttpError, httpError, q } from "@rtt/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../context.js";
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

/** The seed's runner API: /healthz, /run, /run/v2, /validate, /metrics. */
export function runnerRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/healthz", { config: { access: "public" } }, async () => ctx.selfCheckMonitor.health());

  app.get("/metrics", { config: { access: "public" } }, async (_req, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  const run = (version: "v1" | "v2") => async (req: FastifyRequest<{ Body: RunBody | null }>, reply: FastifyReply) => {
    const opts = req.body && Object.keys(req.body).length ? req.body : undefined;
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
      const raw = Buffer.from(JSON.stringify(log));
      const prepared = prepareSession(raw);
      if (!prepared.ok) {
        req.log.error({ reason: prepared.reason, error: prepared.error }, "engine produced an invalid session");
        throw new HttpError(500, "RTT_ERR_INTERNAL", "the engine produced an invalid session log");
      }
      const result = await ctx.ingest.ingest(prepared.session);
      if (result.status === "conflict")
        throw httpError("RTT_ERR_CONFLICT", `session ${sessionId} already exists with different content`);
      return reply.code(200).type("application/json").send(raw);
    } finally {
      ctx.metrics.lastRunDuration.observe((performance.now() - started) / 1000);
    }
  };

  app.post("/run", { schema: { body: RUN_BODY } }, run("v1"));
  app.post("/run/v2", { schema: { body: RUN_BODY } }, run("v2"));

  app.post("/validate", { config: { access: "compute" } }, async () => {
    ctx.metrics.validateRequests.inc();
    const result = ctx.selfCheckMonitor.run();
    ctx.metrics.conformanceOk.set(result.ok ? 1 : 0);
    if (result.ok) return { status: "ok" };
    throw httpError("RTT_ERR_SELF_CHECK_FAILED", result.reason, undefined, { extra: { status: "failed" } });
  });
}

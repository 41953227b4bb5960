import websocket from "@fastify/websocket";
import { type CTFEvent, type CTFIssue, loadEventsText, loadTraceText, parseCTFText, validateCTFText } from "@rtt/ctf";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type LiveSocket, LiveTrace, Subscriber } from "./live.js";
import { CtfStore, deriveId, ID_PATTERN } from "./store.js";

export interface CtfPluginOptions {
  dataDir: string;
  /** Guards the write routes (POST /ctf, POST /ctf/:id/events), e.g. a bearer-token check. */
  requireWrite?: (req: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
  /** Largest upload or append body (default 256 MiB). */
  maxBodyBytes?: number;
  /** Unsent bytes a live subscriber may hold before messages to it are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
}

const MAX_ISSUES = 50;
const errorsOf = (issues: CTFIssue[]) => issues.filter((i) => i.severity === "error");

/**
 * Corridor Trace File API.
 *   POST /ctf[?id=]            upload a complete .ctf (NDJSON body), validated; 201 {id,…} or 400 {issues}
 *   GET  /ctf                  list: id, task_id, steps, final_status, complete, …
 *   GET  /ctf/:id/raw          the stored file as NDJSON
 *   GET  /api/corridor/:id     the parsed trace as JSON (what the corridor viewer loads)
 *   POST /ctf/:id/events       live append (NDJSON), each event checked in context; broadcast to viewers
 *   GET  /ctf/:id/live         WebSocket: every appended event as {type:"event",seq,step,q,status,event};
 *                              ?from=start (default) first replays the stored events, ?from=end does not.
 *
 * WebSocket support: this plugin registers @fastify/websocket in its own scope unless the host already
 * did (checked with `hasDecorator("websocketServer")`), so the host needs to do nothing.
 * Register it encapsulated (plain `app.register(ctfPlugin, opts)`): it replaces the body parsers of its
 * own scope with a raw-text parser for NDJSON uploads.
 */
export async function ctfPlugin(app: FastifyInstance, opts: CtfPluginOptions): Promise<void> {
  const store = new CtfStore(opts.dataDir);
  await store.init();
  const bodyLimit = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  // Wrapped in an async hook so a synchronous guard cannot leave Fastify waiting for a `done` callback.
  const requireWrite = opts.requireWrite;
  const guard = requireWrite
    ? {
        preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
          await requireWrite(req, reply);
        },
      }
    : {};
  const live = new Map<string, Promise<LiveTrace>>();

  if (!app.hasDecorator("websocketServer")) await app.register(websocket);

  // Bodies are CTF text whatever the declared type (curl --data-binary sends form-urlencoded by default).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_req, body, done) => done(null, body));

  const badId = (id: string, reply: FastifyReply) => {
    if (ID_PATTERN.test(id)) return false;
    reply.code(400).send({ error: `invalid trace id ${JSON.stringify(id)}: use letters, digits, . _ - (max 128)` });
    return true;
  };

  /**
   * The live state of a trace, loaded from its file on first use. The promise is what is cached, so callers that
   * arrive together (two viewers connecting, a viewer and the first append) share one LiveTrace instead of each
   * building its own while the file is read — a viewer on an orphaned copy would never hear of an append.
   */
  const liveTrace = (id: string): Promise<LiveTrace> => {
    let t = live.get(id);
    if (!t) {
      t = (async () => {
        const trace = new LiveTrace(id);
        if (await store.exists(id)) trace.reload(await store.readText(id));
        return trace;
      })();
      live.set(id, t);
      // A failed load (unreadable file) must not stick: the next caller tries again.
      t.catch(() => live.delete(id));
    }
    return t;
  };

  app.post<{ Querystring: { id?: string } }>("/ctf", { ...guard, bodyLimit }, async (req, reply) => {
    const text = typeof req.body === "string" ? req.body : "";
    if (!text.trim()) return reply.code(400).send({ error: "empty body: send the .ctf file as the request body" });
    const report = validateCTFText(text);
    const errors = errorsOf(report.issues);
    if (errors.length > 0) {
      return reply
        .code(400)
        .send({ error: `invalid CTF: ${errors.length} errors`, issues: report.issues.slice(0, MAX_ISSUES) });
    }
    const header = report.validator.header!;
    const id = req.query.id ?? deriveId(header.task_id, text);
    if (badId(id, reply)) return reply;
    const create = async (): Promise<boolean> => {
      if (await store.exists(id)) return false;
      await store.create(id, text);
      return true;
    };
    // Viewers already waiting on this id (a live trace is loaded) hear the upload as if it had been appended live.
    const waiting = live.get(id);
    const created = waiting
      ? await (await waiting).exclusive(async () => {
          const trace = await waiting;
          if (!(await create())) return false;
          parseCTFText(text, (l) => {
            if (l.issue) return;
            trace.validator.push(l.value, l.line);
            const { seq, message } = trace.prepare(l.value as CTFEvent);
            trace.publish(seq, message);
          });
          return true;
        })
      : await create();
    if (!created) {
      // Same id and same bytes is a retry of an accepted upload; anything else must not overwrite it.
      if ((await store.readText(id)) === text) return reply.code(200).send({ id, created: false });
      return reply.code(409).send({ error: `trace ${id} already exists` });
    }
    return reply.code(201).send({
      id,
      created: true,
      task_id: header.task_id,
      steps: report.validator.state?.nodes.length ?? 0,
      final_status: report.validator.footer?.final_status,
      warnings: report.issues.filter((i) => i.severity === "warning").slice(0, MAX_ISSUES),
    });
  });

  app.get("/ctf", async () => ({ traces: await store.list() }));

  app.get<{ Params: { id: string } }>("/ctf/:id/raw", async (req, reply) => {
    if (badId(req.params.id, reply)) return reply;
    if (!(await store.exists(req.params.id))) return reply.code(404).send({ error: `no trace ${req.params.id}` });
    return reply.type("application/x-ndjson").send(await store.readText(req.params.id));
  });

  app.get<{ Params: { id: string } }>("/api/corridor/:id", async (req, reply) => {
    const { id } = req.params;
    if (badId(id, reply)) return reply;
    if (!(await store.exists(id))) return reply.code(404).send({ error: `no trace ${id}` });
    const text = await store.readText(id);
    const { events } = loadEventsText(text, false);
    const t = loadTraceText(text, { recompute: false, requireFooter: false });
    return {
      id,
      header: t.header,
      footer: t.footer,
      complete: t.footer !== null,
      final_status: t.finalStatus,
      lineage: t.lineage.map((n) => n.id),
      steps: t.steps.map((n) => ({
        ...n.event,
        valid: n.valid,
        on_lineage: n.onLineage,
        q: n.q ? { ...n.q, type: undefined, step_id: undefined } : null,
        corridor_status: n.status ?? null,
        violations: n.violations ?? [],
      })),
      rewinds: t.rewinds,
      status_timeline: t.statusChanges,
      events,
      issues: t.issues.slice(0, MAX_ISSUES),
    };
  });

  app.post<{ Params: { id: string } }>("/ctf/:id/events", { ...guard, bodyLimit }, async (req, reply) => {
    const { id } = req.params;
    if (badId(id, reply)) return reply;
    const text = typeof req.body === "string" ? req.body : "";
    const trace = await liveTrace(id);
    return trace.exclusive(async () => {
      if (trace.complete) return reply.code(409).send({ error: `trace ${id} is complete (footer written)` });
      // Check events one by one against the live replay; the valid prefix is kept, the rest refused.
      const accepted: Array<{ seq: number; message: string }> = [];
      const acceptedText: string[] = [];
      let rejected: { body_line: number; issues: CTFIssue[] } | undefined;
      const base = trace.validator.events;
      parseCTFText(text, (l) => {
        if (rejected) return;
        const fileLine = base + accepted.length + 1;
        if (l.issue) {
          rejected = { body_line: l.line, issues: [{ ...l.issue, line: fileLine }] };
          return;
        }
        const issues = trace.validator.push(l.value, fileLine);
        const errs = errorsOf(issues);
        if (errs.length) rejected = { body_line: l.line, issues: errs };
        else {
          accepted.push(trace.prepare(l.value as CTFEvent));
          acceptedText.push(l.raw);
        }
      });
      if (accepted.length) {
        // One append per request: the accepted prefix lands whole, in order, before anyone hears of it.
        await store.append(id, `${acceptedText.join("\n")}\n`);
        for (const a of accepted) trace.publish(a.seq, a.message);
      }
      if (rejected) {
        // The validator saw the rejected event; rebuild it from what is actually stored.
        trace.reload(await store.readText(id).catch(() => ""));
        return reply.code(400).send({ error: "event rejected", accepted: accepted.length, ...rejected });
      }
      return reply.code(200).send({ accepted: accepted.length, events: trace.seq, complete: trace.complete });
    });
  });

  app.get<{ Params: { id: string }; Querystring: { from?: string } }>(
    "/ctf/:id/live",
    { websocket: true },
    (socket, req) => {
      const { id } = req.params;
      if (!ID_PATTERN.test(id)) {
        socket.close(1008, "invalid trace id");
        return;
      }
      let trace: LiveTrace | undefined;
      const sub = new Subscriber(
        socket as unknown as LiveSocket,
        maxBuffered,
        () => trace?.position() ?? { next_seq: 0, complete: false },
      );
      socket.on("close", () => {
        sub.close();
        trace?.subscribers.delete(sub);
      });
      void liveTrace(id).then((t) => {
        trace = t;
        return t.exclusive(async () => {
          // Under the trace's lock no append can slip between the replay and the subscription.
          if (req.query.from !== "end" && (await store.exists(id))) {
            const replay = new LiveTrace(id);
            parseCTFText(await store.readText(id), (l) => {
              if (l.issue) return;
              replay.validator.push(l.value, l.line);
              const { seq, message } = replay.prepare(l.value as CTFEvent);
              sub.offer(seq, message);
            });
          }
          if (socket.readyState === 1) t.subscribers.add(sub);
        });
      });
    },
  );
}

import websocket from "@fastify/websocket";
import { type CTFEvent, type CTFIssue, loadEventsText, loadTraceText, parseCTFText, validateCTFText } from "@rtt/ctf";
import { HttpError, httpError, installErrorHandler, installValidation, q } from "@rtt/http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CtfAppendResult } from "../api.js";
import { ctfDiffRoutes } from "./diff-view.js";
import { type LiveSocket, LiveTrace, LiveTraceCache, Subscriber } from "./live.js";
import { type Candidate, expandUpdate, textCandidates } from "./producer.js";
import { CtfStore, deriveId, ID_PATTERN, readFailure, type StoredSlice, type TraceStore } from "./store.js";
import { ctfViewRoutes } from "./view.js";

export interface CtfPluginOptions {
  /** Traces as files in `<dataDir>/ctf/` (one server); ignored when `store` is given. */
  dataDir?: string;
  /**
   * Where traces are kept instead: `rtt serve --db postgres://…` passes its PgCtfStore, so every server on the
   * database sees the same traces, and live viewers hear appends any of them accepted (the store's change feed).
   * The caller opens and closes it.
   */
  store?: TraceStore;
  /**
   * Extra guard on the write routes (POST /ctf, POST /ctf/:id/events) when the plugin is embedded alone.
   * `rtt serve` checks tokens for every route before the body is read (guard.ts) and passes none.
   */
  requireWrite?: (req: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
  /**
   * Whether a live WebSocket may append (its handshake carried write credentials). `rtt serve` passes its guard's
   * answer (the write token, or no token configured). Default: every socket may write when there is no
   * `requireWrite`, none when there is (a host that guards writes must say who may write over a socket).
   */
  canWrite?: (req: FastifyRequest) => boolean;
  /** Largest upload or append body; default: the host's `bodyLimit` (in `rtt serve`, its `--max-body`). */
  maxBodyBytes?: number;
  /** Idle live traces kept in memory (least recently used dropped first; default 256). */
  maxIdleLiveTraces?: number;
  /** Unsent bytes a live subscriber may hold before messages to it are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
}

const MAX_ISSUES = 50;
/**
 * Largest WebSocket message a client may send: a producer sends its events over the live socket, one or a few per
 * frame; anything bigger is refused by ws (close 1009) before it is buffered. Bigger events (long observations)
 * go through POST /ctf/:id/events, up to the body limit. Applies when this plugin registers @fastify/websocket; a
 * host that registered it sets its own `options.maxPayload`.
 */
export const MAX_CLIENT_MESSAGE_BYTES = 1024 * 1024;
const errorsOf = (issues: CTFIssue[]) => issues.filter((i) => i.severity === "error");

/** A trace id in the URL (path or `?id=`): what the store accepts as a file name. */
const TRACE_ID = q.pattern(ID_PATTERN.source, "a trace id (letters, digits, . _ -, at most 128)");
const ID_PARAMS = { params: q.object({ id: TRACE_ID }, ["id"]) };

/** Strict UTF-8; a leading byte order mark is dropped, as POST /sessions's decoder drops it: never stored. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body as text. */
const bodyText = (req: FastifyRequest): string => (typeof req.body === "string" ? req.body : "");

/**
 * Corridor Trace File API.
 *   POST /ctf[?id=]            upload a complete .ctf (NDJSON body), validated; 201 {id,…} or 400 {issues}
 *   GET  /ctf                  list: id, task_id, steps, final_status, complete, …
 *   GET  /ctf/:id/raw          the stored file as NDJSON
 *   GET  /api/corridor/:id     the parsed trace as JSON (what the corridor viewer loads)
 *   POST /ctf/:id/events       live append (NDJSON), each event checked in context; broadcast to viewers
 *   GET  /ctf/:id/live         WebSocket: every appended event as {type:"event",seq,step,q,status,event};
 *                              ?from=start (default) first replays the stored events, ?from=end does not.
 *                              A socket with write access is also a producer: each text frame (CTF events or the
 *                              seed's {step,q,status} update, NDJSON) is appended as POST /ctf/:id/events would
 *                              and answered {type:"ack"} or {type:"error"} (docs/api/ctf.md).
 *
 * WebSocket support: this plugin registers @fastify/websocket in its own scope unless the host already
 * did (checked with `hasDecorator("websocketServer")`), so the host needs to do nothing.
 * Register it encapsulated (plain `app.register(ctfPlugin, opts)`): it replaces the body parsers of its
 * own scope with a raw-text parser for NDJSON uploads.
 */
export async function ctfPlugin(app: FastifyInstance, opts: CtfPluginOptions): Promise<void> {
  if (!opts.store && opts.dataDir === undefined) throw new Error("ctfPlugin: give a dataDir or a store");
  const store: TraceStore = opts.store ?? new CtfStore(opts.dataDir as string);
  await store.init();
  const bodyLimit = opts.maxBodyBytes ?? app.initialConfig.bodyLimit ?? 1024 * 1024;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  // Wrapped in an async hook so a synchronous guard cannot leave Fastify waiting for a `done` callback.
  const requireWrite = opts.requireWrite;
  const canWrite = opts.canWrite ?? (() => requireWrite === undefined);
  const guard = requireWrite
    ? {
        preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
          await requireWrite(req, reply);
        },
      }
    : {};
  const live = new LiveTraceCache(async (id) => {
    const trace = new LiveTrace(id);
    if (await store.exists(id)) trace.reload(await readStored(id));
    return trace;
  }, opts.maxIdleLiveTraces);

  if (!app.hasDecorator("websocketServer"))
    await app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
  // Errors are thrown as HttpError and answered by the server's one handler, also when embedded without it; route
  // schemas are checked and worded as in the rest of the server.
  installErrorHandler(app);
  installValidation(app);

  // Bodies are CTF text whatever the declared type (curl --data-binary sends form-urlencoded by default). Bytes
  // that are not UTF-8 are refused, as POST /sessions refuses them: a lenient decode would put U+FFFD in their
  // place, and the trace stored (and acknowledged) would not be the one sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_req, body, done) => {
    try {
      done(null, utf8.decode(body as Buffer));
    } catch {
      done(httpError("RTT_ERR_INVALID_BODY", "body is not valid UTF-8: send the trace as UTF-8 text"), undefined);
    }
  });

  /**
   * The stored text of a trace. A file that exists but cannot be read is an error that says why: 503 when it is
   * transient (out of file handles), else 500 with the reason (a directory, no permission), logged here too for
   * the socket paths, which do not pass the error handler.
   */
  const readStored = async (id: string): Promise<string> => {
    try {
      return await store.readText(id);
    } catch (err) {
      const why = readFailure(err);
      if (why === "ENOENT") throw httpError("RTT_ERR_NOT_FOUND", `no trace ${id}`);
      if (why === "EMFILE" || why === "ENFILE") {
        app.log.warn({ id, code: why }, "ctf: trace not read, out of file handles");
        throw httpError(
          "RTT_ERR_UNAVAILABLE",
          `trace ${id} cannot be read now (too many open files): retry`,
          undefined,
          {
            headers: { "retry-after": "1" },
          },
        );
      }
      app.log.error({ id, code: why }, "ctf: stored trace cannot be read");
      throw new HttpError(500, "RTT_ERR_INTERNAL", `trace ${id} is stored but cannot be read (${why})`);
    }
  };

  /**
   * Puts a live trace back to what is stored, after its validator saw events that were not stored (a rejected
   * event, a failed append). If the file cannot be read back either, this live state is dropped: its viewers are
   * disconnected (1011) and the next caller loads the trace afresh.
   */
  const resync = async (trace: LiveTrace): Promise<void> => {
    try {
      trace.reload((await store.exists(trace.id)) ? await readStored(trace.id) : "");
    } catch {
      live.drop(trace);
      trace.disconnectAll(1011, "live state lost: reconnect");
    }
  };

  /**
   * Feeds stored events to a live trace and its subscribers: `text` holds whole events from seq `first` on; those
   * the trace has already seen are skipped. Used for an upload a viewer waited for and, with a shared store, for
   * what another server stored (its notice, or the catch-up before an append or a subscription).
   */
  const absorb = (trace: LiveTrace, text: string, first: number): void => {
    let seq = first;
    parseCTFText(text, (l) => {
      if (l.issue || seq++ < trace.seq) return;
      trace.validator.push(l.value, trace.validator.events + 1);
      const p = trace.prepare(l.value as CTFEvent);
      trace.publish(p.seq, p.message);
    });
  };

  /** With a shared store: brings a live trace up to what every server stored (run under the trace's lock). */
  const catchUp = async (
    trace: LiveTrace,
    read: (seq: number) => Promise<StoredSlice> = (seq) =>
      (store.readFrom as NonNullable<TraceStore["readFrom"]>)(trace.id, seq),
  ): Promise<void> => {
    if (!store.readFrom) return;
    const slice = await read(trace.seq);
    if (!slice.text) return;
    try {
      absorb(trace, slice.text, slice.first);
    } catch {
      await resync(trace);
    }
  };

  // Another server stored events: loaded traces that someone watches catch up now; the others when next used.
  const heard = (t: LiveTrace) =>
    t.subscribers.size === 0
      ? undefined
      : t
          .exclusive(() => catchUp(t))
          .catch((err: unknown) => {
            app.log.warn(
              { id: t.id, msg: (err as Error)?.message },
              "ctf live: catch-up failed; retried on the next change",
            );
          });
  store.watch?.(
    (id, events) => {
      void live
        .peek(id)
        ?.then((t) => (events > t.seq ? heard(t) : undefined))
        .catch(() => undefined);
    },
    () => {
      for (const t of live.loaded()) void heard(t);
    },
  );

  const uploadQuery = { querystring: q.object({ id: TRACE_ID }) };
  app.post<{ Querystring: { id?: string } }>(
    "/ctf",
    { ...guard, bodyLimit, schema: uploadQuery },
    async (req, reply) => {
      const text = bodyText(req);
      if (!text.trim()) throw httpError("RTT_ERR_INVALID_BODY", "empty body: send the .ctf file as the request body");
      const report = validateCTFText(text);
      const errors = errorsOf(report.issues);
      if (errors.length > 0) {
        throw httpError("RTT_ERR_INVALID_INPUT", `invalid CTF: ${errors.length} errors`, undefined, {
          extra: { issues: report.issues.slice(0, MAX_ISSUES) },
        });
      }
      const header = report.validator.header!;
      const id = req.query.id ?? deriveId(header.task_id, text);
      const events = report.validator.events;
      // Viewers already waiting on this id (a live trace is loaded) hear the upload as if it had been appended live.
      const waiting = live.peek(id);
      const created = waiting
        ? await (await waiting).exclusive(async () => {
            const trace = await waiting;
            if (!(await store.create(id, text, events))) return false;
            // Stored: the events are handed out now, each once (a shared store's notice of it finds them heard).
            try {
              absorb(trace, text, 0);
            } catch {
              await resync(trace);
            }
            return true;
          })
        : await store.create(id, text, events);
      if (!created) {
        // Same id and same bytes is a retry of an accepted upload; anything else must not overwrite it.
        if ((await readStored(id)) === text) return reply.code(200).send({ id, created: false });
        throw httpError("RTT_ERR_CONFLICT", `trace ${id} already exists`);
      }
      return reply.code(201).send({
        id,
        created: true,
        task_id: header.task_id,
        steps: report.validator.state?.nodes.length ?? 0,
        final_status: report.validator.footer?.final_status,
        warnings: report.issues.filter((i) => i.severity === "warning").slice(0, MAX_ISSUES),
      });
    },
  );

  app.get("/ctf", async () => ({ traces: await store.list() }));
  ctfViewRoutes(app, { store, readStored });
  ctfDiffRoutes(app, { store });

  app.get<{ Params: { id: string } }>("/ctf/:id/raw", { schema: ID_PARAMS }, async (req, reply) => {
    // A missing trace is readStored's 404.
    return reply.type("application/x-ndjson").send(await readStored(req.params.id));
  });

  app.get<{ Params: { id: string } }>("/api/corridor/:id", { schema: ID_PARAMS }, async (req) => {
    const { id } = req.params;
    const text = await readStored(id);
    const { events } = loadEventsText(text, false);
    const t = loadTraceText(text, { recompute: false, requireFooter: false });
    return {
      id,
      header: t.header,
      footer: t.footer,
      complete: t.footer !== null,
      final_status: t.finalStatus,
      // Steps whose q (and status) were computed on read: the file has no q events for them (q_metrics.md).
      q_computed: t.qComputed,
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

  /**
   * The live append of POST /ctf/:id/events and of a producer's frame; run under the trace's lock. Candidates are
   * checked one by one against the live replay: the valid prefix is stored (one append) and broadcast, the first
   * invalid one is refused with the file line it would have had and its issues.
   */
  const appendLive = async (
    trace: LiveTrace,
    candidates: Candidate[],
  ): Promise<{ accepted: number; rejected?: { body_line: number; issues: CTFIssue[] } }> => {
    const { id } = trace;
    const accepted: Array<{ seq: number; message: string }> = [];
    let rejected: { body_line: number; issues: CTFIssue[] } | undefined;
    let validated = false;
    try {
      await store.appendWith(id, async (stored, readFrom) => {
        // A shared store: first what other servers appended, so the candidates are checked in the real context.
        if (stored !== undefined && stored > trace.seq) await catchUp(trace, readFrom);
        if (stored !== undefined && stored !== trace.seq) trace.reload((await readFrom(0)).text);
        if (trace.complete) throw httpError("RTT_ERR_CONFLICT", `trace ${id} is complete (footer written)`);
        validated = true;
        const acceptedText: string[] = [];
        const base = trace.validator.events;
        const header = () => trace.validator.header;
        const knownQ = (step: number) => trace.validator.state?.byId.get(step)?.q;
        // A seed update becomes its q and status events when it is reached, so they are derived from the state then.
        const expanded = function* () {
          for (const x of candidates) yield* expandUpdate(x, header, knownQ);
        };
        for (const c of expanded()) {
          const fileLine = base + accepted.length + 1;
          if (c.issue) {
            rejected = { body_line: c.bodyLine, issues: [{ ...c.issue, line: fileLine }] };
            break;
          }
          const errs = errorsOf(trace.validator.push(c.event, fileLine));
          if (errs.length) {
            const field = c.field;
            rejected = {
              body_line: c.bodyLine,
              issues: field ? errs.map((i) => ({ ...i, field: field(i.field) })) : errs,
            };
            break;
          }
          accepted.push(trace.prepare(c.event as CTFEvent));
          acceptedText.push(c.raw as string);
        }
        // One append per request: the accepted prefix lands whole, in order, before anyone hears of it.
        return accepted.length ? { text: `${acceptedText.join("\n")}\n`, events: accepted.length } : null;
      });
    } catch (err) {
      // Validated but not stored: the validator must forget those events, or the next correct one is refused.
      if (validated) await resync(trace);
      throw err;
    }
    for (const a of accepted) trace.publish(a.seq, a.message);
    // The validator saw the rejected event; rebuild it from what is actually stored.
    if (rejected) await resync(trace);
    return { accepted: accepted.length, rejected };
  };
  app.post<{ Params: { id: string } }>("/ctf/:id/events", { ...guard, bodyLimit, schema: ID_PARAMS }, async (req) => {
    const { id } = req.params;
    const text = bodyText(req);
    const trace = await live.open(id);
    return trace.exclusive(async () => {
      const r = await appendLive(trace, textCandidates(text, true));
      const result: CtfAppendResult = { accepted: r.accepted, events: trace.seq, complete: trace.complete };
      // A refusal says where the trace stands too: its accepted prefix may have held the footer, and a client
      // that is not told keeps appending into a 409.
      if (r.rejected)
        throw httpError("RTT_ERR_INVALID_INPUT", "event rejected", undefined, { extra: { ...result, ...r.rejected } });
      return result;
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
        live.trim();
      });
      const opened = live.open(id);

      // The producer side: every frame is answered, in order, by an ack or an error frame naming what was wrong;
      // the socket stays open. Replies beyond the subscriber's byte budget (a client that never reads) are dropped
      // and counted, so a producer cannot make the server hold them.
      const writable = canWrite(req);
      let received = 0;
      let repliesDropped = 0;
      const answer = (frame: Record<string, unknown>) => {
        if (socket.readyState !== 1) return;
        const text = JSON.stringify(repliesDropped ? { ...frame, replies_dropped: repliesDropped } : frame);
        if (socket.bufferedAmount + text.length > maxBuffered) {
          repliesDropped++;
          return;
        }
        repliesDropped = 0;
        socket.send(text);
      };
      const refuse = (msg: number, err: HttpError) => answer({ type: "error", msg, ...err.body() });
      socket.on("message", (data: Buffer, isBinary: boolean) => {
        const msg = ++received;
        if (!writable)
          return refuse(
            msg,
            httpError("RTT_ERR_FORBIDDEN", "this socket is read-only: open it with the write token to append events"),
          );
        if (isBinary) return refuse(msg, httpError("RTT_ERR_INVALID_BODY", "send events as text frames (UTF-8 JSON)"));
        const candidates = textCandidates(String(data), false);
        if (candidates.length === 0)
          return refuse(msg, httpError("RTT_ERR_INVALID_BODY", "empty message: send a CTF event or an update"));
        opened
          .then((t) =>
            t.exclusive(async () => {
              const r = await appendLive(t, candidates);
              const at = { accepted: r.accepted, next_seq: t.seq, complete: t.complete };
              if (r.rejected)
                refuse(
                  msg,
                  httpError("RTT_ERR_INVALID_INPUT", "event rejected", undefined, { extra: { ...at, ...r.rejected } }),
                );
              else answer({ type: "ack", msg, ...at });
            }),
          )
          .catch((err: unknown) => {
            if (err instanceof HttpError) return refuse(msg, err);
            req.log.error({ id, name: (err as Error)?.name, msg: (err as Error)?.message }, "ctf live: append failed");
            refuse(msg, new HttpError(500, "RTT_ERR_INTERNAL", "internal error: the message was not stored"));
          });
      });
      // Nothing may escape this promise: a rejection nobody handles ends the process.
      const fail = (err: unknown) => {
        sub.close();
        trace?.subscribers.delete(sub);
        // readStored logged its own failures; anything else is unexpected and logged here, once.
        if (!(err instanceof HttpError))
          req.log.error(
            { id, name: (err as Error)?.name, msg: (err as Error)?.message },
            "ctf live: subscription failed",
          );
        // The reasons are ASCII (ids are); a close reason is at most 123 bytes.
        const reason = (err instanceof HttpError ? err.message : "internal error").slice(0, 123);
        try {
          if (socket.readyState <= 1) socket.close(1011, reason);
        } catch {
          socket.terminate();
        }
      };
      opened
        .then((t) => {
          trace = t;
          return t.exclusive(async () => {
            // Under the trace's lock no append can slip between the replay and the subscription. A shared store
            // may hold more than this server has heard of: caught up first, and the replay stops where it stands.
            await catchUp(t);
            if (req.query.from !== "end" && (await store.exists(id))) {
              const replay = new LiveTrace(id);
              const upTo = t.published;
              parseCTFText(await readStored(id), (l) => {
                if (l.issue || replay.seq >= upTo) return;
                replay.validator.push(l.value, l.line);
                const { seq, message } = replay.prepare(l.value as CTFEvent);
                sub.offer(seq, message);
              });
            }
            if (socket.readyState === 1) t.subscribers.add(sub);
          });
        })
        .catch(fail);
    },
  );
}

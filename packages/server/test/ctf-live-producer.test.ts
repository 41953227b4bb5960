import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CTFEvent, Q_METRICS, type QMetrics } from "@rtt/ctf";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ctfPlugin } from "../src/ctf/index.js";
import { testApp } from "./support/app.js";
import { makeTrace, ndjson } from "./support/ctf-trace.js";

/** Frames a live socket received: the broadcast events and, for a producer, its acks and errors. */
interface Frame {
  type: string;
  msg?: number;
  seq?: number;
  step?: number | null;
  q?: QMetrics | null;
  status?: string | null;
  event?: CTFEvent;
  accepted?: number;
  next_seq?: number;
  code?: string;
  error?: string;
  body_line?: number;
  issues?: Array<{ field: string; code: string; message: string }>;
}

interface Client {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the reply (ack or error) to message `msg`. */
  reply(msg: number): Promise<Frame>;
  /** Resolves once `n` event frames have arrived. */
  events(n: number): Promise<Frame[]>;
  closed: Promise<{ code: number }>;
}

function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: Frame[] = [];
    const waiters: Array<() => void> = [];
    let closedResolve!: (c: { code: number }) => void;
    const closed = new Promise<{ code: number }>((r) => {
      closedResolve = r;
    });
    const until = <T>(test: () => T | undefined) =>
      new Promise<T>((res, rej) => {
        const check = () => {
          const v = test();
          if (v !== undefined) res(v);
          else waiters.push(check);
        };
        setTimeout(() => rej(new Error("timed out waiting for a frame")), 5000).unref();
        check();
      });
    ws.on("message", (d) => {
      frames.push(JSON.parse(String(d)));
      for (const w of waiters.splice(0)) w();
    });
    ws.on("close", (code) => closedResolve({ code }));
    ws.on("open", () =>
      resolve({
        ws,
        frames,
        closed,
        reply: (msg) => until(() => frames.find((f) => (f.type === "ack" || f.type === "error") && f.msg === msg)),
        events: (n) =>
          until(() => {
            const e = frames.filter((f) => f.type === "event");
            return e.length >= n ? e : undefined;
          }),
      }),
    );
    ws.on("error", reject);
  });
}

const metricsOf = (q: object) => Object.fromEntries(Q_METRICS.map((m) => [m, (q as Record<string, unknown>)[m]]));

let dataDir: string;
let app: FastifyInstance;
let base: string;

async function start(opts: Partial<Parameters<typeof ctfPlugin>[1]> = {}) {
  app = Fastify();
  await app.register(ctfPlugin, { dataDir, ...opts });
  await app.listen({ host: "127.0.0.1", port: 0 });
  base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "rtt-ctf-producer-"));
});
afterEach(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const stored = (id: string) =>
  readFileSync(join(dataDir, "ctf", `${id}.ctf`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("live updates pair step N with step N's own q and status", () => {
  it("every update of a run with a rewind carries the q the runtime wrote for that very step", async () => {
    await start();
    const events = makeTrace(8, { rewind: { at: 5, to: 3 } });
    const viewer = await connect(`ws://${base}/ctf/pair/live`);
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`http://${base}/ctf/pair/events`, { method: "POST", body: ndjson(events) });
    expect(res.status).toBe(200);
    const got = await viewer.events(events.length);
    // What the runtime says about the head at each event: the q and status it wrote for that step in the same
    // block (a step or rewind, then its q and status).
    let wrong = 0;
    got.forEach((m, i) => {
      if (m.step === null) return;
      let j = i;
      while (j > 0 && events[j]?.type !== "step" && events[j]?.type !== "rewind") j--;
      const block = events.slice(j, j + 3);
      const q = block.find((e) => e.type === "q" && e.step_id === m.step);
      const status = block.find((e) => e.type === "status" && e.step_id === m.step);
      expect(q, `event ${i}`).toBeDefined();
      if (JSON.stringify(m.q) !== JSON.stringify(metricsOf(q as never))) wrong++;
      expect(m.q, `event ${i} (${events[i]?.type}) step ${m.step}`).toEqual(metricsOf(q as never));
      expect(m.status, `event ${i}`).toBe(status?.type === "status" ? status.corridor_status : undefined);
    });
    expect(wrong).toBe(0);
    viewer.ws.close();
  });

  it("a trace written without q events gets computed q in its updates and in GET /api/corridor", async () => {
    await start();
    const full = makeTrace(5);
    const bare = full.filter((e) => e.type !== "q" && e.type !== "status");
    const viewer = await connect(`ws://${base}/ctf/bare/live`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`http://${base}/ctf/bare/events`, { method: "POST", body: ndjson(bare) })).status).toBe(200);
    const got = await viewer.events(bare.length);
    const qs = full.filter((e) => e.type === "q");
    const steps = got.filter((m) => m.event?.type === "step");
    expect(steps.map((m) => m.q)).toEqual(qs.map((q) => metricsOf(q)));
    viewer.ws.close();

    const doc = (await (await fetch(`http://${base}/api/corridor/bare`)).json()) as {
      q_computed: number;
      steps: Array<{ q: QMetrics | null; corridor_status: string | null }>;
    };
    expect(doc.q_computed).toBe(5);
    expect(doc.steps.map((s) => s.q)).toEqual(qs.map((q) => metricsOf(q)));
    expect(doc.steps.every((s) => s.corridor_status !== null)).toBe(true);
  });
});

describe("a producer on the live WebSocket (the seed's stream_trace_update)", () => {
  it("appends CTF events and the seed's {step, q, status} updates, acknowledging each message", async () => {
    await start();
    const run = makeTrace(3, { footer: false });
    const header = run[0]!;
    const stepsOnly = run.filter((e) => e.type === "step");
    const qOf = (id: number) => run.find((e) => e.type === "q" && e.step_id === id) as object;
    const producer = await connect(`ws://${base}/ctf/seed/live?from=end`);
    let msg = 0;
    const send = async (frame: object) => {
      producer.ws.send(JSON.stringify(frame));
      return producer.reply(++msg);
    };
    expect(await send(header)).toMatchObject({ type: "ack", msg: 1, accepted: 1, next_seq: 1 });
    for (const [i, step] of stepsOnly.entries()) {
      expect(await send(step)).toMatchObject({ type: "ack", accepted: 1 });
      // Exactly what the seed's snippet sends: step index, the last q (five metrics), the corridor status.
      const update = { step: i, q: metricsOf(qOf(i)), status: "stable" };
      expect(await send(update)).toMatchObject({ type: "ack", accepted: 2 });
    }
    // Stored as the q and status events the runtime itself writes (violations derived from the thresholds).
    const file = stored("seed");
    expect(file).toEqual(run.map((e) => (e.type === "q" ? { type: "q", step_id: e.step_id, ...metricsOf(e) } : e)));
    // The producer's socket hears its own appends like any viewer, each paired with its step's q.
    const echoed = await producer.events(file.length - 1);
    expect(echoed.at(-1)).toMatchObject({ step: 2, q: metricsOf(qOf(2)), status: "stable" });
    producer.ws.close();
  });

  it("answers a bad message with an error frame naming the field, and keeps the socket open", async () => {
    await start();
    const run = makeTrace(2, { footer: false });
    await fetch(`http://${base}/ctf/errs/events`, { method: "POST", body: ndjson(run.slice(0, 4)) }); // header, step 0 + q + status
    const p = await connect(`ws://${base}/ctf/errs/live?from=end`);
    let msg = 0;
    const send = async (text: string) => {
      p.ws.send(text);
      return p.reply(++msg);
    };
    const { retry_ratio: _r, ...partial } = metricsOf(run[2] as never);
    const missing = await send(JSON.stringify({ step: 0, q: partial, status: "stable" }));
    expect(missing).toMatchObject({ type: "error", code: "RTT_ERR_INVALID_INPUT", accepted: 0, body_line: 1 });
    expect(missing.issues?.[0]).toMatchObject({ field: "/q/retry_ratio" });
    const unknown = await send(JSON.stringify({ step: 7, status: "warning" }));
    expect(unknown.issues?.[0]).toMatchObject({ field: "/step", code: "unknown_step" });
    const badStatus = await send(JSON.stringify({ step: 0, status: "wobbly" }));
    expect(badStatus.issues?.[0]?.field).toBe("/status");
    const notJson = await send("{step: 0");
    expect(notJson).toMatchObject({ type: "error", code: "RTT_ERR_INVALID_INPUT" });
    expect(notJson.issues?.[0]?.message).toMatch(/JSON/i);
    expect(await send("  ")).toMatchObject({ type: "error", code: "RTT_ERR_INVALID_BODY" });
    const noStep = await send(JSON.stringify({ q: null, status: "stable", step: "two" }));
    expect(noStep.issues?.[0]).toMatchObject({ field: "/step", code: "live_update" });
    // Nothing of that was stored, and the next good message is taken.
    expect(stored("errs")).toHaveLength(4);
    expect(await send(JSON.stringify(run[4]))).toMatchObject({ type: "ack", accepted: 1 });
    // A message of several NDJSON lines is taken like a POST body: the valid prefix, then the first bad line.
    const both = `${JSON.stringify(run[5])}\n${JSON.stringify({ ...run[6], step_id: 9 })}`;
    expect(await send(both)).toMatchObject({ type: "error", accepted: 1, body_line: 2, next_seq: 6, complete: false });
    expect(p.ws.readyState).toBe(WebSocket.OPEN);
    p.ws.close();
  });

  it("a complete trace refuses further messages with a conflict", async () => {
    await start();
    await fetch(`http://${base}/ctf/done/events`, { method: "POST", body: ndjson(makeTrace(1)) });
    const p = await connect(`ws://${base}/ctf/done/live?from=end`);
    p.ws.send(JSON.stringify({ step: 0, status: "stable" }));
    expect(await p.reply(1)).toMatchObject({ type: "error", code: "RTT_ERR_CONFLICT" });
    p.ws.close();
  });

  it("a host that guards writes (requireWrite) without canWrite gets read-only sockets", async () => {
    await start({ requireWrite: () => undefined });
    const p = await connect(`ws://${base}/ctf/ro/live`);
    p.ws.send(JSON.stringify(makeTrace(1)[0]));
    expect(await p.reply(1)).toMatchObject({ type: "error", code: "RTT_ERR_FORBIDDEN" });
    expect((await fetch(`http://${base}/ctf/ro/raw`)).status).toBe(404);
    p.ws.close();
  });
});

describe("rtt serve: writing over the socket needs the write token", () => {
  it("the read token opens a viewer that cannot write; the write token a producer", async () => {
    const TOKEN = "write-token-for-producer-test-01";
    const READ = "read-token-for-producer-test-234";
    const t = await testApp({ token: TOKEN, readToken: READ, ctfDataDir: dataDir });
    try {
      await t.app.listen({ host: "127.0.0.1", port: 0 });
      const url = `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/ctf/tok/live?from=end`;
      const header = JSON.stringify(makeTrace(1)[0]);
      const viewer = await connect(url, { authorization: `Bearer ${READ}` });
      viewer.ws.send(header);
      expect(await viewer.reply(1)).toMatchObject({
        type: "error",
        code: "RTT_ERR_FORBIDDEN",
        error: expect.stringMatching(/read-only/),
      });
      expect(viewer.ws.readyState).toBe(WebSocket.OPEN);
      const producer = await connect(url, { authorization: `Bearer ${TOKEN}` });
      producer.ws.send(header);
      expect(await producer.reply(1)).toMatchObject({ type: "ack", accepted: 1 });
      // The viewer still hears it.
      expect((await viewer.events(1))[0]?.event).toMatchObject({ type: "header" });
      viewer.ws.close();
      producer.ws.close();
    } finally {
      await t.close();
    }
  });
});

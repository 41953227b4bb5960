import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CTFEvent } from "@rtt/ctf";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ctfPlugin, seedDemoTraces } from "../src/ctf/index.js";
import { makeTrace, ndjson, searchStep } from "./support/ctf-trace.js";
import { type CorridorDoc, type CtfUpload, type ErrorBody, readJson, type TraceList } from "./support/json.js";

/** A valid trace from the real runtime; `observationBytes` pads observations to make events heavy. */
const trace = (steps: number, observationBytes = 10) =>
  makeTrace(steps, { step: searchStep(observationBytes), rewind: { at: 5, to: 3 } });

let dataDir: string;
let app: FastifyInstance;
let base: string;

async function start(opts: Partial<Parameters<typeof ctfPlugin>[1]> = {}) {
  app = Fastify();
  await app.register(ctfPlugin, { dataDir, ...opts });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "rtt-ctf-"));
});
afterEach(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("CTF HTTP API", () => {
  it("POST /ctf validates and stores; GET /ctf lists; GET /api/corridor/:id returns the parsed trace", async () => {
    await start();
    const text = ndjson(trace(8));
    const res = await fetch(`${base}/ctf?id=run-1`, {
      method: "POST",
      body: text,
      headers: { "content-type": "application/x-ndjson" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: "run-1", created: true, task_id: "live-task", steps: 8 });
    expect(readFileSync(join(dataDir, "ctf", "run-1.ctf"), "utf8")).toBe(text);
    // Idempotent retry, conflicting overwrite refused.
    expect((await fetch(`${base}/ctf?id=run-1`, { method: "POST", body: text })).status).toBe(200);
    expect((await fetch(`${base}/ctf?id=run-1`, { method: "POST", body: ndjson(trace(3)) })).status).toBe(409);
    // Without an id one is derived from task id + content hash.
    const anon = await readJson<CtfUpload>(await fetch(`${base}/ctf`, { method: "POST", body: ndjson(trace(3)) }));
    expect(anon.id).toMatch(/^live-task-[0-9a-f]{12}$/);

    const list = await readJson<TraceList>(await fetch(`${base}/ctf`));
    expect(list.traces.map((t) => t.id).sort()).toEqual([anon.id, "run-1"].sort());
    expect(list.traces.find((t) => t.id === "run-1")).toMatchObject({
      task_id: "live-task",
      steps: 8,
      complete: true,
    });

    const doc = await readJson<CorridorDoc>(await fetch(`${base}/api/corridor/run-1`));
    expect(doc.header?.task_id).toBe("live-task");
    expect(doc.steps).toHaveLength(8);
    expect(doc.steps.filter((s) => !s.valid).map((s) => s.step_id)).toEqual([4, 5]);
    expect(doc.rewinds).toHaveLength(1);
    expect(doc.lineage[0]).toBe(0);
    expect(doc.events.length).toBe(text.trim().split("\n").length);
    expect((await fetch(`${base}/api/corridor/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/corridor/..%2Fetc`)).status).toBe(400);
    expect(await (await fetch(`${base}/ctf/run-1/raw`)).text()).toBe(text);
  });

  it("rejects an invalid upload with line and field, and stores nothing", async () => {
    await start();
    const events = trace(3).map((e): Record<string, unknown> => ({ ...e }));
    events[4] = { ...events[4], parent_step_id: 42 };
    const res = await fetch(`${base}/ctf?id=bad`, { method: "POST", body: ndjson(events) });
    expect(res.status).toBe(400);
    const body = await readJson<ErrorBody>(res);
    expect(body.issues?.[0]).toMatchObject({ line: 5, field: "/parent_step_id", code: "unknown_step" });
    expect((await fetch(`${base}/ctf/bad/raw`)).status).toBe(404);
  });

  it("requireWrite guards the write routes", async () => {
    await start({
      requireWrite: (req, reply) => {
        if (req.headers.authorization !== "Bearer t0ken") reply.code(401).send({ error: "unauthorized" });
      },
    });
    const text = ndjson(trace(2));
    expect((await fetch(`${base}/ctf?id=x`, { method: "POST", body: text })).status).toBe(401);
    expect((await fetch(`${base}/ctf/x/events`, { method: "POST", body: text })).status).toBe(401);
    expect(
      (await fetch(`${base}/ctf?id=x`, { method: "POST", body: text, headers: { authorization: "Bearer t0ken" } }))
        .status,
    ).toBe(201);
  });

  it("POST /ctf/:id/events appends valid events, refuses the first bad one and keeps the accepted prefix", async () => {
    await start();
    const events = trace(4);
    const url = `${base}/ctf/live-1/events`;
    expect((await fetch(url, { method: "POST", body: ndjson([events[1]]) })).status).toBe(400); // not a header first
    expect((await fetch(url, { method: "POST", body: ndjson(events.slice(0, 4)) })).status).toBe(200);
    const bad = { ...events[4], step_id: 0 }; // duplicate id
    const res = await fetch(url, { method: "POST", body: ndjson([events[4], events[5], bad]) });
    // events[4] is step 1 (valid), events[5] its q (valid), then the bad step.
    expect(res.status).toBe(400);
    const body = await readJson<ErrorBody>(res);
    expect(body).toMatchObject({ accepted: 2, body_line: 3, events: 6, complete: false });
    expect(body.issues?.[0]).toMatchObject({ line: 7, field: "/step_id", code: "duplicate_step_id" });
    // The stored file is the valid prefix; appending resumes from it.
    expect((await fetch(url, { method: "POST", body: ndjson(events.slice(6)) })).status).toBe(200);
    expect(readFileSync(join(dataDir, "ctf", "live-1.ctf"), "utf8")).toBe(ndjson(events));
    expect((await fetch(url, { method: "POST", body: ndjson([events[1]]) })).status).toBe(409); // after the footer
  });

  it("a refused append whose accepted prefix held the footer says the trace is complete", async () => {
    await start();
    const events = trace(2);
    const url = `${base}/ctf/live-footer/events`;
    // The footer, then one more line: the footer is stored, the line after it refused.
    const res = await fetch(url, { method: "POST", body: ndjson([...events, events[1]]) });
    expect(res.status).toBe(400);
    const body = await readJson<ErrorBody>(res);
    expect(body).toMatchObject({ accepted: events.length, events: events.length, complete: true });
    expect(body.body_line).toBe(events.length + 1);
    expect((await fetch(url, { method: "POST", body: ndjson([events[1]]) })).status).toBe(409);
  });

  it("seeds the example agent's traces for the demo", async () => {
    const ids = await seedDemoTraces(dataDir);
    expect(ids).toEqual(["boiling-point-flaky", "boiling-point-steady"]);
    expect(await seedDemoTraces(dataDir)).toEqual([]); // never overwrites
    await start();
    const list = await readJson<TraceList>(await fetch(`${base}/ctf`));
    expect(list.traces.map((t) => t.id)).toEqual(ids);
  });
});

interface Received {
  messages: Array<{
    type: string;
    seq?: number;
    step?: number | null;
    status?: string;
    event?: CTFEvent;
    dropped?: number;
  }>;
  ws: WebSocket;
  done: Promise<void>;
}

function subscribe(url: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: Received["messages"] = [];
    let finish!: () => void;
    const done = new Promise<void>((r) => {
      finish = r;
    });
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      messages.push(m);
      // Done at the footer, or when a gap notice says the trace is complete (the footer itself was dropped).
      if (m.event?.type === "footer" || (m.type === "gap" && m.complete)) finish();
    });
    ws.on("close", () => finish());
    ws.on("open", () => resolve({ messages, ws, done }));
    ws.on("error", reject);
  });
}

describe("plugin registration", () => {
  it("reuses a host's @fastify/websocket and leaves the host's body parsers alone", async () => {
    const { default: websocket } = await import("@fastify/websocket");
    app = Fastify();
    await app.register(websocket);
    app.post("/echo", async (req) => req.body);
    await app.register(ctfPlugin, { dataDir });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    const echo = await fetch(`${base}/echo`, {
      method: "POST",
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await echo.json()).toEqual({ a: 1 });
    const events = trace(2);
    const sub = await subscribe(`${base}/ctf/host-ws/live`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${base}/ctf/host-ws/events`, { method: "POST", body: ndjson(events) })).status).toBe(200);
    await sub.done;
    expect(sub.messages.map((m) => m.event)).toEqual(events);
    sub.ws.close();
  });
});

describe("live channel (two real WebSocket subscribers)", () => {
  it("streams every event to a fast subscriber while a slow one is dropped, not waited for", async () => {
    // The budget is above one POST's burst (50 events ≈ 1.2 MiB, broadcast in one tick while the in-process fast
    // client cannot read), so only a subscriber that stops reading can exceed it, however loaded the machine is.
    await start({ maxBufferedBytes: 4 * 1024 * 1024 });
    // ~1,200 events of ~24 KiB (≈ 29 MiB): more than the kernel's loopback buffers plus that budget hold.
    const events = trace(400, 24 * 1024);
    const fast = await subscribe(`${base}/ctf/run-live/live`);
    const slow = await subscribe(`${base}/ctf/run-live/live`);
    // The slow viewer stops reading: its TCP window closes and the server-side buffer fills.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await new Promise((r) => setTimeout(r, 50));

    const started = Date.now();
    for (let i = 0; i < events.length; i += 50) {
      const res = await fetch(`${base}/ctf/run-live/events`, {
        method: "POST",
        body: ndjson(events.slice(i, i + 50)),
      });
      expect(res.status).toBe(200);
    }
    const producerMs = Date.now() - started;
    await fast.done;
    // The fast viewer got every event, in order, with the seed's {step, q, status} update.
    const fe = fast.messages.filter((m) => m.type === "event");
    expect(fe).toHaveLength(events.length);
    expect(fe.map((m) => m.seq)).toEqual(events.map((_, i) => i));
    expect(fe.map((m) => m.event)).toEqual(events);
    for (const m of fe) {
      if (m.event?.type === "status")
        expect(m).toMatchObject({ step: m.event.step_id, status: m.event.corridor_status });
    }
    expect(fast.messages.some((m) => m.type === "gap")).toBe(false);

    // The slow viewer lost events instead of holding the producer back; it learns how many.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.done;
    const se = slow.messages.filter((m) => m.type === "event");
    const gaps = slow.messages.filter((m) => m.type === "gap");
    expect(se.length).toBeLessThan(events.length);
    expect(gaps.length).toBeGreaterThan(0);
    const dropped = gaps.reduce((n, g) => n + (g.dropped ?? 0), 0);
    expect(se.length + dropped).toBe(events.length);
    const seqs = se.map((m) => m.seq!);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs); // still in order
    expect(producerMs).toBeLessThan(20_000);
    fast.ws.close();
    slow.ws.close();
  });

  it("viewers that connect together before a trace exists all hear its upload and its appends", async () => {
    await start();
    const events = trace(3);
    // Both connect at once: they must share one live trace (no orphaned copy per connection).
    const [a, b] = await Promise.all([subscribe(`${base}/ctf/up-1/live`), subscribe(`${base}/ctf/up-1/live`)]);
    await new Promise((r) => setTimeout(r, 50));
    const upload = await fetch(`${base}/ctf?id=up-1`, { method: "POST", body: ndjson(events) });
    expect(upload.status).toBe(201);
    await Promise.all([a.done, b.done]);
    for (const sub of [a, b]) {
      expect(sub.messages.map((m) => m.event)).toEqual(events);
      expect(sub.messages.map((m) => m.seq)).toEqual(events.map((_, i) => i));
      sub.ws.close();
    }
  });

  it("a late subscriber first receives the stored events (from=start), from=end only new ones", async () => {
    await start();
    const events = trace(3);
    await fetch(`${base}/ctf/late/events`, { method: "POST", body: ndjson(events.slice(0, 5)) });
    const late = await subscribe(`${base}/ctf/late/live`);
    const tail = await subscribe(`${base}/ctf/late/live?from=end`);
    await new Promise((r) => setTimeout(r, 50));
    await fetch(`${base}/ctf/late/events`, { method: "POST", body: ndjson(events.slice(5)) });
    await Promise.all([late.done, tail.done]);
    expect(late.messages.map((m) => m.event)).toEqual(events);
    expect(tail.messages.map((m) => m.event)).toEqual(events.slice(5));
    expect(tail.messages[0].seq).toBe(5);
    late.ws.close();
    tail.ws.close();
  });
});

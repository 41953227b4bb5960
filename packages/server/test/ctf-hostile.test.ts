import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CTFEvent } from "@rtt/ctf";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ctfPlugin } from "../src/ctf/index.js";
import { LiveTrace } from "../src/ctf/live.js";
import { MAX_CLIENT_MESSAGE_BYTES } from "../src/ctf/plugin.js";
import { CtfStore } from "../src/ctf/store.js";
import { heatStep, makeTrace, ndjson } from "./support/ctf-trace.js";
import { type CorridorDoc, type ErrorBody, readJson, type TraceList } from "./support/json.js";

/** A valid finished run from the real runtime. */
const trace = (steps: number, observationBytes = 10) =>
  makeTrace(steps, {
    taskId: "hostile",
    task: "boil water",
    spec: { max_steps: 1000 },
    step: heatStep(observationBytes),
  });
/** `event` as a line with an extra field nested `levels` objects deep. */
const deepLine = (event: object, levels: number) =>
  `${JSON.stringify(event).slice(0, -1)},"x":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}\n`;

let dataDir: string;
let app: FastifyInstance;
let base: string;

async function start(opts: Partial<Parameters<typeof ctfPlugin>[1]> = {}, server: FastifyServerOptions = {}) {
  app = Fastify(server);
  await app.register(ctfPlugin, { dataDir, ...opts });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
}
const post = (path: string, body: string) => fetch(`${base}${path}`, { method: "POST", body });

interface Socket {
  ws: WebSocket;
  messages: Array<{ type: string; seq?: number; event?: CTFEvent }>;
  closed: Promise<{ code: number; reason: string }>;
}
function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`);
    const messages: Socket["messages"] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on("close", (code, reason) => r({ code, reason: String(reason) })),
    );
    ws.on("message", (d) => messages.push(JSON.parse(String(d))));
    ws.on("open", () => resolve({ ws, messages, closed }));
    ws.on("error", reject);
  });
}
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms))]);
const settle = () => new Promise((r) => setTimeout(r, 100));
/** Until a viewer has heard `n` messages (a fixed wait was too short on a loaded machine), then a settle for extras. */
async function heard(viewer: Socket, n: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (viewer.messages.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await settle();
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "rtt-ctf-hostile-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("deeply nested events", () => {
  it("are refused at upload and at live append, located by line", async () => {
    await start();
    const events = trace(2);
    const up = await post("/ctf?id=deep", `${ndjson(events.slice(0, 2))}${deepLine(events[2], 20_000)}`);
    expect(up.status).toBe(400);
    expect((await readJson<ErrorBody>(up)).issues?.[0]).toMatchObject({ line: 3, code: "too_deep" });
    expect((await fetch(`${base}/ctf/deep/raw`)).status).toBe(404);

    expect((await post("/ctf/deep-live/events", ndjson(events.slice(0, 2)))).status).toBe(200);
    const live = await post("/ctf/deep-live/events", deepLine(events[2], 20_000));
    expect(live.status).toBe(400);
    expect(await live.json()).toMatchObject({ accepted: 0, body_line: 1, issues: [{ line: 3, code: "too_deep" }] });
    expect((await post("/ctf/deep-live/events", ndjson(events.slice(2)))).status).toBe(200);
  });

  it("in a stored file (written before the guard, or by hand) are served as an issue; a live viewer is not a crash", async () => {
    const events = trace(2);
    mkdirSync(join(dataDir, "ctf"), { recursive: true });
    writeFileSync(join(dataDir, "ctf", "old.ctf"), `${ndjson(events.slice(0, 2))}${deepLine(events[2], 20_000)}`);
    await start();
    const viewer = await connect("/ctf/old/live");
    await heard(viewer, 2);
    expect(viewer.ws.readyState).toBe(WebSocket.OPEN);
    expect(viewer.messages.map((m) => m.event)).toEqual(events.slice(0, 2));
    const doc = await fetch(`${base}/api/corridor/old`);
    expect(doc.status).toBe(200);
    expect((await readJson<CorridorDoc>(doc)).issues).toContainEqual(
      expect.objectContaining({ line: 3, code: "too_deep" }),
    );
    const list = await readJson<TraceList>(await fetch(`${base}/ctf`));
    expect(list.traces.map((t) => t.id)).toEqual(["old"]);
    viewer.ws.close();
  });
});

describe("a stored trace that cannot be read", () => {
  it("gets a 5xx with a reason, is listed with its error, closes a live socket with 1011; the server stays up", async () => {
    await start();
    expect((await post("/ctf?id=good", ndjson(trace(2)))).status).toBe(201);
    // A directory where the file should be: every read fails with EISDIR.
    mkdirSync(join(dataDir, "ctf", "broken.ctf"));
    for (const path of ["/api/corridor/broken", "/ctf/broken/raw"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(500);
      expect((await readJson<ErrorBody>(res)).error, path).toBe("trace broken is stored but cannot be read (EISDIR)");
    }
    const append = await post("/ctf/broken/events", ndjson(trace(1).slice(0, 1)));
    expect(append.status).toBe(500);
    expect((await readJson<ErrorBody>(append)).error).toMatch(/cannot be read \(EISDIR\)/);

    const viewer = await connect("/ctf/broken/live");
    expect(await within(viewer.closed, 3000)).toMatchObject({ code: 1011 });

    const list = await fetch(`${base}/ctf`);
    expect(list.status).toBe(200);
    const { traces } = await readJson<TraceList>(list);
    expect(traces.map((t) => t.id)).toEqual(["broken", "good"]);
    expect(traces[0]?.error).toMatch(/EISDIR/);

    // Out of file handles is transient: 503 with Retry-After, not a 500.
    const emfile = Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
    vi.spyOn(CtfStore.prototype, "readText").mockRejectedValueOnce(emfile);
    const busy = await fetch(`${base}/api/corridor/good`);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect((await readJson<ErrorBody>(busy)).error).toMatch(/too many open files/);
    expect((await fetch(`${base}/api/corridor/good`)).status).toBe(200);
  });
});

describe("a live append that fails after validation", () => {
  it("leaves the trace as stored: the same events are accepted on retry and viewers hear each once", async () => {
    await start();
    const events = trace(2);
    const viewer = await connect("/ctf/retry/live");
    await settle();
    vi.spyOn(CtfStore.prototype, "append").mockRejectedValueOnce(new Error("ENOSPC: no space left on device"));
    expect((await post("/ctf/retry/events", ndjson(events.slice(0, 2)))).status).toBe(500);
    const retry = await post("/ctf/retry/events", ndjson(events.slice(0, 2)));
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ accepted: 2, events: 2 });

    // A message that cannot be built (serialised) fails the same way, before anything is stored.
    vi.spyOn(LiveTrace.prototype, "message").mockImplementationOnce(() => {
      throw new RangeError("Maximum call stack size exceeded");
    });
    expect((await post("/ctf/retry/events", ndjson(events.slice(2, 4)))).status).toBe(500);
    expect((await post("/ctf/retry/events", ndjson(events.slice(2)))).status).toBe(200);

    expect(readFileSync(join(dataDir, "ctf", "retry.ctf"), "utf8")).toBe(ndjson(events));
    await heard(viewer, events.length);
    expect(viewer.messages.map((m) => m.seq)).toEqual(events.map((_, i) => i));
    expect(viewer.messages.map((m) => m.event)).toEqual(events);
    viewer.ws.close();
  });
});

describe("a live append that fails part way through its write", () => {
  it("is cut back to the last whole line, so the next append does not glue onto half a line", async () => {
    await start();
    const events = trace(2);
    expect((await post("/ctf/half/events", ndjson(events.slice(0, 2)))).status).toBe(200);
    // Disk full after a few bytes of the next batch.
    const handle = await open(join(dataDir, "ctf", "half.ctf"), "r");
    const proto = Object.getPrototypeOf(handle) as FileHandle;
    await handle.close();
    vi.spyOn(proto, "appendFile").mockImplementationOnce(async function (this: FileHandle, data) {
      await this.write(String(data).slice(0, 10));
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    });
    expect((await post("/ctf/half/events", ndjson(events.slice(2, 4)))).status).toBe(500);
    expect(readFileSync(join(dataDir, "ctf", "half.ctf"), "utf8")).toBe(ndjson(events.slice(0, 2)));
    expect((await post("/ctf/half/events", ndjson(events.slice(2)))).status).toBe(200);
    expect(readFileSync(join(dataDir, "ctf", "half.ctf"), "utf8")).toBe(ndjson(events));
  });
});

describe("encoding", () => {
  it("accepts a body that starts with a UTF-8 byte order mark, as POST /sessions does, and stores it without", async () => {
    await start();
    const text = ndjson(trace(2));
    expect((await post("/ctf?id=bom", `\uFEFF${text}`)).status).toBe(201);
    // Read from disk: fetch's text() would drop a stored mark itself.
    expect(readFileSync(join(dataDir, "ctf", "bom.ctf"), "utf8")).toBe(text);
    expect((await post("/ctf/bom-live/events", `\uFEFF${text}`)).status).toBe(200);
    expect(readFileSync(join(dataDir, "ctf", "bom-live.ctf"), "utf8")).toBe(text);
  });

  it("refuses bytes that are not UTF-8 in an upload and in an append (400), and stores nothing", async () => {
    // Found by the fuzz suite: the body was decoded leniently, so 201 acknowledged a trace whose raw export
    // differed from the bytes sent (U+FFFD for each bad sequence).
    await start();
    const events = trace(2);
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const lines = ndjson(events).split("\n");
      const body = Buffer.concat([
        Buffer.from(`${lines.slice(0, 2).join("\n")}\n${lines[2].slice(0, -1)},"x":"`),
        Buffer.from(bad),
        Buffer.from(`"}\n${lines.slice(3).join("\n")}`),
      ]);
      for (const path of ["/ctf?id=not-utf8", "/ctf/not-utf8-live/events"]) {
        const res = await fetch(`${base}${path}`, { method: "POST", body });
        expect(res.status, `${path} with ${bad}`).toBe(400);
        expect((await readJson<ErrorBody>(res)).error).toMatch(/not valid UTF-8/);
      }
    }
    expect((await readJson<TraceList>(await fetch(`${base}/ctf`))).traces).toEqual([]);
  });

  it("refuses a repeated key in an upload and in an append, with line and pointer", async () => {
    await start();
    const events = trace(2);
    const lines = ndjson(events).split("\n");
    lines[1] = lines[1].replace('"step_id":0,', '"step_id":0,"step_id":7,');
    const up = await post("/ctf?id=dup", lines.join("\n"));
    expect(up.status).toBe(400);
    expect((await readJson<ErrorBody>(up)).issues?.[0]).toEqual({
      line: 2,
      field: "/step_id",
      code: "duplicate_key",
      message: 'duplicate key "step_id" at /step_id',
      severity: "error",
    });
    const live = await post("/ctf/dup/events", lines.slice(0, 2).join("\n"));
    expect(await live.json()).toMatchObject({ accepted: 1, body_line: 2, issues: [{ code: "duplicate_key" }] });
  });
});

describe("limits", () => {
  it("closes a live socket whose client sends a frame over 1 MiB (1009), without buffering it", async () => {
    await start();
    const viewer = await connect("/ctf/quiet/live");
    viewer.ws.send(Buffer.alloc(MAX_CLIENT_MESSAGE_BYTES + 1, 0x61));
    expect(await within(viewer.closed, 3000)).toMatchObject({ code: 1009 });
    expect((await fetch(`${base}/ctf`)).status).toBe(200);
  });

  it("takes the server's body limit; too large is a 413 with the standard error body", async () => {
    await start({}, { bodyLimit: 64 * 1024 });
    const big = ndjson(trace(20, 8 * 1024));
    expect(big.length).toBeGreaterThan(64 * 1024);
    for (const path of ["/ctf?id=big", "/ctf/big/events"]) {
      const res = await post(path, big);
      expect(res.status, path).toBe(413);
      expect(await res.json(), path).toEqual({
        error: "request body is larger than the server's limit",
        code: "RTT_ERR_TOO_LARGE",
      });
    }
    await app.close();
    // An embedder may still choose its own.
    await start({ maxBodyBytes: 1024 * 1024 }, { bodyLimit: 64 * 1024 });
    expect((await post("/ctf?id=big", big)).status).toBe(201);
  });
});

describe("error bodies", () => {
  it("keep their shape: {error, code} plus the CTF fields (issues, accepted, events, complete, body_line)", async () => {
    await start();
    const events = trace(2);
    const body = async (res: Response) => ({ status: res.status, body: await readJson<ErrorBody>(res) });
    expect(await body(await fetch(`${base}/api/corridor/a%20b`))).toEqual({
      status: 400,
      body: {
        error: "invalid path parameters",
        code: "RTT_ERR_INVALID_INPUT",
        details: [{ path: "id", message: 'expected a trace id (letters, digits, . _ -, at most 128), found "a b"' }],
      },
    });
    expect(await body(await post("/ctf?id=a%20b", ndjson(events)))).toMatchObject({ status: 400 });
    expect(await body(await fetch(`${base}/api/corridor/none`))).toEqual({
      status: 404,
      body: { error: "no trace none", code: "RTT_ERR_NOT_FOUND" },
    });
    expect(await body(await fetch(`${base}/ctf/none/raw`))).toEqual({
      status: 404,
      body: { error: "no trace none", code: "RTT_ERR_NOT_FOUND" },
    });
    expect(await body(await post("/ctf", " \n"))).toEqual({
      status: 400,
      body: { error: "empty body: send the .ctf file as the request body", code: "RTT_ERR_INVALID_BODY" },
    });
    const invalid = await body(await post("/ctf", ndjson(events.slice(1))));
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body)).toEqual(["error", "code", "issues"]);
    expect(invalid.body.error).toMatch(/^invalid CTF: \d+ errors$/);

    expect((await post("/ctf?id=e", ndjson(events))).status).toBe(201);
    expect(await body(await post("/ctf?id=e", ndjson(trace(1))))).toEqual({
      status: 409,
      body: { error: "trace e already exists", code: "RTT_ERR_CONFLICT" },
    });
    expect(await body(await post("/ctf/e/events", ndjson(events.slice(0, 1))))).toEqual({
      status: 409,
      body: { error: "trace e is complete (footer written)", code: "RTT_ERR_CONFLICT" },
    });
    const rejected = await body(await post("/ctf/r/events", ndjson([events[0], events[0]])));
    expect(rejected.status).toBe(400);
    expect(Object.keys(rejected.body)).toEqual([
      "error",
      "code",
      "accepted",
      "events",
      "complete",
      "body_line",
      "issues",
    ]);
    expect(rejected.body).toMatchObject({
      error: "event rejected",
      accepted: 1,
      events: 1,
      complete: false,
      body_line: 2,
    });
  });
});

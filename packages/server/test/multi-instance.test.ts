// Issue 21: two `rtt serve` processes (the built CLI) on one PostgreSQL database, each with its own data dir, as
// behind a load balancer. Sessions ingested on A replay and stream (SSE) on B; a trace uploaded or appended live on
// A reaches a viewer connected to B; beacons and notes written on both at once stay consistent; and after A is
// SIGKILLed mid-ingest, every session and trace event A acknowledged is readable from B.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { PG_URL, probePostgres } from "../../../test/support/pg.js";
import { makeTrace, ndjson, searchStep } from "./support/ctf-trace.js";
import { json, makeV2 } from "./support/fixtures.js";
import { readSse } from "./support/sse.js";

const RTT_BIN = fileURLToPath(new URL("../../cli/bin/rtt.js", import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL("../../cli/dist/bin/rtt.js", import.meta.url)));
const pgProblem = await probePostgres();
const skip = pgProblem !== undefined || !BUILT;
if (!BUILT) console.warn("multi-instance: the CLI is not built (npm run build); skipped");

/** A database of its own (the CLI has no schema option): created here, dropped afterwards. */
const dbName = `rtt_multi_${process.pid}_${randomBytes(3).toString("hex")}`;
const dbUrl = (() => {
  const u = new URL(PG_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const JSON_HEADERS = { "content-type": "application/json" };
const NDJSON = { "content-type": "application/x-ndjson" };

interface Server {
  proc: ChildProcess;
  url: string;
  dir: string;
}
const servers: Server[] = [];

function serve(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "rtt-multi-"));
  const proc = spawn(
    process.execPath,
    [RTT_BIN, "serve", "--port", "0", "--db", dbUrl, "--data-dir", dir, "--rate-limit", "0"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
    proc.stderr?.on("data", (c) => {
      stderr += c;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(stderr);
      if (m && !servers.some((s) => s.proc === proc)) {
        clearTimeout(timer);
        const s = { proc, url: m[0], dir };
        servers.push(s);
        resolve(s);
      }
    });
    proc.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", r));

let a: Server;
let b: Server;
beforeAll(async () => {
  if (skip) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  // Started one after the other: the second finds the schema migrated (the advisory lock makes a race safe too).
  [a, b] = await Promise.all([serve(), serve()]);
}, 60_000);
afterAll(async () => {
  for (const s of servers) {
    s.proc.kill("SIGKILL");
    await exited(s.proc);
    rmSync(s.dir, { recursive: true, force: true });
  }
  if (skip) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

function viewer(url: string) {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const events: Array<{ seq: number; event: unknown }> = [];
  const waiters: Array<[number, () => void]> = [];
  ws.on("message", (d) => {
    const m = JSON.parse(String(d));
    if (m.type === "event") events.push({ seq: m.seq, event: m.event });
    for (const w of waiters.filter(([n]) => events.length >= n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w[1]();
    }
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const reached = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (events.length >= n) return resolve();
      const t = setTimeout(() => reject(new Error(`${events.length} of ${n} events`)), 15_000);
      waiters.push([
        n,
        () => {
          clearTimeout(t);
          resolve();
        },
      ]);
    });
  return { ws, events, opened, reached };
}

describe.skipIf(skip)("two rtt serve processes on one PostgreSQL", () => {
  it("a session ingested on A is listed, replayed and streamed (SSE) on B, byte for byte", async () => {
    const body = json(makeV2("MULTI-1", { samples: 60, anomalies: [[0.5, "DECOHERENCE_SPIKE", 3]] }));
    expect((await fetch(`${a.url}/sessions`, { method: "POST", headers: JSON_HEADERS, body })).status).toBe(201);
    expect(await (await fetch(`${b.url}/replay/MULTI-1/export`)).text()).toBe(body);
    const list = (await (await fetch(`${b.url}/replay/sessions`)).json()) as { sessions?: unknown[]; rows?: unknown[] };
    expect(JSON.stringify(list)).toContain("MULTI-1");
    const stream = (s: Server) => readSse(`${s.url}/replay/MULTI-1/segment/seg-main/stream?speed=max`);
    const [sa, sb] = await Promise.all([stream(a), stream(b)]);
    expect(sb.status).toBe(200);
    const frames = (r: typeof sa) => r.events.map((e) => [e.event, e.id, e.data]);
    expect(frames(sb)).toEqual(frames(sa));
    expect(sb.events.filter((e) => e.event === "sample").length).toBeGreaterThan(10);
    expect(sb.events.at(-1)?.event).toBe("end");
  });

  it("a trace uploaded and one appended live on A reach a viewer connected to B", async () => {
    const upload = makeTrace(8, { taskId: "multi-upload", step: searchStep(10) });
    const live = makeTrace(12, { taskId: "multi-live", step: searchStep(10) });
    const vu = viewer(`${b.url}/ctf/multi-upload/live`);
    const vl = viewer(`${b.url}/ctf/multi-live/live`);
    await Promise.all([vu.opened, vl.opened]);
    expect(
      (await fetch(`${a.url}/ctf?id=multi-upload`, { method: "POST", headers: NDJSON, body: ndjson(upload) })).status,
    ).toBe(201);
    for (let i = 0; i < live.length; i += 5) {
      const r = await fetch(`${a.url}/ctf/multi-live/events`, {
        method: "POST",
        headers: NDJSON,
        body: ndjson(live.slice(i, i + 5)),
      });
      expect(r.status).toBe(200);
    }
    await Promise.all([vu.reached(upload.length), vl.reached(live.length)]);
    expect(vu.events.map((e) => e.event)).toEqual(upload);
    expect(vl.events.map((e) => e.seq)).toEqual(live.map((_, i) => i));
    expect(vl.events.map((e) => e.event)).toEqual(live);
    // Idempotent on either server; the listing is the same.
    expect(
      (await fetch(`${b.url}/ctf?id=multi-upload`, { method: "POST", headers: NDJSON, body: ndjson(upload) })).status,
    ).toBe(200);
    expect(
      (await fetch(`${b.url}/ctf?id=multi-upload`, { method: "POST", headers: NDJSON, body: ndjson(live) })).status,
    ).toBe(409);
    expect(await (await fetch(`${b.url}/ctf`)).text()).toBe(await (await fetch(`${a.url}/ctf`)).text());
    vu.ws.close();
    vl.ws.close();
  });

  it("beacons of one site and notes of one session written on both servers at once: nothing lost", async () => {
    const beacon = (i: number) => ({
      site: "multi-site",
      session: "s",
      event: "heartbeat",
      ts: new Date().toISOString(),
      structure: {
        url: "internal://x",
        title: "x",
        nav_count: 0,
        main_count: 0,
        form_count: 0,
        button_count: 0,
        dom_nodes: i % 3,
      },
    });
    const n = 30;
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        fetch(`${(i % 2 ? b : a).url}/api/rtt/beacon`, {
          method: "POST",
          headers: JSON_HEADERS,
          body: JSON.stringify(beacon(i)),
        }).then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    const sites = (await (await fetch(`${b.url}/api/rtt/sites`)).json()) as {
      sites: Array<{ site: string; beacons: number }>;
    };
    expect(sites.sites.find((s) => s.site === "multi-site")?.beacons).toBe(n);

    const notes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${(i % 2 ? b : a).url}/replay/MULTI-1/notes`, {
          method: "POST",
          headers: JSON_HEADERS,
          body: JSON.stringify({ t: i, text: `note ${i}`, author: "instructor" }),
        }).then((r) => r.status),
      ),
    );
    expect(notes.every((s) => s === 201)).toBe(true);
    const [la, lb] = await Promise.all(
      [a, b].map(async (s) => (await (await fetch(`${s.url}/replay/MULTI-1/notes`)).json()) as Array<{ text: string }>),
    );
    expect(lb).toEqual(la);
    expect(lb.map((x) => x.text).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `note ${i}`).sort());
  });

  it("SIGKILL A mid-ingest: every session and trace event A acknowledged is readable from B", async () => {
    const acked: Array<{ id: string; body: string }> = [];
    const trace = makeTrace(400, { taskId: "multi-kill", step: searchStep(10), footer: false });
    let ackedEvents = 0;
    let killed = false;
    const sessions = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const id = `KILL-MULTI-${w}-${i}`;
        const body = json(makeV2(id, { samples: 24 }));
        try {
          const r = await fetch(`${a.url}/sessions`, { method: "POST", headers: JSON_HEADERS, body });
          if (r.status === 201) acked.push({ id, body });
        } catch {
          return; // A is gone
        }
      }
    };
    const appends = async () => {
      for (let i = 0; i < trace.length && !killed; i += 3) {
        try {
          const r = await fetch(`${a.url}/ctf/multi-kill/events`, {
            method: "POST",
            headers: NDJSON,
            body: ndjson(trace.slice(i, i + 3)),
          });
          if (r.status === 200) ackedEvents = ((await r.json()) as { events: number }).events;
        } catch {
          return;
        }
      }
    };
    const killer = (async () => {
      const until = Date.now() + 30_000;
      while ((acked.length < 60 || ackedEvents < 60) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      a.proc.kill("SIGKILL");
      killed = true;
      await exited(a.proc);
    })();
    await Promise.all([...Array.from({ length: 6 }, (_, w) => sessions(w)), appends(), killer]);
    expect(acked.length).toBeGreaterThanOrEqual(60);
    expect(ackedEvents).toBeGreaterThanOrEqual(60);
    for (const s of acked) expect(await (await fetch(`${b.url}/replay/${s.id}/export`)).text()).toBe(s.body);
    const raw = await (await fetch(`${b.url}/ctf/multi-kill/raw`)).text();
    const stored = raw.trimEnd().split("\n");
    expect(stored.length).toBeGreaterThanOrEqual(ackedEvents);
    expect(stored.slice(0, ackedEvents)).toEqual(trace.slice(0, ackedEvents).map((e) => JSON.stringify(e)));
    // B goes on: the trace takes its next events there.
    const next = trace.slice(stored.length, stored.length + 3);
    const r = await fetch(`${b.url}/ctf/multi-kill/events`, { method: "POST", headers: NDJSON, body: ndjson(next) });
    expect(r.status, await r.clone().text()).toBe(200);
  }, 60_000);
});

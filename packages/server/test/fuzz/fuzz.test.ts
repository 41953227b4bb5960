// Issue 13, "Keep them out": a seeded, structure-aware fuzz suite against a real listening server on
// 127.0.0.1 (in process, ephemeral port, SQLite file + data dir in a temp folder), one open and one token-mode.
//
//   npx vitest run packages/server/test/fuzz/fuzz.test.ts                      CI scale: about 2,200 inputs, < 1 min
//   RTT_FUZZ_SCALE=5 npx vitest run packages/server/test/fuzz/fuzz.test.ts     about 11,000 inputs
//   RTT_FUZZ_SEED=<n> …                                                        replay a run (the seed is printed)
//
// RTT_FUZZ_SCALE is a multiplier of every category's input count (not a total); fractions work (0.1 for a quick
// look). A property stops at its first failure, so a failing run sends fewer inputs than planned.
//
// Every answer: no 5xx (a 503 only as a store-busy answer with Retry-After), no single request over 2 s,
// the server answers /healthz after every batch. At the end: RSS growth bounded, and everything acknowledged
// (sessions 201/200, traces 201, live appends, beacons) reads back byte for byte, also after a restart.
import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, type StartOptions, startServer } from "../../src/server.js";
import { rawHead } from "../support/http.js";
import { type LiveCase, liveCaseArb, renderLive, renderTrace, traceCaseArb } from "./ctf.js";
import {
  analysisCaseArb,
  beaconCaseArb,
  bombArb,
  PROFILE_CASES,
  renderAnalysis,
  renderBeacon,
  renderBomb,
} from "./diagnostics.js";
import {
  type Acks,
  type Category,
  call,
  digest,
  healthy,
  ledger,
  MAX_REQUEST_MS,
  mb,
  newAcks,
  peakRss,
  processErrors,
  REPRO,
  raw,
  runs,
  SCALE,
  SEED,
  sameDigest,
  settledRss,
  type Target,
  target,
  watchProcess,
} from "./harness.js";
import { openLive } from "./live.js";
import { batchArb, type Rendered, renderBatch, renderSession, sessionCaseArb } from "./sessions.js";

watchProcess();

const TOKEN = "fuzz-write-token-0123456789abcdef";
const READ_TOKEN = "fuzz-read-token-0123456789abcdef";
const JSON_T = { "content-type": "application/json" };
const NDJSON_T = { "content-type": "application/x-ndjson" };
/** Generous: the suite shares the process (bombs and big bodies are built in memory); a leak shows as far more. */
const MAX_RSS_GROWTH_MB = 512;
/** Time bound of one property (fast-check stops early past it; the counts printed say what was sent). */
const PHASE_MS = 120_000 * Math.max(1, SCALE);
const TEST_MS = PHASE_MS + 60_000;

const tag = (SEED >>> 0).toString(36);
let counter = 0;
const nextId = (prefix = "FZ") => `${prefix}-${tag}-${++counter}`;

/**
 * fast-check options of one property: its own seed (derived from SEED and the property's name, so one test run
 * alone with `-t` draws the same inputs as in the full run), no shrinking, bounded in count and time.
 */
const opts = (t: Target, name: string, numRuns: number) => {
  let h = SEED;
  for (const c of `${t.name}:${name}`) h = (Math.imul(h ^ c.charCodeAt(0), 0x01000193) + 0x9e3779b9) | 0;
  return { seed: h, numRuns, endOnFailure: true, interruptAfterTimeLimit: PHASE_MS };
};

interface Setup {
  dir: string;
  options: StartOptions;
  auth: Record<string, string>;
  acks: Acks;
}
const setups: Record<Target["name"], Setup> = {} as Record<Target["name"], Setup>;
const targets: Record<Target["name"], Target> = {} as Record<Target["name"], Target>;
const openSockets = new Map<Target["name"], Set<Socket>>();

async function start(name: Target["name"]): Promise<Target> {
  const s = setups[name];
  const server: RunningServer = await startServer(s.options);
  targets[name] = target(name, server, s.auth, s.acks);
  // Every connection, to cut any the server would never end (see closeBounded).
  const sockets = new Set<Socket>();
  server.app.server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  openSockets.set(name, sockets);
  return targets[name];
}

function prepare(name: Target["name"], extra: Partial<StartOptions>, auth: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), `rtt-fuzz-${name}-`));
  setups[name] = {
    dir,
    auth,
    acks: newAcks(),
    options: {
      host: "127.0.0.1",
      port: 0,
      db: join(dir, "rtt.db"),
      dataDir: join(dir, "data"),
      logLevel: "silent",
      sessionOutput: null,
      rateLimit: 0,
      ...extra,
    },
  };
}

let rssBefore = 0;
let rssAfter = 0;
const started = performance.now();

beforeAll(async () => {
  prepare("open", {}, {});
  prepare("token", { token: TOKEN, readToken: READ_TOKEN }, { authorization: `Bearer ${TOKEN}` });
  await start("open");
  await start("token");
  rssBefore = settledRss();
  console.info(`fuzz: seed ${SEED}, scale ${SCALE} (reproduce: ${REPRO})`);
});

/**
 * Closes a server, bounded: a close that does not finish in time (a connection the server never ends) is
 * reported, then the remaining connections are cut so the suite ends.
 */
async function closeBounded(t: Target, ms = 10_000): Promise<string | undefined> {
  const http = t.server.app.server;
  const closing = t.server.close();
  const late = await Promise.race([
    closing.then(() => undefined),
    new Promise<string>((resolve) =>
      setTimeout(() => http.getConnections((_e, n) => resolve(`${n} connections still open after ${ms} ms`)), ms),
    ),
  ]);
  if (late) {
    for (const sock of openSockets.get(t.name) ?? []) sock.destroy();
    await closing;
  }
  return late;
}

afterAll(async () => {
  for (const t of Object.values(targets)) await closeBounded(t).catch(() => {});
  for (const s of Object.values(setups)) rmSync(s.dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// sessions

/** Records an acknowledged session (201, or 200 for one already acknowledged) and checks it against the case. */
function ackSession(t: Target, r: Rendered, status: number, sessionId: unknown, what: string) {
  expect(typeof sessionId, `${what}: ${status} without a session_id [${REPRO}]`).toBe("string");
  const id = sessionId as string;
  if (r.id !== undefined) expect(id, `${what}: acknowledged another session_id [${REPRO}]`).toBe(r.id);
  if (status === 201) {
    expect(t.acks.sessions.has(id), `${what}: 201 twice for ${JSON.stringify(id)} [${REPRO}]`).toBe(false);
    t.acks.sessions.set(id, digest(r.body));
    const sample = retrySample.get(t.name) ?? new Map<string, Buffer>();
    retrySample.set(t.name, sample);
    if (sample.size < runs(10)) sample.set(id, Buffer.from(r.body));
    t.acks.how.set(`session ${id}`, what);
  } else expect(t.acks.sessions.has(id), `${what}: 200 (duplicate) for a session never created [${REPRO}]`).toBe(true);
}

/** A few acknowledged bodies per server, sent again to check that a retry is a 200. */
const retrySample = new Map<Target["name"], Map<string, Buffer>>();

function checkExpectation(r: Rendered, status: number, what: string) {
  if (r.expect === "accept") expect(status, `${what}: a valid input must be accepted [${REPRO}]`).toBe(201);
  if (r.expect === "reject") {
    expect(status, `${what}: must be refused [${REPRO}]`).toBeGreaterThanOrEqual(400);
    expect(status, `${what}: must be refused [${REPRO}]`).toBeLessThan(500);
  }
}

async function sendSession(t: Target, category: Category, r: Rendered) {
  const a = await call(t, category, r.what, { path: "/sessions", body: r.body, headers: JSON_T });
  checkExpectation(r, a.status, `${t.name} ${r.what}`);
  if (a.status === 201 || a.status === 200)
    ackSession(t, r, a.status, (a.json() as { session_id?: string }).session_id, r.what);
  else if (a.status !== 503) expect((a.json() as { error?: unknown }).error, r.what).toBeTypeOf("string");
}

async function fuzzSessions(t: Target, category: Category, singles: number, batches: number) {
  await fc.assert(
    fc.asyncProperty(sessionCaseArb, async (c) => {
      await sendSession(t, category, renderSession(c, nextId()));
    }),
    opts(t, "session mutations", singles),
  );
  await healthy(t, "session mutations");
  await fc.assert(
    fc.asyncProperty(batchArb, async (b) => {
      const r = renderBatch(b, () => nextId());
      const a = await call(t, category, r.what, { path: "/sessions", body: r.body, headers: NDJSON_T });
      const body = a.json() as { results?: Array<{ line: number; status: number; session_id?: string }> };
      expect(Array.isArray(body.results), `${r.what}: no per-line results: ${a.body.slice(0, 200)} [${REPRO}]`).toBe(
        true,
      );
      const results = body.results ?? [];
      expect(results.length, `${r.what}: one result per line [${REPRO}]`).toBe(r.lines.length);
      results.forEach((res, k) => {
        const line = r.lines[k];
        const what = `${r.what} line ${res.line} (${line.what})`;
        checkExpectation(line, res.status, what);
        expect(res.status, what).toBeLessThan(res.status === 503 ? 504 : 500);
        if (res.status === 201 || res.status === 200) ackSession(t, line, res.status, res.session_id, what);
      });
      const ok = results.filter((x) => x.status < 300).length;
      const expected = ok === results.length ? [200, 201] : ok > 0 ? [207] : [400, 409, 503];
      expect(
        expected,
        `${r.what}: batch status ${a.status} for lines ${results.map((x) => x.status)} [${REPRO}]`,
      ).toContain(a.status);
    }),
    opts(t, "ndjson batches", batches),
  );
  await healthy(t, "NDJSON batches");
  // A retry of acknowledged bytes is a 200; other content under the same id is a 409 and changes nothing.
  for (const [id, bytes] of retrySample.get(t.name) ?? []) {
    const again = await call(t, category, `retry ${id.slice(0, 40)}`, {
      path: "/sessions",
      body: bytes,
      headers: JSON_T,
    });
    expect(again.status, `retry of acknowledged ${JSON.stringify(id).slice(0, 60)} [${REPRO}]`).toBe(200);
  }
}

// ---------------------------------------------------------------------------------------------------------
// CTF

const stripBom = (b: Buffer) => (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b);
/** Non-blank lines as the server keeps them (no CR), from the bytes sent. */
function bodyLines(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i < body.length && body[i] !== 0x0a) continue;
    let line = body.subarray(start, i);
    if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (out.length === 0 && start === 0) line = stripBom(line);
    if (line.toString("latin1").trim().length) out.push(line);
    start = i + 1;
  }
  return out;
}

/** Opens the live socket of an acknowledged trace and reads its replay to the end. */
async function replayTrace(t: Target, id: string, what: string) {
  const expected = t.acks.events.get(id);
  if (expected === undefined) return;
  const r = await openLive(t, `/ctf/${id}/live`, expected, { timeoutMs: 5_000 }).done;
  ledger.replays++;
  ledger.replayedEvents += r.events;
  const ctx = `${t.name} live replay of ${id} (${what}): ${JSON.stringify({ ...r, seqs: r.seqs.length })} [${REPRO}]`;
  expect(r.refused, ctx).toBe(0);
  expect(r.opened, ctx).toBe(true);
  expect(r.openMs, ctx).toBeLessThan(MAX_REQUEST_MS);
  expect(r.bad, ctx).toEqual([]);
  expect(r.ended, `replay did not end: ${ctx}`).toBe(true);
  expect(r.covered, ctx).toBe(expected);
}

async function fuzzCtf(t: Target, uploads: number) {
  const accepted: Array<{ id: string; what: string }> = [];
  await fc.assert(
    fc.asyncProperty(traceCaseArb, async (c) => {
      const id = nextId("fz");
      const r = renderTrace(c, id);
      const a = await call(t, "ctf", r.what, {
        path: `/ctf?id=${encodeURIComponent(r.id)}`,
        body: r.body,
        headers: NDJSON_T,
      });
      const what = `${t.name} upload ${r.what}`;
      // An id given twice (the id cases repeat) is a retry (200, same bytes) or a conflict (409).
      const again = t.acks.traces.get(r.id);
      if (again) expect(a.status, what).toBe(sameDigest(again, digest(stripBom(r.body))) ? 200 : 409);
      else if (r.expect === "accept") expect(a.status, `${what}: ${a.body.slice(0, 300)} [${REPRO}]`).toBe(201);
      if (r.expect === "reject") expect(a.status, `${what}: must be refused [${REPRO}]`).toBeGreaterThanOrEqual(400);
      if (a.status === 201) {
        const res = a.json() as { id: string };
        expect(res.id, what).toBe(r.id);
        // A retry of an acknowledged id (a trace id may repeat across cases) must be the same bytes.
        expect(t.acks.traces.has(res.id), `${what}: 201 twice for ${res.id} [${REPRO}]`).toBe(false);
        // A leading BOM is not part of the trace: the server stores the text without it.
        t.acks.traces.set(res.id, digest(stripBom(r.body)));
        t.acks.events.set(res.id, bodyLines(r.body).length);
        t.acks.how.set(`trace ${res.id}`, what);
        t.acks.complete.add(res.id);
        accepted.push({ id: res.id, what: r.what });
      } else if (a.status === 200) {
        const res = a.json() as { id: string };
        const acked = t.acks.traces.get(res.id);
        expect(
          acked && sameDigest(acked, digest(stripBom(r.body))),
          `${what}: 200 for bytes never acknowledged [${REPRO}]`,
        ).toBe(true);
      }
    }),
    opts(t, "ctf uploads", uploads),
  );
  await healthy(t, "CTF uploads");
  // Every acknowledged trace: the parsed view answers, and its live socket replays it to the end.
  for (const { id, what } of accepted) {
    await call(t, "ctf", `corridor view ${id}`, { path: `/api/corridor/${id}` });
    await replayTrace(t, id, what);
  }
  await healthy(t, "CTF live replays");
  return accepted.length;
}

async function liveCase(t: Target, c: LiveCase) {
  const id = nextId("live");
  const { bodies, what } = renderLive(c);
  const viewers = Array.from({ length: c.earlyViewers }, () =>
    openLive(t, `/ctf/${id}/live`, -1, { timeoutMs: 15_000 }),
  );
  // Early viewers are subscribed before the first append (each open is bounded by its socket's time limit).
  await Promise.all(viewers.map((v) => v.opened));
  const stored: Buffer[] = [];
  let complete = false;
  for (const [k, body] of bodies.entries()) {
    const a = await call(t, "ctf-live", `${what} append ${k + 1}/${bodies.length}`, {
      path: `/ctf/${id}/events`,
      body,
      headers: NDJSON_T,
    });
    const ctx = `${t.name} ${what} append ${k + 1}: ${a.status} ${a.body.slice(0, 300)} [${REPRO}]`;
    const lines = bodyLines(body);
    if (a.status === 200 || a.status === 400) {
      const res = a.json() as { accepted?: number; complete?: boolean };
      // A 400 without `accepted` refused the body as a whole (not UTF-8, empty): nothing was stored.
      if (a.status === 200) expect(typeof res.accepted, ctx).toBe("number");
      const n = res.accepted ?? 0;
      expect(n, ctx).toBeLessThanOrEqual(lines.length);
      if (a.status === 200) expect(n, ctx).toBe(lines.length);
      stored.push(...lines.slice(0, n));
      if (res.complete) complete = true;
    } else expect([409], ctx).toContain(a.status);
    if (a.status === 409) expect(complete, `409 before the footer was accepted: ${ctx}`).toBe(true);
  }
  if (stored.length) {
    t.acks.traces.set(id, digest(Buffer.concat(stored.flatMap((l) => [l, Buffer.from("\n")]))));
    t.acks.events.set(id, stored.length);
    t.acks.how.set(`trace ${id}`, what);
    if (complete) t.acks.complete.add(id);
  }
  // Early viewers heard every stored event live, and nothing that was not stored.
  for (const v of viewers) v.expect(stored.length);
  for (const v of viewers) {
    const r = await v.done;
    const ctx = `${t.name} early viewer of ${id} (${what}): ${JSON.stringify({ ...r, seqs: r.seqs.slice(-5) })} [${REPRO}]`;
    expect(r.opened, ctx).toBe(true);
    expect(r.bad, ctx).toEqual([]);
    expect(r.ended, `live viewer missed events: ${ctx}`).toBe(true);
    expect(Math.max(-1, ...r.seqs), `live viewer heard of an event never stored: ${ctx}`).toBeLessThan(stored.length);
  }
  if (stored.length) await replayTrace(t, id, what);
}

async function fuzzLive(t: Target, cases: number) {
  await fc.assert(
    fc.asyncProperty(liveCaseArb, (c) => liveCase(t, c)),
    opts(t, "ctf live", cases),
  );
  await healthy(t, "CTF live appends");
  // Appends to a completed upload are refused and change nothing; sockets on odd ids close cleanly.
  for (const id of [...t.acks.complete].slice(0, runs(5))) {
    const a = await call(t, "ctf-live", `append to complete ${id}`, {
      path: `/ctf/${id}/events`,
      body: '{"type":"footer","timestamp":1,"final_status":"stable"}\n',
      headers: NDJSON_T,
    });
    expect(a.status, `append to a complete trace [${REPRO}]`).toBe(409);
  }
  for (const path of [
    "/ctf/../live",
    "/ctf/a%2Fb/live",
    "/ctf/%FF/live",
    `/ctf/${"a".repeat(129)}/live`,
    "/ctf/nothing-here/live?from=end",
  ]) {
    const r = await openLive(t, path, 0, { timeoutMs: 1000 }).done;
    ledger.sent["ctf-live"] = (ledger.sent["ctf-live"] ?? 0) + 1;
    expect(r.refused === 0 || (r.refused >= 400 && r.refused < 500), `${path}: ${JSON.stringify(r)} [${REPRO}]`).toBe(
      true,
    );
  }
  await healthy(t, "odd live sockets");
}

// ---------------------------------------------------------------------------------------------------------
// diagnostics

/** Largest answer of an analysis: a few times the request (it names the request's nodes), never a blow-up. */
const bodyCap = (request: number) => 10 * request + 1024 * 1024;
/** Largest answer to one beacon (drift events with their details). */
const MAX_DIAGNOSTICS_ANSWER = 1024 * 1024;

async function fuzzBeacons(t: Target, beacons: number) {
  const pool = `fzsite-${tag}-${t.name}`;
  await fc.assert(
    fc.asyncProperty(beaconCaseArb, async (c) => {
      const r = renderBeacon(c, () => nextId("fzs"), pool);
      const a = await call(t, "diagnostics", r.what, { path: "/api/rtt/beacon", body: r.body, headers: JSON_T });
      const what = `${t.name} beacon ${r.what}`;
      if (r.expect === "accept") expect(a.status, `${what}: ${a.body.slice(0, 300)} [${REPRO}]`).toBe(200);
      if (r.expect === "reject") {
        expect(a.status, `${what}: must be refused [${REPRO}]`).toBeGreaterThanOrEqual(400);
        expect(a.status, what).toBeLessThan(500);
      }
      if (a.status === 200) t.acks.beacons.set(r.site, (t.acks.beacons.get(r.site) ?? 0) + 1);
      expect(({} as Record<string, unknown>).polluted, `${what}: prototype polluted [${REPRO}]`).toBeUndefined();
      // What a beacon answers (its drift events) is bounded whatever the structure it carries.
      expect(a.bytes, `${what}: answer of ${a.bytes} bytes for a ${r.body.length}-byte beacon [${REPRO}]`).toBeLessThan(
        MAX_DIAGNOSTICS_ANSWER,
      );
      if (a.status === 200) expect((a.json() as { site: string }).site, what).toBe(r.site);
    }),
    opts(t, "beacons", beacons),
  );
  await healthy(t, "beacons");
  const drift = await call(t, "diagnostics", "drift list", { path: "/api/rtt/drift?limit=1000" });
  expect(drift.status).toBe(200);
  expect(drift.bytes, `GET /api/rtt/drift?limit=1000 answered ${drift.bytes} bytes [${REPRO}]`).toBeLessThan(
    16 * MAX_DIAGNOSTICS_ANSWER,
  );
  for (const p of PROFILE_CASES) {
    const a = await call(t, "diagnostics", `profile ${p.site.slice(0, 20)}`, {
      method: "PUT",
      path: `/api/rtt/profile/${encodeURIComponent(p.site)}`,
      body: p.body,
      headers: JSON_T,
    });
    if (p.expect === "accept") expect(a.status, `profile ${p.site}: ${a.body} [${REPRO}]`).toBe(200);
    else expect(a.status, `profile ${p.site} must be refused: ${a.body} [${REPRO}]`).toBeGreaterThanOrEqual(400);
  }
  await healthy(t, "profiles");
}

async function fuzzAnalyses(t: Target, analyses: number, bombs: number) {
  await fc.assert(
    fc.asyncProperty(analysisCaseArb, async (c) => {
      const r = renderAnalysis(c);
      const a = await call(t, "diagnostics", r.what, { path: r.route, body: r.body, headers: JSON_T });
      expect(a.bytes, `${r.what}: answer of ${a.bytes} bytes [${REPRO}]`).toBeLessThan(bodyCap(r.body.length));
    }),
    opts(t, "analyses", analyses),
  );
  await healthy(t, "analyses");
  await fc.assert(
    fc.asyncProperty(bombArb, async (b) => {
      const r = renderBomb(b);
      const a = await call(t, "diagnostics", r.what, { path: r.route, body: r.body, headers: JSON_T });
      const what = `${t.name} ${r.what} (${mb(r.body.length)} MB) → ${a.status} in ${Math.round(a.ms)} ms: ${a.body.slice(0, 200)} [${REPRO}]`;
      expect([200, 400, 413], what).toContain(a.status);
      if (r.expect === "too-large") expect(a.status, what).toBe(413);
      expect(a.bytes, `amplification: ${a.bytes} bytes answered: ${what}`).toBeLessThan(bodyCap(r.body.length));
      await healthy(t, r.what);
    }),
    opts(t, "bombs", bombs),
  );
  // Site label cardinality in /metrics stays capped whatever the number of sites.
  const m = await call(t, "diagnostics", "metrics after beacons", { path: "/metrics" });
  const labels = new Set(
    [...m.body.matchAll(/^rtt_beacons_total\{[^}]*(?:service|cluster)="([^"]*)"/gm)].map((x) => x[1]),
  );
  expect(labels.size, `rtt_beacons_total has ${labels.size} site labels [${REPRO}]`).toBeLessThanOrEqual(501);
  expect(m.body, `5xx answered at some point [${REPRO}]`).not.toMatch(/status="5\d\d"/);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP level (raw sockets)

const WRITE_ROUTES: Array<[string, string]> = [
  ["POST", "/sessions"],
  ["POST", "/ctf?id=fz-ct"],
  ["POST", "/ctf/fz-ct/events"],
  ["POST", "/api/rtt/beacon"],
  ["PUT", "/api/rtt/profile/fz-ct"],
  ["POST", "/api/rtt/validate"],
  ["POST", "/api/rtt/corridor"],
  ["POST", "/api/rtt/topology"],
  ["POST", "/replay/fz-ct/notes"],
  ["POST", "/run"],
  ["POST", "/validate"],
];
const BAD_TYPES = [
  "text/plain",
  "text/plain; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/octet-stream",
  "application/jsonx",
  "application/json-patch+json",
  "text/json",
  "%%%",
  "",
];
const FOREIGN_HOSTS = [
  "evil.example",
  "evil.example:80",
  "127.0.0.1.evil.example",
  "localhost.evil.example",
  "rtt.attacker.test:8080",
  "EVIL.EXAMPLE",
];
const LOCAL_HOSTS = ["localhost", "LOCALHOST:1", "[::1]", "127.0.0.1", "127.1.2.3:9", "app.localhost"];
const FOREIGN_ORIGINS = [
  "https://evil.example",
  "null",
  "http://127.0.0.1.evil.example",
  "http://localhost:1",
  "file://",
  "http://[::1]:1",
];
const BAD_ESCAPES = [
  "%",
  "%%",
  "%Z",
  "%ZZ",
  "%E0%A4%A",
  "%C0%AF",
  "%ED%A0%80",
  "%FF",
  "%F4%90%80%80",
  "%00",
  "%2e%2e",
  "%2E%2E%2F%2E%2E",
  "a%",
  "%u0041",
  "%C3",
  "%%32%65",
  "%0A",
  "%0D%0A",
  "%C3%28",
];
const PATH_TEMPLATES = [
  "/replay/X",
  "/replay/X/export",
  "/replay/X/segments",
  "/replay/X/segment/X/events",
  "/replay/X/segment/X/columns",
  "/replay/X/notes",
  "/replay/X/curriculum",
  "/ctf/X/raw",
  "/api/corridor/X",
  "/api/rtt/profile/X",
  "/api/operators/X/mastery",
  "/X",
  "/assets/X",
  "/replay/sessions?operator=X",
  "/api/rtt/drift?site=X",
  "/replay/X/segment/seg-main/stream?speed=X",
];

/** The bytes after the head of a request whose body the server must refuse without reading. */
const NEVER_SENT = 5_000_000;

async function fuzzHttpHeads(t: Target, n: { types: number; hosts: number; origins: number }) {
  const valid = renderSession(
    { base: { v: 2, samples: 8, operator: false, anomalies: 0 }, mutation: { op: "pristine", pretty: false } },
    "x",
  ).body;
  // Wrong content types, on every write route, refused from the head alone (415 before the body).
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...WRITE_ROUTES),
      fc.constantFrom(...BAD_TYPES),
      fc.boolean(),
      async ([method, path], type, send) => {
        const headers: Record<string, string | number> = { "Content-Length": send ? valid.length : NEVER_SENT };
        if (type) headers["Content-Type"] = type;
        const a = await raw(t, "http", `content-type ${JSON.stringify(type)}${send ? "" : ", body withheld"}`, {
          head: rawHead(method, path, headers, t.port),
          body: send ? valid : undefined,
        });
        expect(
          a.status,
          `${method} ${path} as ${JSON.stringify(type)}: ${a.head.split("\r\n")[0]} ${a.body.slice(0, 200)} [${REPRO}]`,
        ).toBe(415);
      },
    ),
    opts(t, "content types", n.types),
  );
  await healthy(t, "content types");
  // Foreign Host names (DNS rebinding) are refused on every route, before any body; loopback names are served.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...FOREIGN_HOSTS, ...LOCAL_HOSTS),
      fc.constantFrom(["GET", "/healthz"], ["GET", "/replay/sessions"], ["GET", "/ctf"], ...WRITE_ROUTES),
      async (host, [method, path]) => {
        const write = method !== "GET";
        const foreign = FOREIGN_HOSTS.includes(host);
        const headers: Record<string, string | number> = { Host: host };
        // A foreign name is refused from the head: the body is never sent.
        if (write)
          Object.assign(headers, { "Content-Type": "application/json", "Content-Length": foreign ? NEVER_SENT : 2 });
        const a = await raw(t, "http", `Host ${host}`, {
          head: rawHead(method, path, headers, t.port),
          body: write && !foreign ? "{}" : undefined,
        });
        const ctx = `${method} ${path} Host ${host}: ${a.status} ${a.body.slice(0, 200)} [${REPRO}]`;
        if (foreign) expect(a.status, ctx).toBe(403);
        else if (!write) expect(a.status, ctx).toBe(200);
        else expect(a.status, ctx).not.toBe(403);
      },
    ),
    opts(t, "hosts", n.hosts),
  );
  await healthy(t, "Host headers");
  // Cross-site writes and sockets are refused before the body; a cross-site read is not a write.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...FOREIGN_ORIGINS, "sec-fetch-site", "same"),
      fc.constantFrom(...WRITE_ROUTES),
      async (origin, [method, path]) => {
        const headers: Record<string, string | number> = { "Content-Type": "application/json" };
        if (origin === "sec-fetch-site") headers["Sec-Fetch-Site"] = "cross-site";
        else headers.Origin = origin === "same" ? `http://127.0.0.1:${t.port}` : origin;
        const foreign = origin !== "same";
        headers["Content-Length"] = foreign ? NEVER_SENT : 2;
        const a = await raw(t, "http", `Origin ${origin}`, {
          head: rawHead(method, path, headers, t.port),
          body: foreign ? undefined : "{}",
        });
        const ctx = `${method} ${path} Origin ${origin}: ${a.status} ${a.body.slice(0, 200)} [${REPRO}]`;
        if (foreign) expect(a.status, ctx).toBe(403);
        else expect(a.status, ctx).not.toBe(403);
      },
    ),
    opts(t, "origins", n.origins),
  );
  for (const origin of FOREIGN_ORIGINS) {
    const r = await openLive(t, "/ctf/fz-origin/live", 0, { headers: { origin }, timeoutMs: 2000 }).done;
    ledger.sent.http = (ledger.sent.http ?? 0) + 1;
    expect(r.refused, `live socket from Origin ${origin}: ${JSON.stringify(r)} [${REPRO}]`).toBe(403);
  }
  const ws = await openLive(t, "/ctf/fz-origin/live", 0, { headers: { host: "evil.example" }, timeoutMs: 2000 }).done;
  expect(ws.refused, `live socket with Host evil.example [${REPRO}]`).toBe(403);
  const read = await raw(t, "http", "cross-site GET", {
    head: rawHead("GET", "/replay/sessions", { Origin: "https://evil.example" }, t.port),
  });
  expect(read.status, `a cross-site GET is a read [${REPRO}]`).toBe(200);
  await healthy(t, "Origin headers");
}

async function fuzzHttpBodies(t: Target, n: { paths: number; slow: number; cut: number }) {
  // Bad percent-encoding anywhere in the path or query: a 4xx (or a 200 for a query value), never a 5xx.
  const badEscape = fc.oneof(
    fc.constantFrom(...BAD_ESCAPES),
    fc
      .tuple(fc.constantFrom("0123456789ABCDEFGZz%/.".split("")), fc.constantFrom("0123456789ABCDEFGZz%/.".split("")))
      .map(([a, b]) => `%${a}${b}`),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...PATH_TEMPLATES),
      badEscape,
      fc.constantFrom("GET", "POST", "HEAD"),
      async (tpl, esc, method) => {
        const path = tpl.replaceAll("X", `fz${esc}`);
        const headers: Record<string, string | number> =
          method === "POST" ? { "Content-Type": "application/json", "Content-Length": 2 } : {};
        const a = await raw(t, "http", `path ${path}`, {
          head: rawHead(method, path, headers, t.port),
          body: method === "POST" ? "{}" : undefined,
        });
        expect(a.status, `${method} ${path}: ${a.body.slice(0, 200)} [${REPRO}]`).toBeLessThan(500);
      },
    ),
    opts(t, "paths", n.paths),
  );
  await healthy(t, "percent-encoding");

  // Slow bodies (a few bytes every 50 ms), some completed, some abandoned; the server keeps answering others.
  const slow = Array.from({ length: n.slow }, (_, i) => {
    const id = nextId("slow");
    const body = renderSession(
      { base: { v: 2, samples: 6, operator: false, anomalies: 0 }, mutation: { op: "pristine", pretty: false } },
      id,
    ).body;
    const mode = (["wait", "destroy", "end"] as const)[i % 3];
    return { id, body, mode };
  });
  let probing = true;
  const probes: number[] = [];
  const probe = (async () => {
    for (let i = 0; probing && i < 400; i++) {
      const h = await call(t, "http", "healthz while bodies drip", { path: "/healthz" });
      probes.push(h.ms);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const answers = await Promise.all(
    slow.map((s, i) =>
      raw(
        t,
        "http",
        `slow body (${s.mode})`,
        {
          head: rawHead(
            "POST",
            "/sessions",
            { "Content-Type": "application/json", "Content-Length": s.body.length },
            t.port,
          ),
          body: s.body,
          drip: { bytes: 3, everyMs: 50, forMs: 300 + ((i * 97) % 1200) },
          after: s.mode,
          timeoutMs: 6000,
        },
        s.mode === "wait",
      ),
    ),
  );
  probing = false;
  await probe;
  for (const [i, a] of answers.entries()) {
    const s = slow[i];
    if (s.mode === "wait") {
      expect(a.status, `slow body completed: ${a.body.slice(0, 200)} [${REPRO}]`).toBe(201);
      t.acks.sessions.set(s.id, digest(s.body));
      t.acks.how.set(`session ${s.id}`, "slow body");
    } else {
      expect(
        a.status === 0 || (a.status >= 400 && a.status < 500),
        `abandoned slow body → ${a.status} [${REPRO}]`,
      ).toBe(true);
      // Half a body is never stored.
      const got = await call(t, "http", "abandoned session absent", { path: `/replay/${s.id}/export` });
      expect(got.status, `abandoned slow body of ${s.id} [${REPRO}]`).toBe(404);
    }
  }
  expect(Math.max(...probes), `healthz while bodies dripped [${REPRO}]`).toBeLessThan(MAX_REQUEST_MS);

  // Truncated bodies: the head announces more than is ever sent, then the client leaves.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("/sessions", "/ctf?id=X", "/ctf/X/events", "/api/rtt/beacon", "/api/rtt/validate"),
      fc.double({ min: 0, max: 0.99, noNaN: true }),
      fc.constantFrom<"destroy" | "end">("destroy", "end"),
      fc.constantFrom(0, 1, 1000, 1_000_000),
      async (route, fraction, after, extra) => {
        const id = nextId("cut");
        const body =
          route === "/sessions"
            ? renderSession(
                {
                  base: { v: 2, samples: 6, operator: false, anomalies: 0 },
                  mutation: { op: "pristine", pretty: false },
                },
                id,
              ).body
            : Buffer.from(
                `{"site":"${id}","session":"s","event":"heartbeat","ts":"2026-01-06T08:00:00Z","structure":{}}`,
              );
        const path = route.replace("X", id);
        const a = await raw(
          t,
          "http",
          `truncated body (${after})`,
          {
            head: rawHead(
              "POST",
              path,
              {
                "Content-Type": route.startsWith("/ctf") ? "application/x-ndjson" : "application/json",
                "Content-Length": body.length + extra,
              },
              t.port,
            ),
            body,
            // Announced exactly: part of it is sent; announced more: all of it is.
            sendBytes: extra === 0 ? Math.floor(body.length * fraction) : body.length,
            after,
            timeoutMs: 2000,
          },
          false,
        );
        const ctx = `${path} cut (${after}, +${extra}): ${a.status} ${a.body.slice(0, 200)} [${REPRO}]`;
        expect(a.status === 0 || (a.status >= 400 && a.status < 500), ctx).toBe(true);
        // Nothing half-received is stored.
        if (route === "/sessions") {
          const got = await call(t, "http", "cut session absent", { path: `/replay/${id}/export` });
          expect(got.status, ctx).toBe(404);
        }
      },
    ),
    opts(t, "truncated bodies", n.cut),
  );
  await healthy(t, "slow and truncated bodies");

  // Oversize bodies: 413, from the announced length when there is one.
  const big = Buffer.alloc(11 * 1024 * 1024, 0x20);
  big.write('{"session_id":"big","x":"', 0);
  for (const [method, path, type] of [
    ["POST", "/sessions", "application/json"],
    ["POST", "/sessions", "application/x-ndjson"],
    ["POST", "/api/rtt/validate", "application/json"],
    ["PUT", "/api/rtt/profile/fz-big", "application/json"],
    ["POST", "/replay/fz-big/notes", "application/json"],
  ] as const) {
    // Refused from the announced length: only the start of the body is ever sent.
    const a = await raw(t, "http", `oversize ${path}`, {
      head: rawHead(method, path, { "Content-Type": type, "Content-Length": big.length }, t.port),
      body: big,
      sendBytes: 64 * 1024,
      timeoutMs: 3000,
    });
    expect(a.status, `${method} ${path} with 11 MiB [${REPRO}]`).toBe(413);
    const chunked = await raw(
      t,
      "http",
      `oversize chunked ${path}`,
      {
        head: rawHead(method, path, { "Content-Type": type, "Transfer-Encoding": "chunked" }, t.port),
        body: Buffer.concat([Buffer.from(`${big.length.toString(16)}\r\n`), big, Buffer.from("\r\n0\r\n\r\n")]),
        timeoutMs: 10_000,
      },
      false,
    );
    expect([413, 0], `${method} ${path} chunked 11 MiB [${REPRO}]`).toContain(chunked.status);
  }
  for (const path of ["/ctf?id=fz-huge", "/ctf/fz-huge/events"]) {
    const a = await raw(t, "http", `announced 300 MiB ${path}`, {
      head: rawHead(
        "POST",
        path,
        { "Content-Type": "application/x-ndjson", "Content-Length": 300 * 1024 * 1024 },
        t.port,
      ),
      body: Buffer.alloc(64 * 1024, 0x7b),
      timeoutMs: 3000,
    });
    expect(a.status, `${path} announcing 300 MiB: ${a.body.slice(0, 200)} [${REPRO}]`).toBe(413);
  }
  const fatHead = await raw(t, "http", "64 KiB header", {
    head: rawHead("GET", "/healthz", { "X-Fat": "h".repeat(64 * 1024) }, t.port),
  });
  expect(fatHead.status, `a 64 KiB header [${REPRO}]`).toBe(431);
  await healthy(t, "oversize bodies");
  // A WebSocket handshake on a path without a live socket is answered over HTTP and the server ends the
  // connection; on a plain route of the CTF plugin the socket opens (101) and is closed at once (close frame).
  for (const [path, opened] of [
    ["/nope/live", false],
    ["/healthz", false],
    ["/replay/sessions", false],
    ["/ctf/%FF/live", false],
    ["/api/rtt/sites", false],
    ["/ctf/fz-none/raw", true],
  ] as const) {
    const head = rawHead(
      "GET",
      path,
      {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": 13,
      },
      t.port,
    );
    const a = await raw(t, "http", `upgrade ${path}`, { head, timeoutMs: opened ? 1000 : 3000 });
    const ctx = `${path}: upgrade answered ${a.status} [${REPRO}]`;
    if (opened) {
      expect(a.status, ctx).toBe(101);
      expect(a.rest[0], `${ctx}: no close frame`).toBe(0x88);
    } else expect(a.timedOut, `${ctx} but the server kept the connection open`).toBe(false);
  }
}

// ---------------------------------------------------------------------------------------------------------
// token mode

const AUTH_VARIANTS: Array<[string, Record<string, string>, "none" | "read" | "write"]> = [
  ["no credentials", {}, "none"],
  ["wrong token", { authorization: "Bearer wrong-token-0123456789abcdef" }, "none"],
  ["empty bearer", { authorization: "Bearer " }, "none"],
  ["basic", { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }, "none"],
  ["token with a suffix", { authorization: `Bearer ${TOKEN}x` }, "none"],
  ["token prefix", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, "none"],
  ["huge header", { authorization: `Bearer ${"t".repeat(8000)}` }, "none"],
  ["garbage cookie", { cookie: "rtt_auth=w.AAAA" }, "none"],
  ["read token", { authorization: `Bearer ${READ_TOKEN}` }, "read"],
  ["write token", { authorization: `Bearer ${TOKEN}` }, "write"],
];
const TOKEN_ROUTES: Array<[string, string, "public" | "read" | "compute" | "write"]> = [
  ["GET", "/healthz", "public"],
  ["GET", "/metrics", "public"],
  ["GET", "/replay/sessions", "read"],
  ["GET", "/ctf", "read"],
  ["GET", "/api/rtt/sites", "read"],
  ["POST", "/api/rtt/validate", "compute"],
  ["POST", "/api/rtt/topology", "compute"],
  ["POST", "/sessions", "write"],
  ["POST", "/ctf?id=fz-tok", "write"],
  ["POST", "/ctf/fz-tok/events", "write"],
  ["POST", "/api/rtt/beacon", "write"],
  ["PUT", "/api/rtt/profile/fz-tok", "write"],
];

async function fuzzToken(t: Target, n: number) {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...AUTH_VARIANTS),
      fc.constantFrom(...TOKEN_ROUTES),
      async ([name, headers, grants], [method, path, access]) => {
        const body = method === "GET" ? undefined : '{"system_map":{},"graph":{}}';
        const allowed = access === "public" || grants === "write" || (grants === "read" && access !== "write");
        // A refused write is answered from its head: the body is never sent.
        const withhold = method !== "GET" && !allowed;
        const h: Record<string, string | number> = { ...headers };
        if (body !== undefined)
          Object.assign(h, {
            "Content-Type": "application/json",
            "Content-Length": withhold ? NEVER_SENT : body.length,
          });
        const a = await raw(t, "token", `${name} → ${access}`, {
          head: rawHead(method, path, h, t.port),
          body: withhold ? undefined : body,
        });
        const ctx = `${method} ${path} with ${name}: ${a.status} ${a.body.slice(0, 200)} [${REPRO}]`;
        if (allowed) expect([401, 403], ctx).not.toContain(a.status);
        else expect(a.status, ctx).toBe(grants === "read" ? 403 : 401);
      },
    ),
    opts(t, "token", n),
  );
  for (const [name, headers, grants] of AUTH_VARIANTS) {
    const r = await openLive(t, "/ctf/fz-tok/live", 0, { headers, auth: false, timeoutMs: 2000 }).done;
    ledger.sent.token = (ledger.sent.token ?? 0) + 1;
    const ctx = `live socket with ${name}: ${JSON.stringify(r)} [${REPRO}]`;
    if (grants === "none") expect(r.refused, ctx).toBe(401);
    else expect(r.opened, ctx).toBe(true);
  }
  await healthy(t, "token checks");
}

// ---------------------------------------------------------------------------------------------------------
// acknowledged = readable

/**
 * Reads back everything `t` acknowledged; returns one line per item lost or changed (all of them, not just the
 * first). Each read is timed like any request.
 */
async function verifyAcks(t: Target, when: string): Promise<string[]> {
  const lost: string[] = [];
  const read = async (path: string) => {
    const t0 = performance.now();
    const res = await fetch(`${t.base}${path}`, { headers: t.auth, signal: AbortSignal.timeout(15_000) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - t0;
    if (ms >= MAX_REQUEST_MS) lost.push(`${t.name} ${path} took ${Math.round(ms)} ms ${when}`);
    return { status: res.status, bytes };
  };
  for (const [id, acked] of t.acks.sessions) {
    const r = await read(`/replay/${encodeURIComponent(id)}/export`);
    if (r.status === 200 && sameDigest(digest(r.bytes), acked)) ledger.verified.sessions++;
    else
      lost.push(
        `${t.name} session ${JSON.stringify(id).slice(0, 100)} (${id.length} chars; ${t.acks.how.get(`session ${id}`)}) ${when}: ` +
          `${r.status}, ${r.bytes.length} bytes (acknowledged ${acked.bytes}) ${r.bytes.subarray(0, 120)}`,
      );
  }
  for (const [id, acked] of t.acks.traces) {
    const r = await read(`/ctf/${id}/raw`);
    if (r.status === 200 && sameDigest(digest(r.bytes), acked)) ledger.verified.traces++;
    else
      lost.push(
        `${t.name} trace ${id} (${t.acks.how.get(`trace ${id}`)}) ${when}: ${r.status}, ${r.bytes.length} bytes (acknowledged ${acked.bytes})`,
      );
  }
  const sites = JSON.parse((await read("/api/rtt/sites")).bytes.toString()) as {
    sites: Array<{ site: string; beacons: number }>;
  };
  const bySite = new Map(sites.sites.map((s) => [s.site, s.beacons]));
  for (const [site, count] of t.acks.beacons) {
    // At least as many as acknowledged: one the client gave up on (a failed check) may be stored too.
    if ((bySite.get(site) ?? 0) >= count) ledger.verified.beacons += count;
    else lost.push(`${t.name} site ${site} ${when}: ${bySite.get(site)} beacons stored, ${count} acknowledged`);
  }
  return lost;
}

// ---------------------------------------------------------------------------------------------------------

describe(`fuzz — hostile input (seed ${SEED}, scale ${SCALE})`, () => {
  it(
    "sessions: mutated v1/v2 logs, NDJSON batches with bad lines, session_id edge cases",
    () => fuzzSessions(targets.open, "sessions", runs(480), runs(60)),
    TEST_MS,
  );

  it(
    "CTF: mutated uploads, then the live socket of every accepted trace replays it to the end",
    () => fuzzCtf(targets.open, runs(260)),
    TEST_MS,
  );

  it(
    "CTF live: appends in chunks with a bad line, viewers before and after",
    () => fuzzLive(targets.open, runs(55)),
    TEST_MS,
  );

  it("diagnostics: hostile beacons and profiles", () => fuzzBeacons(targets.open, runs(300)), TEST_MS);

  it(
    "diagnostics: random validate/corridor/topology requests and graph-size bombs",
    () => fuzzAnalyses(targets.open, runs(160), runs(16)),
    TEST_MS,
  );

  it(
    "HTTP: content types, foreign Host and Origin, refused before the body",
    () => fuzzHttpHeads(targets.open, { types: runs(80), hosts: runs(60), origins: runs(50) }),
    TEST_MS,
  );

  it(
    "HTTP: bad percent-encoding, slow, truncated and oversize bodies, stray handshakes",
    () => fuzzHttpBodies(targets.open, { paths: runs(150), slow: Math.min(48, runs(12)), cut: runs(30) }),
    TEST_MS,
  );

  it(
    "token mode: credentials checked before the body; the same fuzz with the write token",
    async () => {
      const t = targets.token;
      await fuzzToken(t, runs(90));
      await fuzzSessions(t, "token", runs(60), runs(8));
      await fuzzCtf(t, runs(25));
      await fuzzLive(t, runs(6));
      await fuzzBeacons(t, runs(30));
      await fuzzAnalyses(t, runs(15), 2);
    },
    TEST_MS,
  );

  it(
    "everything acknowledged reads back, before and after a restart on the same files; RSS bounded",
    async () => {
      rssAfter = settledRss();
      const lost: string[] = [];
      for (const t of Object.values(targets)) lost.push(...(await verifyAcks(t, "before restart")));
      for (const name of ["open", "token"] as const) {
        const late = await closeBounded(targets[name]);
        if (late) lost.push(`${name}: server.close() did not finish: ${late}`);
        const t = await start(name);
        await healthy(t, "restart");
        lost.push(...(await verifyAcks(t, "after restart")));
      }
      const total = Object.values(ledger.sent).reduce((a, b) => a + b, 0);
      const growth = mb(rssAfter - rssBefore);
      const acked = {
        sessions: Object.values(targets).reduce((a, t) => a + t.acks.sessions.size, 0),
        traces: Object.values(targets).reduce((a, t) => a + t.acks.traces.size, 0),
        beacons: Object.values(targets).reduce(
          (a, t) => a + [...t.acks.beacons.values()].reduce((x, y) => x + y, 0),
          0,
        ),
      };
      console.info(
        [
          `fuzz summary: seed ${SEED}, scale ${SCALE}: ${total} inputs`,
          `(${Object.entries(ledger.sent)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")})`,
          `in ${((performance.now() - started) / 1000).toFixed(1)} s;`,
          `statuses ${JSON.stringify(ledger.statuses)};`,
          `max request ${Math.round(ledger.maxMs)} ms (${ledger.maxWhat.slice(0, 120)});`,
          `RSS after GC ${mb(rssBefore)} → ${mb(rssAfter)} MB (+${growth} MB), peak ${mb(peakRss)} MB;`,
          `acknowledged ${acked.sessions} sessions, ${acked.traces} traces, ${acked.beacons} beacons,`,
          `read back before and after restart: ${ledger.verified.sessions} sessions, ${ledger.verified.traces} traces, ${ledger.verified.beacons} beacons;`,
          `${ledger.replays} live replays (${ledger.replayedEvents} events)`,
        ].join(" "),
      );
      if (lost.length) console.error(`fuzz: acknowledged but not read back as acknowledged:\n  ${lost.join("\n  ")}`);
      expect(lost, `acknowledged but not read back as acknowledged [${REPRO}]`).toEqual([]);
      expect(growth, `RSS grew by ${growth} MB [${REPRO}]`).toBeLessThan(MAX_RSS_GROWTH_MB);
      expect(processErrors, `[${REPRO}]`).toEqual([]);
    },
    TEST_MS,
  );
});

/**
 * The fuzz suite's bookkeeping: scale and seed, targets (a listening server and its credentials), one
 * `call` that sends a request, times it and applies the assertions every answer must meet, and the ledger
 * of what was sent and what the server acknowledged (checked again after a restart).
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect } from "vitest";
import type { RunningServer } from "../../src/server.js";
import { type RawAnswer, type RawRequest, rawRequest, send } from "../support/http.js";

/**
 * RTT_FUZZ_SCALE is a multiplier of every category's input count: 1 (the default, CI) sends about 2,200
 * inputs in total, 5 about 11,000. Fractions are allowed (0.25 for a quick look).
 */
export const SCALE = (() => {
  const raw = process.env.RTT_FUZZ_SCALE;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`RTT_FUZZ_SCALE=${raw}: expected a positive multiplier`);
  return n;
})();

/** RTT_FUZZ_SEED reproduces a run; without it every run draws a new seed (printed). */
export const SEED = (() => {
  const raw = process.env.RTT_FUZZ_SEED;
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`RTT_FUZZ_SEED=${raw}: expected an integer`);
    return n | 0;
  }
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
})();

/** How to re-run this exact input sequence. */
export const REPRO = `RTT_FUZZ_SEED=${SEED} RTT_FUZZ_SCALE=${SCALE}`;

/** `n` scaled, at least 1. */
export const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

/** No single request may take longer than this (server time). */
export const MAX_REQUEST_MS = 2000;

export type Category = "sessions" | "ctf" | "ctf-live" | "diagnostics" | "http" | "token";

/** What was acknowledged, by digest (the suite does not hold every body it sent). */
export interface Digest {
  sha256: string;
  bytes: number;
}

export const digest = (b: Buffer): Digest => ({
  sha256: createHash("sha256").update(b).digest("hex"),
  bytes: b.length,
});
export const sameDigest = (a: Digest, b: Digest) => a.sha256 === b.sha256 && a.bytes === b.bytes;

export interface Acks {
  /** session_id → the bytes acknowledged (201) for it; GET /replay/{id}/export must return them. */
  sessions: Map<string, Digest>;
  /** trace id → the bytes GET /ctf/{id}/raw must return (an upload, or the accepted appends). */
  traces: Map<string, Digest>;
  /** trace id → events stored (what a live replay of it must account for). */
  events: Map<string, number>;
  /** Traces complete (footer accepted): no append may change them. */
  complete: Set<string>;
  /** site → beacons acknowledged (200). */
  beacons: Map<string, number>;
  /** id → the input that was acknowledged (for failure messages). */
  how: Map<string, string>;
}

export const newAcks = (): Acks => ({
  sessions: new Map(),
  traces: new Map(),
  events: new Map(),
  complete: new Set(),
  beacons: new Map(),
  how: new Map(),
});

export interface Target {
  name: "open" | "token";
  server: RunningServer;
  base: string;
  port: number;
  /** Headers that grant writes (empty for the open server). */
  auth: Record<string, string>;
  acks: Acks;
}

export function target(name: Target["name"], server: RunningServer, auth: Record<string, string>, acks: Acks): Target {
  const port = Number(new URL(server.url).port);
  return { name, server, base: `http://127.0.0.1:${port}`, port, auth, acks };
}

/** Figures of the run, printed as one summary line. */
export const ledger = {
  sent: {} as Record<Category, number>,
  statuses: {} as Record<number, number>,
  maxMs: 0,
  maxWhat: "",
  /** Live sockets opened on accepted traces and read to the end of their replay. */
  replays: 0,
  replayedEvents: 0,
  verified: { sessions: 0, traces: 0, beacons: 0 },
  interrupted: [] as string[],
};

/** Failures outside any request (a crash inside the server shows up here first). */
export const processErrors: string[] = [];
let watching = false;
export function watchProcess(): void {
  if (watching) return;
  watching = true;
  process.on("uncaughtException", (e) => processErrors.push(`uncaughtException: ${e?.stack ?? e}`));
  process.on("unhandledRejection", (e) =>
    processErrors.push(`unhandledRejection: ${(e as Error)?.stack ?? String(e)}`),
  );
}

const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function note(category: Category, status: number, ms: number, what: string) {
  ledger.sent[category] = (ledger.sent[category] ?? 0) + 1;
  ledger.statuses[status] = (ledger.statuses[status] ?? 0) + 1;
  if (ms > ledger.maxMs) {
    ledger.maxMs = ms;
    ledger.maxWhat = what;
  }
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send the target's credentials (default true). */
  auth?: boolean;
}

export interface Reply {
  status: number;
  /** At most the first 4 MiB. */
  body: string;
  /** Size of the whole answer. */
  bytes: number;
  headers: IncomingHttpHeaders;
  ms: number;
  json(): unknown;
}

/** The checks every answer must pass: a status, no 5xx (except a store-busy 503 with Retry-After), in time. */
export function checkAnswer(
  what: string,
  a: { status: number; body: string; headers?: IncomingHttpHeaders; head?: string },
  ms: number,
) {
  const ctx = `${what} → ${a.status} ${short(a.body)} [${REPRO}]`;
  expect(ms, `took ${Math.round(ms)} ms: ${ctx}`).toBeLessThan(MAX_REQUEST_MS);
  if (a.status === 503) {
    const retry = a.headers ? a.headers["retry-after"] : /\r\nretry-after:/i.test(a.head ?? "");
    expect(retry, `503 without Retry-After: ${ctx}`).toBeTruthy();
    expect(a.body, `503 that is not a store-busy answer: ${ctx}`).toMatch(/stor|busy|retry/i);
  } else expect(a.status, `server error: ${ctx}`).toBeLessThan(500);
  expect(a.body, `stack trace in the answer: ${ctx}`).not.toMatch(/at .*\.(ts|js):\d+|node_modules/);
}

/** One request to a target; every answer is checked (see checkAnswer) and must arrive (no cut connection). */
export async function call(t: Target, category: Category, what: string, c: Call): Promise<Reply> {
  const method = c.method ?? (c.body === undefined ? "GET" : "POST");
  const headers = { ...(c.auth === false ? {} : t.auth), ...c.headers };
  // The suite shares the server's process (and its RSS): it keeps at most 4 MiB of any answer.
  const a = await send(t.base, c.path, c.body, headers, method, 15_000, 4 * 1024 * 1024);
  const label = `${t.name} ${method} ${short(c.path, 120)} (${what})`;
  note(category, a.status, a.ms, label);
  expect(a.status, `no answer (${a.timedOut ? "timed out" : "connection cut"}): ${label} [${REPRO}]`).toBeGreaterThan(
    0,
  );
  checkAnswer(label, a, a.ms);
  return {
    ...a,
    json: () => {
      if (a.bytes > Buffer.byteLength(a.body))
        throw new Error(`answer of ${a.bytes} bytes, more than the suite reads: ${label} → ${a.status} [${REPRO}]`);
      try {
        return JSON.parse(a.body);
      } catch {
        throw new Error(`not JSON: ${label} → ${a.status} ${short(a.body)} [${REPRO}]`);
      }
    },
  };
}

/** A raw-socket exchange: checked like `call` when an answer arrived; `needAnswer` demands one. */
export async function raw(
  t: Target,
  category: Category,
  what: string,
  r: Omit<RawRequest, "port">,
  needAnswer = true,
): Promise<RawAnswer> {
  const a = await rawRequest({ ...r, port: t.port });
  const label = `${t.name} raw ${short(r.head.split("\r\n")[0], 160)} (${what})`;
  note(category, a.status, Math.max(0, a.ms), label);
  if (needAnswer)
    expect(a.status, `no answer${a.timedOut ? " (timed out)" : ""}: ${label} [${REPRO}]`).toBeGreaterThan(0);
  if (a.status > 0) checkAnswer(label, { status: a.status, body: a.body, head: a.head }, a.ms);
  return a;
}

/** The server still answers /healthz, quickly, and nothing blew up in the process. */
/**
 * Resident memory after a full garbage collection (so a transient peak is not read as growth); the GC is
 * exposed through V8's flags, which Node documents for this use.
 */
export function settledRss(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().rss;
}

/** Highest RSS seen at any checkpoint (`healthy`), without a GC. */
export let peakRss = 0;

export async function healthy(t: Target, after: string): Promise<void> {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const a = await send(t.base, "/healthz", undefined, {}, "GET", 5_000);
  expect(a.status, `${t.name} /healthz after ${after} [${REPRO}]`).toBe(200);
  expect(a.ms, `${t.name} /healthz after ${after} took ${Math.round(a.ms)} ms [${REPRO}]`).toBeLessThan(MAX_REQUEST_MS);
  expect(processErrors, `process errors after ${after} [${REPRO}]`).toEqual([]);
}

export const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

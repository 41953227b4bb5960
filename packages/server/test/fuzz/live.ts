import WebSocket from "ws";
import type { Target } from "./harness.js";

export interface LiveRead {
  /** HTTP status of a refused handshake (0 when the socket opened). */
  refused: number;
  opened: boolean;
  /** ms from connect to open. */
  openMs: number;
  events: number;
  gaps: number;
  /** seq of every event message, in arrival order. */
  seqs: number[];
  /** Events accounted for: the highest seq seen + 1, or a gap notice's next_seq. */
  covered: number;
  /** The replay reached `expected` before the time bound. */
  ended: boolean;
  closeCode?: number;
  ms: number;
  bad: string[];
}

/**
 * Opens GET /ctf/:id/live and reads until `expected` events are accounted for (delivered, or skipped by a gap
 * notice), the socket closes, or `timeoutMs` passes. `untilClose` keeps reading until `stop()` is called.
 */
export function openLive(
  t: Target,
  path: string,
  expected: number,
  opts: { timeoutMs?: number; headers?: Record<string, string>; auth?: boolean } = {},
): { done: Promise<LiveRead>; opened: Promise<boolean>; stop: () => void; expect: (n: number) => void } {
  const started = performance.now();
  const r: LiveRead = {
    refused: 0,
    opened: false,
    openMs: -1,
    events: 0,
    gaps: 0,
    seqs: [],
    covered: 0,
    ended: false,
    ms: 0,
    bad: [],
  };
  let want = expected;
  let resolve!: (v: LiveRead) => void;
  let resolveOpen!: (v: boolean) => void;
  const opened = new Promise<boolean>((res) => {
    resolveOpen = res;
  });
  const done = new Promise<LiveRead>((res) => {
    resolve = res;
  });
  const headers = { ...(opts.auth === false ? {} : t.auth), ...opts.headers };
  const ws = new WebSocket(`ws://127.0.0.1:${t.port}${path}`, { headers, maxPayload: 64 * 1024 * 1024 });
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    r.ms = performance.now() - started;
    r.ended = r.covered >= want;
    resolveOpen(r.opened);
    try {
      ws.terminate();
    } catch {}
    resolve(r);
  };
  const timer = setTimeout(finish, opts.timeoutMs ?? 5_000);
  const check = () => {
    if (want >= 0 && r.opened && r.covered >= want) finish();
  };
  ws.on("unexpected-response", (_req, res) => {
    r.refused = res.statusCode ?? -1;
    res.resume();
    finish();
  });
  ws.on("open", () => {
    r.opened = true;
    r.openMs = performance.now() - started;
    resolveOpen(true);
    check();
  });
  ws.on("message", (data) => {
    let m: { type?: string; seq?: number; next_seq?: number };
    try {
      m = JSON.parse(String(data));
    } catch {
      r.bad.push(`not JSON: ${String(data).slice(0, 100)}`);
      return;
    }
    if (m.type === "event" && typeof m.seq === "number") {
      r.events++;
      if (r.seqs.length && m.seq <= r.seqs[r.seqs.length - 1])
        r.bad.push(`seq ${m.seq} after ${r.seqs[r.seqs.length - 1]}`);
      r.seqs.push(m.seq);
      r.covered = Math.max(r.covered, m.seq + 1);
    } else if (m.type === "gap" && typeof m.next_seq === "number") {
      r.gaps++;
      r.covered = Math.max(r.covered, m.next_seq);
    } else r.bad.push(`unknown message ${String(data).slice(0, 100)}`);
    check();
  });
  ws.on("close", (code) => {
    r.closeCode = code;
    finish();
  });
  ws.on("error", () => finish());
  return {
    done,
    opened,
    stop: finish,
    expect: (n: number) => {
      want = n;
      check();
    },
  };
}

// The live monitor's state (LiveView.tsx), kept out of React so it can be tested without a DOM: the frames of the
// live WebSocket (docs/api/ctf.md) applied strictly in seq order to per-lane point buffers of bounded size.

import { Q_LANES, type QKey, STATUS_BY_CODE } from "./status.js";

/** `{"type":"event",…}` of GET /ctf/:id/live: the seed's `{step, q, status}` as of this event, plus the event. */
export interface LiveEventFrame {
  type: "event";
  seq: number;
  step: number | null;
  q: Record<QKey, number> | null;
  status: string | null;
  event: { type: string; [k: string]: unknown };
}
/** `{"type":"gap",…}`: the server dropped events for this (slow) viewer; the view reloads from the start. */
export interface LiveGapFrame {
  type: "gap";
  dropped: number;
  next_seq: number;
  complete: boolean;
}
export type LiveFrame = LiveEventFrame | LiveGapFrame;

/** The lanes of the live monitor, top to bottom. */
export const LIVE_LANES = ["status", ...Q_LANES.map((l) => l.key), "latency_ms"] as const;
export type LiveLaneKey = (typeof LIVE_LANES)[number];

/** Points kept per lane unless the address says otherwise (`cap`). */
export const DEFAULT_LANE_CAP = 4000;
export const MIN_LANE_CAP = 100;
export const MAX_LANE_CAP = 200_000;
/** Rewind markers kept (the newest). */
const MAX_REWINDS = 2000;
const TEXT_LIMIT = 400;

/**
 * The points of one lane, at most `cap`. When a point would exceed it, the older half is decimated: each run of four
 * points keeps its lowest and highest (in x order), so spikes survive and the history stays visible, ever coarser
 * the older it is. The newer half (and so the last point, which a later q or status event may still correct) is
 * never touched.
 */
export class LaneBuffer {
  x: number[] = [];
  y: Array<number | null> = [];
  /** Points folded away by decimation, in total. */
  decimated = 0;

  constructor(readonly cap: number) {}

  get length(): number {
    return this.x.length;
  }

  push(x: number, y: number | null): void {
    this.x.push(x);
    this.y.push(y);
    if (this.x.length > this.cap) this.compact();
  }

  /** Corrects the newest point's value (a q or status event for the step just written). */
  setLast(y: number | null): void {
    if (this.y.length) this.y[this.y.length - 1] = y;
  }

  private compact(): void {
    const old = Math.floor(this.x.length / 2);
    const nx: number[] = [];
    const ny: Array<number | null> = [];
    for (let s = 0; s < old; s += 4) {
      const e = Math.min(old, s + 4);
      let lo = -1;
      let hi = -1;
      for (let i = s; i < e; i++) {
        const v = this.y[i];
        if (v === null || v === undefined) continue;
        if (lo < 0 || v < (this.y[lo] as number)) lo = i;
        if (hi < 0 || v > (this.y[hi] as number)) hi = i;
      }
      // A run with no value keeps one gap, so the line still breaks there.
      const keep = lo < 0 ? [s] : lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)];
      for (const i of keep) {
        nx.push(this.x[i] as number);
        ny.push(this.y[i] ?? null);
      }
    }
    this.decimated += old - nx.length;
    this.x = nx.concat(this.x.slice(old));
    this.y = ny.concat(this.y.slice(old));
  }
}

export class OrderError extends Error {}

/** What the header of the trace says (the first event). */
export interface LiveHeader {
  task_id?: string;
  task?: string;
  corridor_spec?: Record<string, number>;
}

/** The most recent step written, for the "last step" panel. */
export interface LiveStep {
  ord: number;
  step_id: number;
  tool: string | null;
  action: string;
  observation: string;
  latency_ms: number;
}

const cut = (v: unknown) => {
  const s = typeof v === "string" ? v : "";
  return s.length > TEXT_LIMIT ? `${s.slice(0, TEXT_LIMIT)}…` : s;
};
const statusCode = (s: string | null | undefined): number | null => {
  const i = STATUS_BY_CODE.indexOf(s as (typeof STATUS_BY_CODE)[number]);
  return i < 0 ? null : i;
};

/**
 * A trace as the live socket tells it, event by event. x of every lane is the step's position among the trace's
 * step events (as in the trace view); a step event adds a point to each lane with the seed update's q and status
 * (the step's own, computed by the server until the file's q arrives), and the step's q/status events correct it.
 */
export class LiveModel {
  readonly lanes: Record<LiveLaneKey, LaneBuffer>;
  header: LiveHeader | null = null;
  /** Events applied; also the seq the next frame must have. */
  applied = 0;
  /** Step events applied (the next step's x). */
  steps = 0;
  head: number | null = null;
  status: string | null = "stable";
  complete = false;
  finalStatus: string | null = null;
  /** x of each rewind marker (between the last step before it and the next one); the newest MAX_REWINDS. */
  rewinds: number[] = [];
  rewindCount = 0;
  last: LiveStep | null = null;

  constructor(readonly cap = DEFAULT_LANE_CAP) {
    this.lanes = Object.fromEntries(LIVE_LANES.map((k) => [k, new LaneBuffer(cap)])) as Record<LiveLaneKey, LaneBuffer>;
  }

  /** Applies the next event; a frame out of order is an OrderError (nothing is applied). */
  apply(f: LiveEventFrame): void {
    if (f.seq !== this.applied) throw new OrderError(`expected event ${this.applied}, got ${f.seq}`);
    const e = f.event;
    switch (e.type) {
      case "header":
        this.header = e as LiveHeader;
        break;
      case "step": {
        const x = this.steps++;
        for (const l of Q_LANES) this.lanes[l.key].push(x, f.q ? f.q[l.key] : null);
        this.lanes.latency_ms.push(x, typeof e.latency_ms === "number" ? e.latency_ms : null);
        this.lanes.status.push(x, statusCode(f.status));
        this.last = {
          ord: x,
          step_id: e.step_id as number,
          tool: typeof e.tool === "string" ? e.tool : null,
          action: cut(e.action),
          observation: cut(e.observation),
          latency_ms: e.latency_ms as number,
        };
        break;
      }
      case "q":
        if (this.last && e.step_id === this.last.step_id && f.q)
          for (const l of Q_LANES) this.lanes[l.key].setLast(f.q[l.key]);
        break;
      case "status":
        if (this.last && e.step_id === this.last.step_id) this.lanes.status.setLast(statusCode(f.status));
        break;
      case "rewind":
        this.rewindCount++;
        this.rewinds.push(this.steps - 0.5);
        if (this.rewinds.length > MAX_REWINDS) this.rewinds.splice(0, this.rewinds.length - MAX_REWINDS);
        break;
      case "footer":
        this.complete = true;
        this.finalStatus = typeof e.final_status === "string" ? e.final_status : null;
        break;
    }
    this.head = f.step;
    this.status = f.status;
    this.applied++;
  }
}

/** The lane cap from the address (`cap`), clamped; the default otherwise. */
export function laneCap(param: string | undefined): number {
  const n = Number(param);
  if (!param || !Number.isFinite(n)) return DEFAULT_LANE_CAP;
  return Math.max(MIN_LANE_CAP, Math.min(MAX_LANE_CAP, Math.round(n)));
}

/**
 * Frames received but not applied yet, in arrival order: a queue with a moving head (no shift per frame). `limit`
 * bounds it: past that many the queue is dropped and `overflowed` is set, and the view reloads from the start
 * when it resumes (a monitor paused for hours must not hold every event of the run).
 */
export class FrameQueue {
  private items: LiveEventFrame[] = [];
  private head = 0;
  overflowed = false;

  constructor(readonly limit = 500_000) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(f: LiveEventFrame): void {
    if (this.overflowed) return;
    if (this.length >= this.limit) {
      this.clear();
      this.overflowed = true;
      return;
    }
    this.items.push(f);
  }

  shift(): LiveEventFrame | undefined {
    if (this.head >= this.items.length) return undefined;
    const f = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return f;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

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

/** A run of older steps folded into its lowest and highest point (`lo`/`hi` are -1 when it has no value). */
interface Bucket {
  b: number;
  firstX: number;
  loX: number;
  lo: number;
  hiX: number;
  hi: number;
}

/**
 * The points of one lane, at most `cap`. The newest half are kept as they are (so the last point, which a later q or
 * status event may still correct, is exact); older points are folded into buckets of `width` consecutive steps that
 * keep their lowest and highest point, so spikes survive and the history stays visible at one even resolution. When
 * the buckets would exceed their share, `width` doubles and neighbouring buckets merge.
 */
export class LaneBuffer {
  private rx: number[] = [];
  private ry: Array<number | null> = [];
  private rHead = 0;
  private old: Bucket[] = [];
  /** Steps per bucket of the older points. */
  width = 1;
  private pushed = 0;
  private cache: { x: number[]; y: Array<number | null> } | null = null;
  private readonly recent: number;
  private readonly maxBuckets: number;

  constructor(readonly cap: number) {
    this.recent = Math.max(1, Math.floor(cap / 2));
    this.maxBuckets = Math.max(1, Math.floor((cap - this.recent) / 2));
  }

  /** Points the lane draws (the older buckets' extremes, then the recent points). */
  get length(): number {
    return this.points().x.length;
  }
  get x(): number[] {
    return this.points().x;
  }
  get y(): Array<number | null> {
    return this.points().y;
  }
  /** Points folded away by decimation so far. */
  get decimated(): number {
    return this.pushed - this.length;
  }

  push(x: number, y: number | null): void {
    this.cache = null;
    this.pushed++;
    this.rx.push(x);
    this.ry.push(y);
    if (this.rx.length - this.rHead > this.recent) {
      this.fold(this.rx[this.rHead] as number, this.ry[this.rHead] ?? null);
      this.rHead++;
      if (this.rHead > 1024 && this.rHead * 2 > this.rx.length) {
        this.rx = this.rx.slice(this.rHead);
        this.ry = this.ry.slice(this.rHead);
        this.rHead = 0;
      }
    }
  }

  /** Corrects the newest point's value (a q or status event for the step just written). */
  setLast(y: number | null): void {
    if (this.rx.length > this.rHead) {
      this.ry[this.ry.length - 1] = y;
      this.cache = null;
    }
  }

  private fold(x: number, y: number | null): void {
    const b = Math.floor(x / this.width);
    let last = this.old[this.old.length - 1];
    if (!last || last.b !== b) {
      last = { b, firstX: x, loX: -1, lo: 0, hiX: -1, hi: 0 };
      this.old.push(last);
    }
    if (y !== null) absorb(last, x, y, x, y);
    while (this.old.length > this.maxBuckets) {
      this.width *= 2;
      const merged: Bucket[] = [];
      for (const k of this.old) {
        const nb = Math.floor(k.b / 2);
        const m = merged[merged.length - 1];
        if (m && m.b === nb) {
          if (k.loX >= 0) absorb(m, k.loX, k.lo, k.hiX, k.hi);
        } else merged.push({ ...k, b: nb });
      }
      this.old = merged;
    }
  }

  private points(): { x: number[]; y: Array<number | null> } {
    if (this.cache) return this.cache;
    const x: number[] = [];
    const y: Array<number | null> = [];
    for (const k of this.old) {
      // A bucket with no value keeps one gap, so the line still breaks there.
      if (k.loX < 0) {
        x.push(k.firstX);
        y.push(null);
      } else if (k.loX === k.hiX) {
        x.push(k.loX);
        y.push(k.lo);
      } else {
        const [a, b] = k.loX < k.hiX ? [k.loX, k.hiX] : [k.hiX, k.loX];
        x.push(a, b);
        y.push(a === k.loX ? k.lo : k.hi, b === k.loX ? k.lo : k.hi);
      }
    }
    for (let i = this.rHead; i < this.rx.length; i++) {
      x.push(this.rx[i] as number);
      y.push(this.ry[i] ?? null);
    }
    this.cache = { x, y };
    return this.cache;
  }
}

/** Widens a bucket's extremes with a lowest point (loX, lo) and a highest point (hiX, hi). */
function absorb(k: Bucket, loX: number, lo: number, hiX: number, hi: number): void {
  if (k.loX < 0 || lo < k.lo) {
    k.loX = loX;
    k.lo = lo;
  }
  if (k.hiX < 0 || hi > k.hi) {
    k.hiX = hiX;
    k.hi = hi;
  }
}

export class OrderError extends Error {}

/** A trace as stored, for LiveModel.seed: its columns (null before it exists), header, rewinds and last step. */
export interface LiveSnapshot {
  events: number;
  header: LiveHeader | null;
  complete: boolean;
  finalStatus: string | null;
  status: string | null;
  columns:
    | ({ n_total: number; ord: number[]; latency_ms: Array<number | null>; status: Array<number | null> } & Record<
        QKey,
        Array<number | null>
      >)
    | null;
  /** The `at` of each rewind (steps written before it). */
  rewinds: number[];
  last: LiveStep | null;
}

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

  /**
   * Starts from a trace as stored (GET /ctf/:id/columns and /view): `events` events are then applied, and frames
   * join from that seq on. The columns may be decimated on the server; their last step is exact.
   */
  seed(s: LiveSnapshot): void {
    this.header = s.header;
    this.applied = s.events;
    this.complete = s.complete;
    this.finalStatus = s.finalStatus;
    this.status = s.status;
    this.head = s.last?.step_id ?? null;
    this.last = s.last;
    const c = s.columns;
    if (c) {
      this.steps = c.n_total;
      for (let j = 0; j < c.ord.length; j++) {
        const x = c.ord[j] as number;
        for (const l of Q_LANES) this.lanes[l.key].push(x, c[l.key][j] ?? null);
        this.lanes.latency_ms.push(x, c.latency_ms[j] ?? null);
        this.lanes.status.push(x, c.status[j] ?? null);
      }
    }
    this.rewindCount = s.rewinds.length;
    this.rewinds = s.rewinds.slice(-MAX_REWINDS).map((at) => at - 0.5);
  }

  /**
   * Applies the next event. A frame already applied (a seq below `applied`: the snapshot had it) is skipped and false
   * returned; a frame past the next one means events were missed: an OrderError, and nothing is applied.
   */
  apply(f: LiveEventFrame): boolean {
    if (f.seq < this.applied) return false;
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
    return true;
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
 * bounds it (50,000 frames: 50 s of a 1,000 events/s run): past that many the queue is dropped and `overflowed` is
 * set, and the view reloads the stored trace when it resumes (a monitor paused for hours must not hold every event).
 */
export class FrameQueue {
  private items: LiveEventFrame[] = [];
  private head = 0;
  overflowed = false;

  constructor(readonly limit = 50_000) {}

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

  peek(): LiveEventFrame | undefined {
    return this.items[this.head];
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

// The live monitor's model (src/ctf/liveModel.ts) without a DOM: order, q/status corrections, bounded lanes.
import { describe, expect, it } from "vitest";
import {
  FrameQueue,
  LaneBuffer,
  type LiveEventFrame,
  LiveModel,
  laneCap,
  OrderError,
} from "../../src/ctf/liveModel.js";

const Q = (v: number) => ({
  semantic_drift: v,
  tool_entropy: v / 2,
  latency_drift: 0,
  branching_pressure: 0,
  retry_ratio: 0,
});

/** The frames the server sends for a header and `n` steps, each followed by its q and status events. */
function frames(n: number, qOf = (i: number) => i / 1000): LiveEventFrame[] {
  const out: LiveEventFrame[] = [];
  const push = (step: number | null, q: ReturnType<typeof Q> | null, status: string, event: LiveEventFrame["event"]) =>
    out.push({ type: "event", seq: out.length, step, q, status, event });
  push(null, null, "stable", { type: "header", task_id: "t", corridor_spec: { max_semantic_drift: 0.5 } });
  for (let i = 0; i < n; i++) {
    // At the step event the server gives the runtime's own computation; the file's q event may differ.
    push(i, Q(0), "stable", { type: "step", step_id: i, action: `a${i}`, observation: "o", latency_ms: 100 + i });
    push(i, Q(qOf(i)), "stable", { type: "q", step_id: i, ...Q(qOf(i)) });
    push(i, Q(qOf(i)), i % 2 ? "warning" : "stable", { type: "status", step_id: i, corridor_status: "x" });
  }
  return out;
}

describe("LiveModel", () => {
  it("adds a point per step and corrects it with the step's q and status events", () => {
    const m = new LiveModel();
    for (const f of frames(3)) m.apply(f);
    expect(m.header?.task_id).toBe("t");
    expect(m.steps).toBe(3);
    expect(m.applied).toBe(10);
    expect(m.lanes.semantic_drift.x).toEqual([0, 1, 2]);
    expect(m.lanes.semantic_drift.y).toEqual([0, 0.001, 0.002]);
    expect(m.lanes.status.y).toEqual([0, 1, 0]);
    expect(m.lanes.latency_ms.y).toEqual([100, 101, 102]);
    expect(m.last).toMatchObject({ ord: 2, step_id: 2, action: "a2" });
  });

  it("refuses a frame out of order and applies nothing of it", () => {
    const m = new LiveModel();
    const f = frames(2);
    m.apply(f[0]!);
    expect(() => m.apply(f[2]!)).toThrow(OrderError);
    expect(m.applied).toBe(1);
    expect(m.steps).toBe(0);
  });

  it("starts from a stored snapshot and joins the frames at its end, skipping those it already has", () => {
    const m = new LiveModel();
    const f = frames(3);
    const cols = {
      n_total: 2,
      ord: [0, 1],
      latency_ms: [100, 101],
      status: [0, 1],
      semantic_drift: [0, 0.001],
      tool_entropy: [0, 0.0005],
      latency_drift: [0, 0],
      branching_pressure: [0, 0],
      retry_ratio: [0, 0],
    };
    m.seed({
      events: 7,
      header: { task_id: "t" },
      complete: false,
      finalStatus: null,
      status: "warning",
      columns: cols,
      rewinds: [],
      last: { ord: 1, step_id: 1, tool: null, action: "a1", observation: "o", latency_ms: 101 },
    });
    expect(m.apply(f[5]!)).toBe(false); // already in the snapshot
    expect(m.apply(f[6]!)).toBe(false);
    expect(m.applied).toBe(7);
    for (const x of f.slice(7)) expect(m.apply(x)).toBe(true);
    expect(m.lanes.semantic_drift.x).toEqual([0, 1, 2]);
    expect(m.lanes.semantic_drift.y).toEqual([0, 0.001, 0.002]);
    expect(m.steps).toBe(3);
  });

  it("marks rewinds between steps and the footer as complete", () => {
    const m = new LiveModel();
    for (const f of frames(2)) m.apply(f);
    m.apply({ type: "event", seq: 7, step: 0, q: Q(0), status: "stable", event: { type: "rewind", to_step: 0 } });
    m.apply({
      type: "event",
      seq: 8,
      step: 0,
      q: Q(0),
      status: "stable",
      event: { type: "footer", final_status: "stable" },
    });
    expect(m.rewinds).toEqual([1.5]);
    expect(m.head).toBe(0);
    expect(m.complete).toBe(true);
    expect(m.finalStatus).toBe("stable");
  });

  it("keeps at most `cap` points per lane, the newest exact and the older extremes kept", () => {
    const m = new LiveModel(200);
    const spikeAt = 37;
    for (const f of frames(5000, (i) => (i === spikeAt ? 0.99 : (i % 10) / 100))) m.apply(f);
    for (const lane of Object.values(m.lanes)) {
      expect(lane.length).toBeLessThanOrEqual(200);
      expect(lane.x[lane.length - 1]).toBe(4999);
      expect(lane.x[0]).toBe(0);
      expect(lane.x).toEqual([...lane.x].sort((a, b) => a - b));
    }
    const sd = m.lanes.semantic_drift;
    expect(sd.y[sd.length - 1]).toBe(0.09);
    expect(sd.y).toContain(0.99); // the old spike survived repeated decimation
    expect(sd.decimated).toBeGreaterThan(4000);
    // The older history keeps one even resolution: every bucket of old steps still shows its low and its high.
    const oldX = sd.x.filter((x) => x < 4000);
    expect(oldX.length).toBeGreaterThan(40);
    const gaps = oldX.slice(1).map((x, i) => x - oldX[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * sd.width);
    expect(sd.y.filter((v, i) => sd.x[i]! < 4000 && v === 0)).not.toHaveLength(0);
  });
});

describe("LaneBuffer and FrameQueue", () => {
  it("a lane of gaps keeps a gap per run when decimated", () => {
    const b = new LaneBuffer(100);
    for (let i = 0; i < 101; i++) b.push(i, null);
    expect(b.length).toBeLessThanOrEqual(100);
    expect(b.y.every((v) => v === null)).toBe(true);
  });

  it("queues in order and drops everything past its limit, saying so", () => {
    const q = new FrameQueue(10_000);
    const f = frames(4000);
    for (const x of f.slice(0, 9000)) q.push(x);
    const got: number[] = [];
    for (let i = 0; i < 5000; i++) got.push(q.shift()!.seq);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(q.length).toBe(4000);
    for (const x of f.slice(9000)) q.push(x);
    expect(q.length).toBe(7001);
    expect(q.shift()?.seq).toBe(5000);
    const small = new FrameQueue(3);
    for (const x of f.slice(0, 4)) small.push(x);
    expect(small.overflowed).toBe(true);
    expect(small.length).toBe(0);
  });

  it("reads the lane cap from the address, clamped", () => {
    expect(laneCap(undefined)).toBe(4000);
    expect(laneCap("300")).toBe(300);
    expect(laneCap("5")).toBe(100);
    expect(laneCap("abc")).toBe(4000);
  });
});

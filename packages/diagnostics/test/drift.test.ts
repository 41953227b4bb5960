// Drift scenarios: each produces exactly the expected drift events (kinds and order).
import { describe, expect, it } from "vitest";
import {
  applyBeacon,
  type Beacon,
  cadenceMs,
  type DriftEvent,
  fingerprint,
  isOverdue,
  type SiteState,
} from "../src/drift.js";

const structure = (dom_nodes = 0, extra: Record<string, unknown> = {}) => ({
  url: "internal://auth",
  title: "Auth Service",
  nav_count: 0,
  main_count: 0,
  form_count: 0,
  button_count: 0,
  dom_nodes,
  ...extra,
});

/** Feeds (seconds, event, dom_nodes) steps through applyBeacon and returns the drift per step. */
function run(steps: Array<[number, string, number?]>): { state: SiteState; drift: DriftEvent[][] } {
  let state: SiteState | undefined;
  const drift: DriftEvent[][] = [];
  for (const [sec, event, dom] of steps) {
    const b: Beacon = {
      site: "auth-service",
      session: "s1",
      event,
      ts: "2026-01-19T15:00:00Z",
      structure: structure(dom ?? 0),
    };
    const r = applyBeacon(state, b, sec * 1000);
    state = r.state;
    drift.push(r.drift);
  }
  return { state: state!, drift };
}
const kinds = (d: DriftEvent[][]) => d.map((step) => step.map((e) => e.kind));

describe("structural fingerprint", () => {
  it("ignores key order and changes with any value", () => {
    expect(fingerprint({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(fingerprint({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(fingerprint(structure(0))).not.toBe(fingerprint(structure(1)));
    expect(fingerprint(structure(0))).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("drift detection", () => {
  it("raises one structure_change when the structure changes, with the changed keys", () => {
    const { drift } = run([
      [0, "heartbeat", 0],
      [30, "heartbeat", 0],
      [60, "heartbeat", 5],
      [90, "heartbeat", 5],
    ]);
    expect(kinds(drift)).toEqual([[], [], ["structure_change"], []]);
    expect(drift[2][0].details.changes).toEqual([{ key: "dom_nodes", from: 0, to: 5 }]);
  });

  it("learns the cadence and flags a gap over twice it as missed_heartbeat", () => {
    const { state, drift } = run([
      [0, "heartbeat"],
      [30, "heartbeat"],
      [60, "heartbeat"],
      [90, "heartbeat"], // 3 gaps of 30 s: cadence known
      [150, "heartbeat"], // gap 60 = exactly 2×: not missed
      [250, "heartbeat"], // gap 100 > 60: missed (floor(100/30) - 1 = 2 beats)
      [280, "heartbeat"],
    ]);
    expect(kinds(drift)).toEqual([[], [], [], [], [], ["missed_heartbeat"], []]);
    expect(drift[5][0].details).toEqual({ gap_ms: 100_000, cadence_ms: 30_000, missed: 2 });
    // The flagged gap does not pollute the cadence.
    expect(state.gaps).toEqual([30_000, 30_000, 30_000, 60_000, 30_000]);
    expect(cadenceMs(state)).toBe(30_000);
    expect(isOverdue(state, 280_000 + 60_000)).toBe(false);
    expect(isOverdue(state, 280_000 + 60_001)).toBe(true);
  });

  it("does not flag the gap after a clean shutdown, nor before the cadence is known", () => {
    const { state, drift } = run([
      [0, "startup"],
      [30, "heartbeat"],
      [60, "heartbeat"],
      [500, "heartbeat"], // only one heartbeat gap known so far
      [530, "heartbeat"],
      [560, "heartbeat"],
      [590, "shutdown"],
      [5000, "startup"],
    ]);
    expect(kinds(drift).flat()).toEqual([]);
    // Restarted and then silent for ages: overdue again, as the cadence survives restarts.
    expect(isOverdue(state, 10_000_000)).toBe(true);
    const down = run([
      [0, "heartbeat"],
      [30, "heartbeat"],
      [60, "heartbeat"],
      [90, "heartbeat"],
      [100, "shutdown"],
    ]);
    expect(isOverdue(down.state, 10_000_000)).toBe(false);
  });

  it("summarises a deploy as one deploy_drift and sets the post-deploy baseline", () => {
    const { state, drift } = run([
      [0, "heartbeat", 1],
      [10, "deploy_start", 1],
      [20, "heartbeat", 2], // inside the window: expected churn, no structure_change
      [30, "deploy_finish", 3],
      [40, "heartbeat", 3],
    ]);
    expect(kinds(drift)).toEqual([[], [], [], ["deploy_drift"], []]);
    expect(drift[3][0].details).toMatchObject({
      from: fingerprint(structure(1)),
      to: fingerprint(structure(3)),
      changes: [{ key: "dom_nodes", from: 1, to: 3 }],
    });
    expect(state.drift_state).toBe("baseline");
    expect(state.baseline?.fingerprint).toBe(fingerprint(structure(3)));
  });

  it("raises no deploy_drift for a deploy that changes nothing", () => {
    const { drift } = run([
      [0, "deploy_start", 1],
      [10, "deploy_finish", 1],
    ]);
    expect(kinds(drift).flat()).toEqual([]);
  });

  it("raises baseline_drift once when leaving the baseline, again after returning", () => {
    const { state, drift } = run([
      [0, "deploy_finish", 1], // baseline = 1
      [10, "heartbeat", 1],
      [20, "heartbeat", 2], // leaves baseline
      [30, "heartbeat", 3], // still drifted: only the change
      [40, "heartbeat", 1], // back at baseline
      [50, "heartbeat", 4], // leaves again
    ]);
    expect(kinds(drift)).toEqual([
      [],
      [],
      ["structure_change", "baseline_drift"],
      ["structure_change"],
      ["structure_change"],
      ["structure_change", "baseline_drift"],
    ]);
    expect(state.drift_state).toBe("drifted");
  });

  it("remembers cluster heartbeats for the metric label", () => {
    expect(run([[0, "cluster_heartbeat"]]).state.cluster_seen).toBe(true);
    expect(run([[0, "heartbeat"]]).state.cluster_seen).toBe(false);
  });
});

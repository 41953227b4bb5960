import { type CorridorState, detectorConfigs, type Sample, type Segment, update } from "@rtt/core";
import { describe, expect, it } from "vitest";
// Detector internals, not part of @rtt/core's public API.
import { clusterFindings, EpisodeTracker } from "../src/sim/detectors/episodes.js";
import {
  detectBoundaryGlitches,
  detectDrift,
  detectHunting,
  detectSensorIntegrity,
  detectTimeSlip,
} from "../src/sim/detectors/run.js";
import { detectAnomalies, type StepContext } from "../src/sim/detectors/step.js";
import { scoreSession } from "../src/sim/scoring.js";
import { DimensionalCore, NodeNetwork } from "../src/sim/triadic.js";

const configs = detectorConfigs();
const ctx: StepContext = { C_target: 0.1, C_band: [0, 0.2], h: 0.1, configs };
const corridor = { C_target: 0.1, h: 0.1 };
const state = (t: number, C: number, D = 1): CorridorState => ({ t, C, D, Q: 0.5, R: 0 });
const track = (n: number, dt: number, C: (t: number) => number, D = (_t: number) => 1): Sample[] =>
  Array.from({ length: n }, (_, i) => ({ t: i * dt, C: C(i * dt), D: D(i * dt), Q: 0.5, R: 0 }));
const types = (list: Array<{ type: string }>) => list.map((a) => a.type);

describe("per-step detectAnomalies(prev, next)", () => {
  it("reference steps find nothing", () => {
    const prev = state(0, 0.1);
    expect(detectAnomalies(prev, update(prev, 0.1), ctx)).toEqual([]);
  });

  it("DECOHERENCE_SPIKE: D falling 0.8/s faster than the reference → severity 3; the reference decay → none", () => {
    const f = detectAnomalies(state(0, 0.1, 1), state(0.1, 0.1, 1 * (1 - 0.0001) - 0.08), ctx);
    expect(f).toMatchObject([{ type: "DECOHERENCE_SPIKE", severity: 3 }]);
    expect(f[0].measure).toBeCloseTo(0.8, 9);
    expect(detectAnomalies(state(0, 0.1, 1), state(0.1, 0.1, 0.999), ctx)).toEqual([]);
  });

  it("OVERSHOOT_EVENT: C a quarter half-band above the band → severity 3; inside the band → none", () => {
    expect(detectAnomalies(state(0, 0.2), state(0.1, 0.23), ctx)).toMatchObject([
      { type: "OVERSHOOT_EVENT", severity: 3 },
    ]);
    expect(detectAnomalies(state(0, 0.1), state(0.1, 0.199), ctx)).toEqual([]);
    expect(detectAnomalies(state(0, 0.0), state(0.1, -0.11), ctx).map((f) => f.severity)).toContain(5);
  });

  it("CORRELATION_COLLAPSE: C falling 3/s → severity 2; the fastest control fall (0.49/s) → none", () => {
    expect(types(detectAnomalies(state(0, 0.15), state(0.1, 0.15 - 0.3), ctx))).toContain("CORRELATION_COLLAPSE");
    const f = detectAnomalies(state(0, 0.15), state(0.1, 0.15 - 0.3), ctx).find(
      (x) => x.type === "CORRELATION_COLLAPSE",
    );
    expect(f?.severity).toBe(2);
    expect(detectAnomalies(state(0, 0.15), state(0.1, 0.15 - 0.049), ctx)).toEqual([]);
  });

  it("EpisodeTracker merges consecutive findings into one anomaly at the onset with the peak severity", () => {
    const tr = new EpisodeTracker();
    tr.step();
    tr.find("OVERSHOOT_EVENT", 1, 0.05, 1);
    tr.step();
    tr.find("OVERSHOOT_EVENT", 1.1, 0.3, 3);
    tr.step();
    tr.step();
    tr.find("OVERSHOOT_EVENT", 1.3, 0.03, 1);
    const out = tr.flush();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      t: 1,
      type: "OVERSHOOT_EVENT",
      severity: 3,
      details: { peak: 0.3, t_peak: 1.1, t_end: 1.1, steps: 2 },
    });
    expect(out[1]).toMatchObject({ t: 1.3, severity: 1 });
  });
});

describe("whole-run detectors", () => {
  it("CORRIDOR_C_DRIFT: 10 s at +0.6 h → triggers; 3 s → too short; ±0.2 h → below level", () => {
    const drift = detectDrift(
      track(101, 0.1, () => 0.16),
      corridor,
      configs.CORRIDOR_C_DRIFT,
    );
    expect(drift).toMatchObject([{ type: "CORRIDOR_C_DRIFT", t: 0, severity: 2, details: { direction: "above" } }]);
    expect(
      detectDrift(
        track(31, 0.1, () => 0.16),
        corridor,
        configs.CORRIDOR_C_DRIFT,
      ),
    ).toEqual([]);
    expect(
      detectDrift(
        track(101, 0.1, (t) => 0.1 + 0.02 * Math.sin(t)),
        corridor,
        configs.CORRIDOR_C_DRIFT,
      ),
    ).toEqual([]);
  });

  it("HUNTING_OSCILLATION: a ±0.05 swing every second for 10 s → triggers; a slow ramp or small noise → none", () => {
    const osc = detectHunting(
      track(101, 0.1, (t) => 0.1 + 0.05 * Math.sin(Math.PI * t)),
      corridor,
      configs.HUNTING_OSCILLATION,
    );
    expect(osc).toHaveLength(1);
    expect(osc[0].type).toBe("HUNTING_OSCILLATION");
    expect(osc[0].details?.measure).toBeGreaterThanOrEqual(8);
    expect(
      detectHunting(
        track(101, 0.1, (t) => 0.1 + 0.01 * t),
        corridor,
        configs.HUNTING_OSCILLATION,
      ),
    ).toEqual([]);
    expect(
      detectHunting(
        track(101, 0.1, (t) => 0.1 + 0.005 * Math.sin(9 * t)),
        corridor,
        configs.HUNTING_OSCILLATION,
      ),
    ).toEqual([]);
  });

  it("SENSOR_INTEGRITY_DROP: flatline, missing samples and jitter trigger; a clean track does not", () => {
    const clean = track(50, 0.1, (t) => 0.1 + 0.01 * t);
    const cfg = configs.SENSOR_INTEGRITY_DROP;
    expect(detectSensorIntegrity(clean, 0.1, cfg)).toEqual([]);
    const flat = clean.map((s, i) => (i >= 10 && i < 20 ? { ...s, C: clean[9].C, D: clean[9].D } : s));
    expect(detectSensorIntegrity(flat, 0.1, cfg)).toMatchObject([
      { type: "SENSOR_INTEGRITY_DROP", details: { kinds: "flatline" } },
    ]);
    const gap = clean.filter((_, i) => i < 10 || i >= 20);
    const g = detectSensorIntegrity(gap, 0.1, cfg);
    expect(g).toMatchObject([{ type: "SENSOR_INTEGRITY_DROP", severity: 3, details: { kinds: "missing" } }]);
    expect(g[0].details?.measure).toBeCloseTo(1.0, 9);
    const jit = clean.map((s, i) => (i === 25 ? { ...s, C: s.C + 0.15 } : s));
    expect(detectSensorIntegrity(jit, 0.1, cfg)).toMatchObject([{ details: { kinds: "jitter" }, severity: 1 }]);
    // a step change (one-way) is not jitter
    const step = clean.map((s, i) => (i >= 25 ? { ...s, C: s.C + 0.15 } : s));
    expect(detectSensorIntegrity(step, 0.1, cfg)).toEqual([]);
  });

  it("RESONANCE_TIME_SLIP: off-grid spacing and stalls trigger, backwards time is severity 5, whole-step gaps do not", () => {
    const cfg = configs.RESONANCE_TIME_SLIP;
    const regular = track(50, 0.1, () => 0.1);
    expect(detectTimeSlip(regular, 0.1, cfg)).toEqual([]);
    expect(
      detectTimeSlip(
        regular.filter((_, i) => i % 3 !== 1),
        0.1,
        cfg,
      ),
    ).toEqual([]);
    let off = 0;
    const slipped = regular.map((s, i) => {
      if (i > 10 && i <= 20) off += 0.04;
      return { ...s, t: s.t + off };
    });
    const a = detectTimeSlip(slipped, 0.1, cfg);
    expect(a).toMatchObject([{ type: "RESONANCE_TIME_SLIP", severity: 3, details: { kinds: "off_grid" } }]);
    const back = regular.map((s, i) => (i === 30 ? { ...s, t: s.t - 0.25 } : s));
    expect(detectTimeSlip(back, 0.1, cfg)[0]).toMatchObject({ severity: 5 });
  });

  it("SEGMENT_BOUNDARY_GLITCH: a jump into a continuing segment triggers; a continuous or restarted one does not", () => {
    const a: Segment = { segment_id: "a", label: "main", samples: track(10, 0.1, () => 0.1) };
    const cont = (dC: number, start?: string): Segment => ({
      segment_id: "b",
      label: "handoff",
      samples: track(10, 0.1, () => 0.1 + dC).map((s) => ({ ...s, t: s.t + 0.9 })),
      meta: start ? { start } : {},
    });
    const cfg = configs.SEGMENT_BOUNDARY_GLITCH;
    expect(detectBoundaryGlitches([a, cont(0.05)], corridor, cfg)[1]).toMatchObject([
      { type: "SEGMENT_BOUNDARY_GLITCH", severity: 3, t: 0.9 },
    ]);
    expect(detectBoundaryGlitches([a, cont(0)], corridor, cfg)[1]).toEqual([]);
    expect(detectBoundaryGlitches([a, cont(0.05, "initial")], corridor, cfg)[1]).toEqual([]);
  });

  it("clusterFindings: findings further apart than max_gap are separate episodes", () => {
    const f = [
      { t: 0, amount: 1 },
      { t: 0.5, amount: 1 },
      { t: 5, amount: 1 },
    ];
    expect(
      clusterFindings("LOG_SCHEMA_VIOLATION", f, 1, configs.LOG_SCHEMA_VIOLATION.thresholds).map((a) => a.severity),
    ).toEqual([2, 1]);
  });
});

describe("overlay detectors", () => {
  const nodes = [
    { id: "A", role: "source", neighbors: ["B"], coupling: 0 },
    { id: "B", role: "load", neighbors: ["A"], coupling: 2 },
  ];

  it("SNR_NODE_DESYNC measure: a biased node with its link down diverges; a coupled, unbiased one does not", () => {
    const down = new NodeNetwork(nodes, 0.1);
    let m = 0;
    for (let i = 0; i < 100; i++)
      m = down.step(
        0.1,
        (n) => (n === 1 ? 0.01 : 0),
        () => true,
      );
    expect(m).toBeCloseTo(1.0, 6);
    const ok = new NodeNetwork(nodes, 0.1);
    for (let i = 0; i < 100; i++)
      m = ok.step(
        0.1,
        () => 0,
        () => false,
      );
    expect(m).toBe(0);
    const coupled = new NodeNetwork(nodes, 0.1);
    for (let i = 0; i < 100; i++)
      m = coupled.step(
        0.1,
        (n) => (n === 1 ? 0.01 : 0),
        () => false,
      );
    expect(m).toBeLessThan(configs.SNR_NODE_DESYNC.thresholds[0]);
  });

  it("DIMCORE_IMBALANCE measure: a mode at twice its gain is out of balance; D alone never is", () => {
    const core = new DimensionalCore("RTT-12");
    expect(core.step(0.9, 0, () => 1)).toBeCloseTo(0, 12);
    expect(core.step(0.5, 0, () => 1)).toBeCloseTo(0, 12);
    expect(core.step(0.9, 0, (k) => (k === 7 ? 2 : 1))).toBeGreaterThan(configs.DIMCORE_IMBALANCE.thresholds[2]);
    expect(core.step(0.9, 1, () => 1)).toBeGreaterThan(0);
  });

  it("an unknown dimcore model is refused (it used to build a core with no dimensions that measured nothing)", () => {
    expect(() => new DimensionalCore("RTT-10" as "RTT-12")).toThrow(
      /dimcore\.model must be one of RTT-9, RTT-12, RTT-24/,
    );
  });
});

describe("undefined lookups in detector and scoring data", () => {
  it("a detector parameter the config does not define is an error, not a detector that silently finds nothing", () => {
    const samples = track(100, 0.1, () => 0.2);
    const cfg = { params: { level: 0.3 }, thresholds: configs.CORRIDOR_C_DRIFT.thresholds };
    expect(() => detectDrift(samples, corridor, cfg)).toThrow(
      /CORRIDOR_C_DRIFT: detector parameter 'min_duration_s' is not set/,
    );
  });

  it("an anomaly severity off the integers is rounded for its penalty instead of making the scores NaN", () => {
    const samples = track(10, 0.1, () => 0.1);
    const c = { C_band: [0, 0.2] as [number, number], D_min: 0, max_recovery_s: 10 };
    const at = (severity: number) => scoreSession([{ samples }], [{ t: 0, type: "CORRIDOR_C_DRIFT", severity }], c);
    expect(at(2.5)).toEqual(at(3));
    expect(at(2.5).quality).toBe(90);
  });
});

import { createHash } from "node:crypto";
import {
  ANOMALY_TYPES,
  anomalyTaxonomy,
  checkReference,
  extractInputs,
  getScenario,
  INPUT_SLEW_COST_D,
  listScenarios,
  POLICY_NAMES,
  REFERENCE_INITIAL_STATE,
  referenceSegments,
  type SessionLogV2,
  segmentLabels,
  simulateScenario,
  simulateSession,
  update,
  validateSessionLog,
} from "@rtt/core";
import { describe, expect, it } from "vitest";

const sha = (log: unknown) => createHash("sha256").update(JSON.stringify(log)).digest("hex");
const typesOf = (log: SessionLogV2) =>
  new Set((log.segments ?? []).flatMap((s) => (s.anomalies ?? []).map((a) => a.type)));

describe("built-in scenarios", () => {
  it("are at least 8, over COMT, CTE, CLFC and PR, sorted by id, with labels from spec/v2/segment_labels.json", () => {
    const all = listScenarios();
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(new Set(all.map((s) => s.device_type))).toEqual(new Set(["COMT", "CTE", "CLFC", "PR"]));
    expect(all.map((s) => s.id)).toEqual([...all.map((s) => s.id)].sort());
    const vocabulary = new Set(segmentLabels());
    for (const s of all)
      for (const seg of s.segments) expect(vocabulary, `${s.id}/${seg.segment_id}`).toContain(seg.label);
    expect(getScenario("COMT_LOCK_01")?.difficulty).toBe("Journeyman");
    expect(getScenario("NOPE")).toBeUndefined();
  });

  it("COMT_LOCK_01 / Journeyman with no input reproduces the v2 reference segments exactly", () => {
    const log = simulateSession({ scenario: "COMT_LOCK_01", policy: "none" });
    expect(validateSessionLog(log, { strictLabels: true, conformance: true }).errors).toEqual([]);
    expect(checkReference(log)).toEqual([]);
    const ref = referenceSegments().reference_sets[0].segments;
    for (const seg of log.segments ?? []) {
      const want = ref[seg.label].samples;
      expect(seg.samples.map(({ t, C, D, Q, R }) => ({ t, C, D, Q, R }))).toHaveLength(want.length);
      seg.samples.forEach((s, i) => {
        for (const k of ["t", "C", "D", "Q", "R"] as const) expect(Math.abs(s[k] - want[i][k])).toBeLessThan(1e-9);
      });
      expect(seg.anomalies).toEqual([]);
    }
  });

  for (const def of listScenarios()) {
    it(`${def.id}: every policy yields a valid v2 log (strict labels) with typed, segment-scoped anomalies`, () => {
      for (const policy of POLICY_NAMES) {
        const log = simulateSession({ scenario: def.id, policy, seed: 3, operator_id: "urn:operator:test:x" });
        const v = validateSessionLog(log, { strictLabels: true });
        expect(v.errors, `${policy}`).toEqual([]);
        expect(v.warnings).toEqual([]);
        expect(log.operator_id).toBe("urn:operator:test:x");
        expect(log.device_type).toBe(def.device_type);
        expect(log.segment_count).toBe(def.segments.length);
        for (const k of ["stability", "response", "quality", "final"] as const) {
          expect(log.scores[k]).toBeGreaterThanOrEqual(0);
          expect(log.scores[k]).toBeLessThanOrEqual(100);
        }
        const taxonomy = new Set(anomalyTaxonomy().types.map((t) => t.type));
        for (const seg of log.segments ?? []) {
          const ts = seg.samples.map((s) => s.t);
          for (const a of seg.anomalies ?? []) {
            expect(taxonomy).toContain(a.type);
            expect([1, 2, 3, 4, 5]).toContain(a.severity);
            expect(a.t).toBeGreaterThanOrEqual(Math.min(...ts));
            expect(a.t).toBeLessThanOrEqual(Math.max(...ts));
          }
        }
      }
    });
  }
});

describe("determinism", () => {
  it("same scenario + policy + seed → byte-identical log; another seed or policy → another log", () => {
    for (const scenario of ["COMT_STEP_03", "CTE_SENSOR_01", "CLFC_MICROGRID_02"]) {
      const a = simulateSession({ scenario, policy: "novice", seed: 42 });
      const b = simulateSession({ scenario, policy: "novice", seed: 42 });
      expect(sha(a)).toBe(sha(b));
      expect(sha(simulateSession({ scenario, policy: "novice", seed: 43 }))).not.toBe(sha(a));
      expect(sha(simulateSession({ scenario, policy: "expert", seed: 42 }))).not.toBe(sha(a));
    }
  });

  it("derives session_id and timestamp from the inputs when they are not given", () => {
    const a = simulateSession({ scenario: "COMT_DRIFT_02", policy: "expert", seed: 5 });
    expect(a.session_id).toMatch(/^SIM-COMT_DRIFT_02-expert-s5-[0-9a-f]{8}$/);
    expect(a.timestamp).toBe("2026-01-06T00:05:00.000Z");
    const b = simulateSession({
      scenario: "COMT_DRIFT_02",
      policy: "expert",
      seed: 5,
      operator_id: "urn:operator:o:2",
    });
    expect(b.session_id).not.toBe(a.session_id);
    const c = simulateSession({
      scenario: "COMT_DRIFT_02",
      seed: 5,
      session_id: "X",
      timestamp: "2026-02-01T00:00:00Z",
    });
    expect([c.session_id, c.timestamp]).toEqual(["X", "2026-02-01T00:00:00Z"]);
  });

  it("gives a novice and an expert the same environment (separate PRNG streams) but different outcomes", () => {
    let expertBetter = 0;
    const ids = listScenarios()
      .map((s) => s.id)
      .filter((id) => id !== "COMT_LOCK_01");
    for (const scenario of ids) {
      const novice = simulateSession({ scenario, policy: "novice", seed: 1 });
      const expert = simulateSession({ scenario, policy: "expert", seed: 1 });
      if (expert.scores.final > novice.scores.final) expertBetter++;
      expect(expert.anomaly_count).toBeLessThanOrEqual((novice.anomaly_count ?? Number.NaN) + 2); // absent fails
    }
    expect(expertBetter).toBeGreaterThanOrEqual(ids.length - 1);
  });
});

describe("modes", () => {
  it("REPLAY of a TRAINING log's recorded inputs reproduces its samples exactly", () => {
    const training = simulateSession({ scenario: "COMT_STEP_03", policy: "novice", seed: 9 });
    const inputs = extractInputs(training);
    expect(inputs.length).toBeGreaterThan(100);
    const replay = simulateSession({ scenario: "COMT_STEP_03", mode: "REPLAY", inputs, seed: 9 });
    expect(replay.mode).toBe("REPLAY");
    expect(replay.segments?.map((s) => s.samples)).toEqual(training.segments?.map((s) => s.samples));
    expect(replay.scores).toEqual(training.scores);
  });

  it("rejects REPLAY without inputs, unknown scenarios and policies, and bad operator ids", () => {
    expect(() => simulateSession({ scenario: "COMT_STEP_03", mode: "REPLAY" })).toThrow(/inputs/);
    expect(() => simulateSession({ scenario: "NOPE" })).toThrow(/unknown scenario.*COMT_LOCK_01/);
    expect(() => simulateSession({ scenario: "COMT_STEP_03", policy: "wizard" })).toThrow(/unknown policy/);
    expect(() => simulateSession({ scenario: "COMT_STEP_03", operator_id: "alice" })).toThrow(/urn:operator/);
    expect(() => simulateSession({ scenario: "COMT_STEP_03", mastery_level: 31 })).toThrow(/0\.\.30/);
  });
});

describe("taxonomy coverage", () => {
  /** Which built-in scenario triggers which anomaly type, and under which policy (seed 1). */
  const TRIGGERS: Array<[string, string, string]> = [
    ["DECOHERENCE_SPIKE", "COMT_STEP_03", "expert"],
    ["CORRIDOR_C_DRIFT", "COMT_DRIFT_02", "none"],
    ["OVERSHOOT_EVENT", "COMT_STEP_03", "novice"],
    ["HUNTING_OSCILLATION", "COMT_STEP_03", "novice"],
    ["SENSOR_INTEGRITY_DROP", "CTE_SENSOR_01", "expert"],
    ["LOG_SCHEMA_VIOLATION", "CTE_HANDOFF_02", "expert"],
    ["SEGMENT_BOUNDARY_GLITCH", "CTE_HANDOFF_02", "expert"],
    ["RESONANCE_TIME_SLIP", "CTE_SENSOR_01", "expert"],
    ["SNR_NODE_DESYNC", "CLFC_GRID_01", "expert"],
    ["DIMCORE_IMBALANCE", "PR_DIMCORE_01", "expert"],
    ["CORRELATION_COLLAPSE", "PR_RECOVERY_02", "expert"],
  ];

  it("lists every taxonomy type exactly once", () => {
    expect(TRIGGERS.map(([t]) => t).sort()).toEqual([...ANOMALY_TYPES].sort());
    expect(
      anomalyTaxonomy()
        .types.map((t) => t.type)
        .sort(),
    ).toEqual([...ANOMALY_TYPES].sort());
  });

  for (const [type, scenario, policy] of TRIGGERS) {
    it(`${type} is triggered by ${scenario} (${policy})`, () => {
      expect(typesOf(simulateSession({ scenario, policy, seed: 1 }))).toContain(type);
    });
  }

  it("each scenario triggers what it says it teaches, under some policy", () => {
    for (const def of listScenarios()) {
      const seen = new Set<string>();
      for (const policy of POLICY_NAMES)
        for (const t of typesOf(simulateSession({ scenario: def.id, policy, seed: 1 }))) seen.add(t);
      for (const t of def.teaches ?? []) expect(seen, def.id).toContain(t);
    }
  });
});

describe("triadic extensions", () => {
  it("S-N-R: multi-node scenarios fill triadic.snr.nodes with roles, neighbours, coupling and local corridors", () => {
    const log = simulateSession({ scenario: "CLFC_GRID_01", policy: "expert", seed: 1 });
    const nodes = log.triadic?.snr?.nodes ?? [];
    expect(nodes.map((n) => n.id)).toEqual(["N1", "N2", "N3", "N4"]);
    for (const n of nodes) {
      expect(n.role).toBeTypeOf("string");
      expect(n.neighbors?.length).toBeGreaterThan(0);
      expect(n.local_corridor?.C).toBeTypeOf("number");
      expect(n.coupling).toBeTypeOf("number");
    }
    expect(nodes[0].local_corridor?.C).toBe(Math.round(log.segments!.at(-1)!.samples.at(-1)!.C * 1e6) / 1e6);
    expect(log.extensions).toEqual(["SET", "SNR"]);
  });

  it("dimensional core: RTT-24 has d0..d24, RTT-12 has d0..d12", () => {
    const d24 = simulateSession({ scenario: "PR_DIMCORE_01", policy: "expert" }).triadic?.dimcore;
    expect(d24?.model).toBe("RTT-24");
    expect(Object.keys(d24?.dims ?? {})).toEqual(Array.from({ length: 25 }, (_, k) => `d${k}`));
    const d12 = simulateSession({ scenario: "CLFC_MICROGRID_02", policy: "expert" }).triadic?.dimcore;
    expect(Object.keys(d12?.dims ?? {})).toHaveLength(13);
  });

  it("S-E-T: per sample and per session, every component in [0, 1]", () => {
    const log = simulateSession({ scenario: "CLFC_GRID_01", policy: "novice" });
    const sets = (log.segments ?? []).flatMap((s) => s.samples.map((x) => x.triadic?.set));
    expect(sets.every((s) => s !== undefined)).toBe(true);
    for (const s of [...sets, log.triadic?.set])
      for (const k of ["S", "E", "T"] as const) {
        expect(s![k]).toBeGreaterThanOrEqual(0);
        expect(s![k]).toBeLessThanOrEqual(1);
      }
  });

  it("no extension is emitted for scenarios that do not declare it", () => {
    const log = simulateSession({ scenario: "COMT_STEP_03" });
    expect(log.triadic).toBeUndefined();
    expect(log.extensions).toBeUndefined();
  });
});

describe("operator input law", () => {
  it("an input change costs decoherence at once (slew cost), a steady input less", () => {
    const s = { ...REFERENCE_INITIAL_STATE };
    const steady = update(s, 0.1, { u: 1 });
    const reversal = update(s, 0.1, { u: 1, du: 2 });
    expect(steady.D - reversal.D).toBeCloseTo(INPUT_SLEW_COST_D * 4 * s.D, 12);
    expect(update(s, 0.1, { du: 0, u: 0 })).toEqual(update(s, 0.1));
  });

  it("scenarios can be run from a definition (simulateScenario), e.g. with a fault removed", () => {
    const def = structuredClone(getScenario("CTE_HANDOFF_02")!);
    def.disturbances = (def.disturbances ?? []).filter((d) => d.kind !== "emitter_fault");
    expect(typesOf(simulateScenario(def, { policy: "expert" }))).not.toContain("LOG_SCHEMA_VIOLATION");
  });
});

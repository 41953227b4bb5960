import { DEFAULT_OBJECTIVES, evaluateCurriculum, simulateSession } from "@rtt/core";
import { describe, expect, it } from "vitest";

describe("evaluateCurriculum", () => {
  it("an expert passes COMT_DRIFT_02, a no-input run fails with evidence of where", () => {
    const good = evaluateCurriculum(simulateSession({ scenario: "COMT_DRIFT_02", policy: "expert", seed: 1 }));
    expect(good.passed).toBe(true);
    expect(good.objectives.map((o) => o.id)).toEqual(["hold-C", "no-severe", "score"]);
    expect(good.drills).toEqual([]);

    const bad = evaluateCurriculum(simulateSession({ scenario: "COMT_DRIFT_02", policy: "none", seed: 1 }));
    expect(bad.passed).toBe(false);
    const severe = bad.objectives.find((o) => o.id === "no-severe")!;
    expect(severe.passed).toBe(false);
    for (const e of severe.evidence) {
      expect(e.segment_id).toMatch(/^seg-/);
      expect(e.t_to).toBeGreaterThanOrEqual(e.t_from);
      expect(e.note).toMatch(/severity [45]/);
    }
    const hold = bad.objectives.find((o) => o.id === "hold-C")!;
    expect(hold.passed).toBe(false);
    expect(hold.evidence[0].note).toMatch(/held for .* s \(needed 30 s\)/);
  });

  it("recommends the taxonomy's drills for the anomalies that occurred, most severe first", () => {
    const r = evaluateCurriculum(simulateSession({ scenario: "COMT_DRIFT_02", policy: "none", seed: 1 }));
    const types = [...new Set(r.drills.map((d) => d.anomaly_type))];
    expect(types).toEqual(expect.arrayContaining(["CORRIDOR_C_DRIFT", "OVERSHOOT_EVENT"]));
    expect(r.drills.map((d) => d.drill)).toContain("baseline re-lock");
    expect(r.drills[0].reason).toMatch(/max severity 5.*remediation required before advancing/);
  });

  it("hold_D_above: the longest run with D above the threshold is the evidence", () => {
    const r = evaluateCurriculum(simulateSession({ scenario: "COMT_STEP_03", policy: "expert", seed: 1 }));
    const hold = r.objectives.find((o) => o.id === "hold-D")!;
    expect(hold.passed).toBe(true);
    expect(hold.evidence[0].t_to - hold.evidence[0].t_from).toBeGreaterThanOrEqual(20);
  });

  it("logs of unknown scenarios are judged by the seed's three default objectives", () => {
    const log = simulateSession({ scenario: "COMT_LOCK_01", policy: "none" });
    const r = evaluateCurriculum({ ...log, scenario: "SOMETHING_ELSE" });
    expect(r.objectives.map((o) => o.text)).toEqual(DEFAULT_OBJECTIVES.map((o) => o.text));
    expect(r.objectives.find((o) => o.id === "hold-D")?.passed).toBe(false);
    expect(r.objectives.find((o) => o.id === "score")?.passed).toBe(true);
  });
});

import {
  REFERENCE_INITIAL_STATE,
  referenceSamples,
  referenceVector,
  runSimulation,
  SAMPLE_FIELDS,
  update,
} from "@rtt/core";
import { describe, expect, it } from "vitest";

describe("reference engine", () => {
  it("reproduces spec/v1/reference_samples.json within 1e-9", () => {
    const ref = referenceVector();
    const got = runSimulation(ref.steps, ref.dt, ref.initial_state);
    const want = referenceSamples();
    expect(got).toHaveLength(want.length);
    got.forEach((s, i) => {
      for (const k of SAMPLE_FIELDS) expect(Math.abs(s[k] - want[i][k])).toBeLessThan(1e-9);
    });
  });

  it("treats an absent input and an all-zero input as exactly the reference rule", () => {
    const s = { ...REFERENCE_INITIAL_STATE };
    expect(update(s, 0.1, { u: 0, w: { C: 0, D: 0, Q: 0, R: 0 } })).toEqual(update(s, 0.1));
    expect(update(s, 0.1, {})).toEqual(update(s, 0.1));
  });

  it("lets a non-zero operator input change the trajectory", () => {
    const s = { ...REFERENCE_INITIAL_STATE };
    expect(update(s, 0.1, { u: 1 })).not.toEqual(update(s, 0.1));
  });

  it("returns steps + 1 samples and rejects nonsense step counts", () => {
    expect(runSimulation(0, 0.1)).toHaveLength(1);
    expect(runSimulation(10, 0.1)).toHaveLength(11);
    expect(() => runSimulation(-1, 0.1)).toThrow(/non-negative integer/);
    expect(() => runSimulation(1.5, 0.1)).toThrow(/non-negative integer/);
    expect(() => runSimulation(1, Number.NaN)).toThrow(/finite/);
  });
});

import { getScenario } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../src/sim/prng.js";
import { DIMCORE_MODELS, DimensionalCore, NodeNetwork } from "../src/sim/triadic.js";

/**
 * The simulator's undisturbed shortcuts must compute exactly what the general step computes (sim-golden.test.ts checks
 * whole logs, but its runs are too short for the S-N-R network to settle): same measures bit for bit, same snapshots.
 */
describe("undisturbed fast paths", () => {
  it("the dimensional core without gains matches the general step with every gain 1", () => {
    const rng = mulberry32(7);
    for (const model of Object.keys(DIMCORE_MODELS) as Array<keyof typeof DIMCORE_MODELS>)
      for (const excitation of [0.5, 0, -0.3]) {
        const fast = new DimensionalCore(model, 0.95, excitation);
        const general = new DimensionalCore(model, 0.95, excitation);
        const ones = new Float64Array(fast.K + 1).fill(1);
        for (let i = 0; i < 5000; i++) {
          const D = i % 97 === 0 ? -0.2 : i % 89 === 0 ? 0 : 1.2 * rng.next();
          const u = i % 7 === 0 ? 0 : 2 * rng.next() - 1;
          expect(Object.is(fast.stepWith(D, u), general.stepWith(D, u, ones))).toBe(true);
        }
        expect(fast.snapshot()).toStrictEqual(general.snapshot());
      }
  });

  it("a settled S-N-R network returns what recomputing the fixed point would", () => {
    for (const id of ["CLFC_MICROGRID_02", "CLFC_GRID_01"]) {
      const nodes = getScenario(id)?.snr?.nodes ?? [];
      expect(nodes.length).toBeGreaterThan(2);
      const settling = new NodeNetwork(nodes, 0.1);
      const reference = new NodeNetwork(nodes, 0.1);
      const last = nodes.length - 1;
      const bias = new Float64Array(nodes.length);
      const down = new Uint8Array(nodes.length);
      bias[last] = 0.05;
      down[last] = 1;
      // dt = 0.05: the offsets decay into subnormals and stop moving after ~19,000 (MICROGRID) and ~40,000 (GRID) steps.
      const dt = 0.05;
      for (let i = 0; i < 45_000; i++) {
        const disturbed = i < 50;
        const a = disturbed ? settling.stepWith(dt, bias, down) : settling.stepWith(dt);
        const b = reference.step(
          dt,
          (n) => (disturbed && n === last ? 0.05 : 0),
          (n) => disturbed && n === last,
        );
        expect(Object.is(a, b)).toBe(true);
      }
      expect((settling as unknown as { settledDt: number }).settledDt).toBe(dt); // the shortcut was taken
      const state = { t: 1, C: 0.1, D: 0.9, Q: 0.5, R: 0 };
      expect(settling.snapshot(state)).toStrictEqual(reference.snapshot(state));
    }
  });
});

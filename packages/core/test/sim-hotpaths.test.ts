import { getScenario } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { SampleColumns } from "../src/sim/columns.js";
import { mulberry32 } from "../src/sim/prng.js";
import { computeSET, NodeNetwork, setColumns } from "../src/sim/triadic.js";

/**
 * The step loop's hot paths are shaped for V8 (tiny inlinable entries, blocks, no boxed doubles); each must give the
 * numbers of the plain form it replaced, bit for bit. sim-golden.test.ts checks whole logs, but its runs are shorter
 * than one S-E-T block and too short for the S-N-R network to settle.
 */
describe("hot paths compute what the plain forms compute", () => {
  it("gauss hands out the Box–Muller pair in the order the closure form did (cosine value first)", () => {
    const uniform = mulberry32(11);
    let spare: number | undefined;
    const reference = () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u1 = uniform.next();
      while (u1 <= Number.MIN_VALUE) u1 = uniform.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const phi = 2 * Math.PI * uniform.next();
      spare = r * Math.sin(phi);
      return r * Math.cos(phi);
    };
    const rng = mulberry32(11);
    for (let i = 0; i < 10_000; i++) {
      // Uniform draws between normal ones (the operator's policy mixes both on one stream).
      if (i % 5 === 0) expect(rng.next()).toBe(uniform.next());
      expect(Object.is(rng.gauss(), reference())).toBe(true);
    }
  });

  it("the S-N-R network's undisturbed entry matches stepWith(dt) before, while and after it settles", () => {
    const nodes = getScenario("CLFC_MICROGRID_02")?.snr?.nodes ?? [];
    expect(nodes.length).toBeGreaterThan(2);
    const entry = new NodeNetwork(nodes, 0.1);
    const general = new NodeNetwork(nodes, 0.1);
    const bias = new Float64Array(nodes.length).fill(0.04);
    const down = new Uint8Array(nodes.length);
    const dt = 0.05;
    for (let i = 0; i < 25_000; i++) {
      if (i < 40) expect(Object.is(entry.stepWith(dt, bias, down), general.stepWith(dt, bias, down))).toBe(true);
      else expect(Object.is(entry.stepUndisturbed(dt), general.stepWith(dt))).toBe(true);
    }
    expect((entry as unknown as { settledDt: number }).settledDt).toBe(dt); // it did settle
    const state = { t: 1, C: 0.1, D: 0.9, Q: 0.5, R: 0 };
    expect(entry.snapshot(state)).toStrictEqual(general.snapshot(state));
  });

  it("S-E-T columns in blocks equal computeSET per sample, summed in sample order, across block boundaries", () => {
    const rng = mulberry32(5);
    const n = 40_000; // more than two blocks
    const cols = new SampleColumns(n);
    let t = 0;
    for (let i = 0; i < n; i++) {
      if (i % 1000 !== 0) t += 0.001 * (i % 17 === 0 ? 0 : 1); // stalls: rate 0 when t does not advance
      cols.push(t, 0.1 + 0.2 * (rng.next() - 0.5), 1.2 * rng.next() - 0.1, rng.next(), 0, 0);
    }
    const c = { C_target: 0.1, h: 0.1, period_s: 10 };
    const sums = { S: 0, E: 0, T: 0, n: 0 };
    const set = setColumns(cols, c, sums);
    let S = 0;
    let E = 0;
    let T = 0;
    for (let i = 0; i < n; i++) {
      const ti = cols.t[i] as number;
      const prevT = i > 0 ? (cols.t[i - 1] as number) : 0;
      const rate = i > 0 && ti > prevT ? ((cols.C[i] as number) - (cols.C[i - 1] as number)) / (ti - prevT) : 0;
      const one = computeSET(cols.C[i] as number, cols.D[i] as number, cols.Q[i] as number, rate, ti, c);
      expect([set.S[i], set.E[i], set.T[i]]).toStrictEqual([one.S, one.E, one.T]);
      S += one.S;
      E += one.E;
      T += one.T;
    }
    expect(sums).toStrictEqual({ S, E, T, n });
  });
});

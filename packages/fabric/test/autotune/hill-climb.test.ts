import { seededRandom } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { paramsAt, SWEEP, startPoint } from "../../src/autotune/engine.js";
import { type Dimension, hillClimb, neighbours } from "../../src/autotune/hill-climb.js";
import { ringBytesFor } from "../../src/autotune/trial.js";

const dims: Dimension<number>[] = [
  { name: "ring", values: [512, 1024, 2048, 4096] },
  { name: "batch", values: [0, 50, 100, 200] },
  { name: "spin", values: [0, 5, 20, 50, 100, 200] },
];

/** A fake objective: a bowl with its minimum at (2, 1, 3), plus seeded noise so runs can be compared. */
const bowl = (noiseSeed?: number) => {
  const r = noiseSeed === undefined ? () => 0 : seededRandom(noiseSeed);
  return (p: number[]) => (p[0]! - 2) ** 2 + 2 * (p[1]! - 1) ** 2 + 0.5 * (p[2]! - 3) ** 2 + r() * 0.1;
};

describe("autotune hill-climb", () => {
  it("neighbours come in a fixed order: each dimension, one step down then up, inside the grid", () => {
    expect(neighbours([0, 1, 5], dims)).toEqual([
      [1, 1, 5],
      [0, 0, 5],
      [0, 2, 5],
      [0, 1, 4],
    ]);
  });

  it("finds the bowl's minimum from the defaults' corner and stops at the optimum", async () => {
    const r = await hillClimb({ dims, start: [3, 0, 3], evaluate: bowl(), maxEvaluations: 100, seed: 1 });
    expect(r.best).toEqual([2, 1, 3]);
    expect(r.stopped).toBe("optimum");
    expect(r.evaluations[0]!.point).toEqual([3, 0, 3]);
  });

  it("is deterministic: the same seed and objective give the same path, evaluation by evaluation", async () => {
    const a = await hillClimb({ dims, start: [0, 3, 0], evaluate: bowl(7), maxEvaluations: 30, seed: 42 });
    const b = await hillClimb({ dims, start: [0, 3, 0], evaluate: bowl(7), maxEvaluations: 30, seed: 42 });
    expect(b).toEqual(a);
  });

  it("breaks ties with the seeded PRNG: a flat objective's moves depend on the seed only", async () => {
    // Every neighbour of the start ties at 0 and beats the start (1): the seed picks which one.
    const flat = (p: number[]) => (p.join(",") === "1,1,2" ? 1 : 0);
    const pick = async (seed: number) =>
      (await hillClimb({ dims, start: [1, 1, 2], evaluate: flat, maxEvaluations: 50, seed })).best;
    expect(await pick(3)).toEqual(await pick(3));
    const picks = new Set<string>();
    for (let s = 0; s < 16; s++) picks.add((await pick(s)).join(","));
    expect(picks.size).toBeGreaterThan(1);
  });

  it("never evaluates more points than the budget, the start included, and returns the best seen", async () => {
    let calls = 0;
    const f = bowl();
    const r = await hillClimb({
      dims,
      start: [0, 3, 0],
      evaluate: (p) => {
        calls++;
        return f(p);
      },
      maxEvaluations: 5,
      seed: 1,
    });
    expect(calls).toBe(5);
    expect(r.evaluations).toHaveLength(5);
    expect(r.stopped).toBe("budget");
    expect(r.bestScore).toBe(Math.min(...r.evaluations.map((e) => e.score)));
  });

  it("treats Infinity as infeasible: never moves to a point that missed the throughput floor", async () => {
    const r = await hillClimb({
      dims,
      start: [1, 1, 1],
      evaluate: (p) => (p[2] === 0 ? Number.POSITIVE_INFINITY : 10 - p[2]! + (p[0] === 1 ? 0 : 1)),
      maxEvaluations: 40,
      seed: 1,
    });
    expect(r.best).toEqual([1, 1, 5]);
  });
});

describe("the sweep's grid", () => {
  it("maps ring slots to power-of-two bytes of at least ShmRing's 4 KiB minimum", () => {
    expect(ringBytesFor(512, 0)).toBe(16384); // 512 × 24 B
    expect(ringBytesFor(512, 256)).toBe(262144); // 512 × 280 B = 140 KiB → 256 KiB
    expect(ringBytesFor(4096, 64)).toBe(524288); // 4096 × 88 B
    expect(ringBytesFor(1, 8)).toBe(4096);
    for (const s of SWEEP.ring_slots) {
      const b = ringBytesFor(s, 1000);
      expect(b & (b - 1)).toBe(0);
      expect(b).toBeGreaterThanOrEqual(s * 1024);
    }
  });

  it("starts from the point nearest the daemon's defaults (1 MiB, no batching, 50 µs spin)", () => {
    expect(paramsAt(startPoint(256), 256)).toEqual({
      ring_slots: 4096,
      ring_bytes: 2097152,
      batch_window_us: 0,
      spin_us: 50,
    });
    expect(paramsAt(startPoint(2000), 2000).ring_slots).toBe(512);
  });
});

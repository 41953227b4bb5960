import { describe, expect, it } from "vitest";
import { floorIndex, nearestIndex, SEVERITY_COLORS, sevColor } from "../../src/util.js";

describe("sevColor", () => {
  it("colours severities 1–5, rounding and clamping into that range", () => {
    expect(sevColor(3)).toBe(SEVERITY_COLORS[3]);
    expect(sevColor(4.6)).toBe(SEVERITY_COLORS[5]);
    expect(sevColor(9)).toBe(SEVERITY_COLORS[5]);
    expect(sevColor(-2)).toBe(SEVERITY_COLORS[1]);
    expect(sevColor(Number.POSITIVE_INFINITY)).toBe(SEVERITY_COLORS[5]);
  });

  it("gives a missing or NaN severity the colour of 1 (NaN used to give no colour at all)", () => {
    for (const s of [undefined, null, Number.NaN]) expect(sevColor(s)).toBe(SEVERITY_COLORS[1]);
  });
});

describe("floorIndex / nearestIndex", () => {
  const ts = [0, 1, 2, 4];
  it("find the sample at or before x, and the nearest one", () => {
    expect([-1, 0, 1.5, 3.9, 9].map((x) => floorIndex(ts, x))).toEqual([0, 0, 1, 2, 3]);
    expect([-1, 1.4, 1.6, 3.1, 9].map((x) => nearestIndex(ts, x))).toEqual([0, 1, 2, 3, 3]);
    expect(floorIndex([], 1)).toBe(-1);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

import { describe, expect, it } from "vitest";
import { formatZoom, parseZoom } from "../../src/replay/zoomParam.js";

describe("the zoom URL parameter", () => {
  it("round-trips a range at the precision t is written with", () => {
    expect(formatZoom({ min: 12.3456789, max: 40 })).toBe("12.345679,40");
    expect(parseZoom(formatZoom({ min: -1.5, max: 2.25 }))).toEqual({ min: -1.5, max: 2.25 });
  });

  it("ignores anything but two increasing finite numbers", () => {
    for (const bad of [undefined, "", "5", "5,", ",5", "a,b", "3,3", "4,2", "1,Infinity", "1,2,3"])
      expect(parseZoom(bad)).toBeNull();
  });
});

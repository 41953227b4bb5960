import { describe, expect, it } from "vitest";
import type { Objective } from "../../src/api.js";
import { curriculumBands } from "../../src/replay/curriculumBands.js";

const segments = [
  { segment_id: "cal", t_min: 0, t_max: 5 },
  { segment_id: "main", t_min: 5, t_max: 60 },
];
const objective = (passed: boolean, evidence: Objective["evidence"], text = "Keep C low"): Objective => ({
  id: text,
  text,
  passed,
  evidence,
});

describe("curriculumBands", () => {
  it("draws evidence of a known segment on that segment, coloured by the verdict, keyed objective.evidence", () => {
    const { timeline, plot } = curriculumBands(
      [
        objective(true, [{ segment_id: "main", t_from: 10, t_to: 12, note: "steady" }], "A"),
        objective(false, [
          { segment_id: "cal", t_from: 1, t_to: 2, note: "x" },
          { segment_id: "main", t_from: 30, t_to: 31, note: "spike" },
        ]),
      ],
      segments,
      "main",
    );
    expect(timeline).toEqual([
      { segment_id: "main", t_from: 10, t_to: 12, color: "#16a34a", title: "PASS A: steady", key: "0.0" },
      { segment_id: "cal", t_from: 1, t_to: 2, color: "#dc2626", title: "FAIL Keep C low: x", key: "1.0" },
      { segment_id: "main", t_from: 30, t_to: 31, color: "#dc2626", title: "FAIL Keep C low: spike", key: "1.1" },
    ]);
    // Only this segment's evidence is shaded on the plots, translucent.
    expect(plot.map((b) => [b.t_from, b.t_to, b.color])).toEqual([
      [10, 12, "rgba(22,163,74,0.12)"],
      [30, 31, "rgba(220,38,38,0.12)"],
    ]);
  });

  it("clips session-wide evidence onto every segment it overlaps, and keeps it off the plots", () => {
    const { timeline, plot } = curriculumBands(
      [objective(false, [{ segment_id: "*", t_from: 3, t_to: 8, note: "late" }])],
      segments,
      "main",
    );
    expect(timeline.map((b) => [b.segment_id, b.t_from, b.t_to, b.key])).toEqual([
      ["cal", 3, 5, "0.0"],
      ["main", 5, 8, "0.0"],
    ]);
    expect(plot).toEqual([]);
  });

  it("treats evidence of an unknown segment as session-wide, and drops it where no segment covers it", () => {
    const { timeline } = curriculumBands(
      [
        objective(true, [
          { segment_id: "gone", t_from: 50, t_to: 70, note: "" },
          { segment_id: "gone", t_from: 80, t_to: 90, note: "" },
        ]),
      ],
      segments,
      "cal",
    );
    expect(timeline.map((b) => [b.segment_id, b.t_from, b.t_to])).toEqual([["main", 50, 60]]);
  });

  it("has no bands without objectives or evidence", () => {
    expect(curriculumBands([], segments, "main")).toEqual({ timeline: [], plot: [] });
    expect(curriculumBands([objective(true, [])], segments, "main")).toEqual({ timeline: [], plot: [] });
  });
});

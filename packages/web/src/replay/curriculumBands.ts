import type { Objective, SegmentInfo } from "../api.js";
import type { Band } from "./Plots.js";
import type { TimelineBand } from "./Timeline.js";

const PASS_COLOR = "#16a34a";
const FAIL_COLOR = "#dc2626";
// Translucent, so the shaded plot lines stay readable.
const PASS_SHADE = "rgba(22,163,74,0.12)";
const FAIL_SHADE = "rgba(220,38,38,0.12)";

/**
 * Curriculum evidence as bands: on the timeline (every segment) and on the plots of segment `segmentId`.
 * A band's key is "objective.evidence" (indices); the timeline gives each objective its own lane by it.
 */
export function curriculumBands(
  objectives: Objective[],
  segments: Pick<SegmentInfo, "segment_id" | "t_min" | "t_max">[],
  segmentId: string,
): { timeline: TimelineBand[]; plot: Band[] } {
  // Evidence for segment "*" (or an unknown segment) is session-wide: clipped onto every segment it overlaps.
  const timeline: TimelineBand[] = objectives.flatMap((o, oi) =>
    o.evidence.flatMap((ev, ei) => {
      const band = {
        t_from: ev.t_from,
        t_to: ev.t_to,
        color: o.passed ? PASS_COLOR : FAIL_COLOR,
        title: `${o.passed ? "PASS" : "FAIL"} ${o.text}: ${ev.note}`,
        key: `${oi}.${ei}`,
      };
      if (segments.some((sg) => sg.segment_id === ev.segment_id)) return [{ ...band, segment_id: ev.segment_id }];
      return segments
        .filter((sg) => ev.t_to >= sg.t_min && ev.t_from <= sg.t_max)
        .map((sg) => ({
          ...band,
          segment_id: sg.segment_id,
          t_from: Math.max(ev.t_from, sg.t_min),
          t_to: Math.min(ev.t_to, sg.t_max),
        }));
    }),
  );
  // Session-wide evidence stays on the timeline only; the plots shade evidence tied to this segment.
  const segEvidence = new Set(
    objectives.flatMap((o, oi) => o.evidence.map((ev, ei) => (ev.segment_id === segmentId ? `${oi}.${ei}` : ""))),
  );
  const plot: Band[] = timeline
    .filter((b) => b.segment_id === segmentId && segEvidence.has(b.key))
    .map((b) => ({ ...b, color: b.color === PASS_COLOR ? PASS_SHADE : FAIL_SHADE }));
  return { timeline, plot };
}

import type { SegmentInfo } from "../api.js";
import { fmtNum, SeverityBadge } from "../util.js";

export function SegmentTabs({
  segments,
  current,
  onSeek,
}: {
  segments: SegmentInfo[];
  current: SegmentInfo;
  onSeek: (segmentId: string, t: number) => void;
}) {
  return (
    <div className="tabs" role="tablist" aria-label="Segments">
      {segments.map((s, i) => (
        <button
          type="button"
          role="tab"
          key={s.segment_id}
          aria-selected={s.segment_id === current.segment_id}
          data-testid="segment-tab"
          data-segment={s.segment_id}
          onClick={() => onSeek(s.segment_id, s.t_min)}
          title={`Key ${i + 1}`}
        >
          {s.label}
          <span className="muted small">
            {" "}
            {s.sample_count} · {fmtNum(s.duration, 2)}s
          </span>
          {s.anomaly_count ? <SeverityBadge severity={s.max_severity ?? undefined} /> : null}
        </button>
      ))}
    </div>
  );
}

import { useEffect } from "react";
import type { SegmentInfo } from "../api.js";
import { useLatest } from "../util.js";

/**
 * Keyboard shortcuts of the replay: Space (or k) play/pause, ←/→ step (Shift: ×10), [ ] previous/next anomaly,
 * Home/End of the segment, 1–9 a segment. Ignored while typing in a form field or with a modifier held.
 */
export function useReplayKeys(actions: {
  togglePlay: () => void;
  step: (dir: number) => void;
  jumpAnomaly: (dir: 1 | -1) => void;
  seek: (segmentId: string, t: number) => void;
  segments: SegmentInfo[];
  seg: SegmentInfo;
}) {
  // One listener for the page's lifetime; it reads the latest actions from a ref.
  const latest = useLatest(actions);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (el.closest("input, textarea, select, [contenteditable=true]")) return;
      const k = latest.current;
      if (e.key === " " || e.key === "k") {
        e.preventDefault();
        k.togglePlay();
      } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        k.step((e.key === "ArrowRight" ? 1 : -1) * (e.shiftKey ? 10 : 1));
      } else if (e.key === "]" || e.key === "[") {
        e.preventDefault();
        k.jumpAnomaly(e.key === "]" ? 1 : -1);
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault();
        k.seek(k.seg.segment_id, e.key === "Home" ? k.seg.t_min : k.seg.t_max);
      } else if (/^[1-9]$/.test(e.key)) {
        const s = k.segments[Number(e.key) - 1];
        if (s) k.seek(s.segment_id, s.t_min);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

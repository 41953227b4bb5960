import { useCallback, useRef, useState } from "react";
import type { Columns, SegmentInfo } from "../api.js";
import type { Query } from "../query.js";
import { Empty, ErrorBox, Loading } from "../util.js";
import { type PlotDetail, type PlotOverlays, Plots, type XRange } from "./Plots.js";

/**
 * The segment's four plots, or why they are missing. A hidden marker tells tests and bench/replay-ui when the
 * plots have drawn the current data.
 */
export function SegmentPlots(props: {
  seg: SegmentInfo;
  cols: Query<Columns>;
  nTotal: number;
  overlays: PlotOverlays;
  t: number;
  onSeek: (t: number) => void;
  detail: PlotDetail | null;
  onZoom: (range: XRange | null) => void;
  initialZoom: XRange | null;
}) {
  const { seg, cols, nTotal, overlays, t, onSeek, detail, onZoom, initialZoom } = props;
  const [drawn, setDrawn] = useState<{ cols: Columns; at: number } | null>(null);
  const drawnFor = useRef<Columns | null>(null);
  const onDrawn = useCallback((forCols: Columns) => {
    if (drawnFor.current === forCols) return;
    drawnFor.current = forCols;
    // "drawn": all four canvases rendered; "painted": the next frame (read by bench/replay-ui).
    performance.mark("rtt:plots-drawn");
    requestAnimationFrame(() => {
      performance.mark("rtt:plots-painted");
      setDrawn({ cols: forCols, at: performance.now() });
    });
  }, []);

  if (cols.state === "loading")
    return <Loading what={`${seg.sample_count.toLocaleString()} samples`} testid="plots-loading" />;
  if (cols.state === "error") return <ErrorBox error={cols.error} what="the samples" retry={cols.refetch} />;
  if (cols.data.n === 0)
    return <Empty testid="plots-empty">This segment has no samples. Pick another segment tab above.</Empty>;
  return (
    <>
      <Plots
        columns={cols.data}
        overlays={overlays}
        t={t}
        onSeek={onSeek}
        onDrawn={onDrawn}
        detail={detail}
        onZoom={onZoom}
        initialZoom={initialZoom}
      />
      <span
        className="sr-only"
        data-testid="plots-drawn"
        data-drawn={drawn?.cols === cols.data}
        data-n={cols.data.n}
        data-n-total={nTotal}
        data-decimated={!!cols.data.decimated}
      />
    </>
  );
}

import type uPlot from "uplot";

/**
 * The y range of a Q-metric lane (trace view and live monitor): from 0 (or the data's minimum, if lower) up to the
 * data or the corridor threshold, whichever is higher, padded — so the threshold band is always in view.
 */
export const metricRange =
  (threshold: () => number | undefined): uPlot.Range.Function =>
  (_u, min, max) => {
    const hi = Math.max(Number.isFinite(max) ? max : 1, threshold() ?? 0);
    const lo = Math.min(Number.isFinite(min) ? min : 0, 0);
    const pad = (hi - lo) * 0.08 || 0.1;
    return [lo - pad * 0.2, hi + pad];
  };

/** The step axis of stacked lanes: one shared grid, tick labels on the last lane only. */
export const stepAxis = (last: boolean): uPlot.Axis => ({
  size: last ? 26 : 2,
  stroke: "#475569",
  grid: { stroke: "#e2e8f0" },
  ticks: { show: last },
  values: last ? undefined : (_u: uPlot, s: number[]) => s.map(() => ""),
});

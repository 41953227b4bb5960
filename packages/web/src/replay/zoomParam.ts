import type { XRange } from "./Plots.js";

/** "min,max" with six decimals, as t is written. */
export function formatZoom(r: XRange): string {
  return `${Number(r.min.toFixed(6))},${Number(r.max.toFixed(6))}`;
}

/** A `zoom` URL value back to a range; null when absent or not two increasing finite numbers. */
export function parseZoom(v: string | undefined): XRange | null {
  if (!v) return null;
  const parts = v.split(",");
  if (parts.length !== 2 || parts.some((p) => p.trim() === "")) return null;
  const [min = Number.NaN, max = Number.NaN] = parts.map(Number);
  return Number.isFinite(min) && Number.isFinite(max) && min < max ? { min, max } : null;
}

import { type ReactNode, type RefObject, useRef } from "react";
import { ApiError } from "./api.js";

// Severity colours of the wireframe: 1 grey, 2 blue, 3 yellow, 4 orange, 5 red.
export const SEVERITY_COLORS: Record<number, string> = {
  1: "#8a8f98",
  2: "#3b82f6",
  3: "#eab308",
  4: "#f97316",
  5: "#dc2626",
};
export const SEVERITY_NAMES: Record<number, string> = {
  1: "informational",
  2: "minor",
  3: "actionable",
  4: "dangerous",
  5: "critical",
};
/** The colour of severity `s` rounded and clamped into 1–5; a missing or NaN severity has the colour of 1. */
export function sevColor(s?: number | null): string {
  const level = s === undefined || s === null || Number.isNaN(s) ? 1 : Math.min(5, Math.max(1, Math.round(s)));
  return SEVERITY_COLORS[level] ?? "#8a8f98";
}

export function fmtT(t: number | undefined | null, digits = 3): string {
  if (t === undefined || t === null || !Number.isFinite(t)) return "—";
  return `${Number(t.toFixed(digits))}s`;
}
export function fmtNum(v: number | undefined | null, digits = 4): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return "—";
  return String(Number(v.toFixed(digits)));
}
export function fmtTime(iso?: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** A query's state (query.ts). `data` beside loading/error is a previous key's, kept on request (keepPrevious). */
export type Async<T> =
  | { state: "loading"; data?: T; error?: undefined }
  | { state: "ok"; data: T; error?: undefined }
  | { state: "error"; error: Error; data?: T };

/**
 * A ref that always holds the value of the latest render: long-lived listeners (uPlot hooks, a document keydown
 * handler) read it instead of being torn down and rebuilt on every change.
 */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

export function Loading({ what, testid }: { what: string; testid?: string }) {
  return (
    <div className="state loading" aria-busy="true" data-testid={testid ?? "loading"}>
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function ErrorBox({ error, retry, what }: { error: Error; retry?: () => void; what: string }) {
  const status = error instanceof ApiError ? error.status : undefined;
  let hint = "Check that the RTT server is running, then retry.";
  if (status === 404) hint = "It may have been deleted, or the link is wrong. Go back to the session list.";
  else if (status === 400) hint = "A parameter in the address is invalid. Remove it or go back to the session list.";
  return (
    <div className="state error" role="alert" data-testid="error">
      <strong>Could not load {what}.</strong> <span>{error.message}</span>
      {error instanceof ApiError && error.details?.length ? (
        <ul>
          {error.details.map((d) => (
            <li key={`${d.path ?? d.line}-${d.message}`}>
              <code>{d.path ?? d.line}</code> {d.message}
            </li>
          ))}
        </ul>
      ) : null}
      <p className="muted">{hint}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children, testid }: { children: ReactNode; testid?: string }) {
  return (
    <div className="state empty" data-testid={testid ?? "empty"}>
      {children}
    </div>
  );
}

export function SeverityBadge({ severity }: { severity?: number | null }) {
  if (!severity) return <span className="muted">—</span>;
  return (
    <span
      className="sev"
      style={{ background: sevColor(severity) }}
      title={`severity ${severity}: ${SEVERITY_NAMES[severity] ?? ""}`}
      data-severity={severity}
    >
      {severity}
    </span>
  );
}

/** Binary search: index of the last element of sorted `arr` that is <= x (or 0). */
export function floorIndex(arr: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = arr.length - 1;
  if (hi < 0) return -1;
  // 0 <= lo < mid <= hi < arr.length throughout.
  if (x <= arr[0]!) return 0;
  if (x >= arr[hi]!) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (arr[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Index of the element of sorted `arr` nearest to x. */
export function nearestIndex(arr: ArrayLike<number>, x: number): number {
  const i = floorIndex(arr, x);
  if (i < 0) return -1;
  if (i + 1 < arr.length && Math.abs(arr[i + 1]! - x) < Math.abs(arr[i]! - x)) return i + 1;
  return i;
}

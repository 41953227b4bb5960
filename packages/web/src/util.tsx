import { type DependencyList, type ReactNode, type RefObject, useEffect, useRef, useState } from "react";
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
export function sevColor(s?: number | null): string {
  return SEVERITY_COLORS[Math.min(5, Math.max(1, Math.round(s ?? 1)))];
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

export type Async<T> =
  | { state: "loading"; data?: undefined; error?: undefined }
  | { state: "ok"; data: T; error?: undefined }
  | { state: "error"; error: Error; data?: undefined };

/**
 * A ref that always holds the value of the latest render: long-lived listeners (uPlot hooks, a document keydown
 * handler) read it instead of being torn down and rebuilt on every change.
 */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

/**
 * For an effect that loads something once its inputs have settled: after `ms` without a cleanup, `load` runs
 * and gets a signal; the returned cleanup cancels the wait or aborts the load. A result arriving after the
 * cleanup is dropped, so `onResult` only ever sees the current inputs' data. Load errors are ignored (the view
 * keeps what it shows).
 */
export function debouncedLoad<T>(
  ms: number,
  load: (signal: AbortSignal) => Promise<T>,
  onResult: (value: T) => void,
): () => void {
  const ctl = new AbortController();
  const timer = window.setTimeout(() => {
    load(ctl.signal).then(
      (value) => {
        if (!ctl.signal.aborted) onResult(value);
      },
      () => {},
    );
  }, ms);
  return () => {
    clearTimeout(timer);
    ctl.abort();
  };
}

/** Run an async loader whenever deps change; aborts the previous run. `reload` re-runs it. */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: DependencyList): [Async<T>, () => void] {
  const [res, setRes] = useState<Async<T>>({ state: "loading" });
  const [nonce, setNonce] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's
  useEffect(() => {
    const ctl = new AbortController();
    setRes({ state: "loading" });
    fn(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setRes({ state: "ok", data });
      },
      (error: Error) => {
        if (!ctl.signal.aborted) setRes({ state: "error", error });
      },
    );
    return () => ctl.abort();
  }, [...deps, nonce]);
  return [res, () => setNonce((n) => n + 1)];
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
  if (x <= arr[0]) return 0;
  if (x >= arr[hi]) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (arr[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Index of the element of sorted `arr` nearest to x. */
export function nearestIndex(arr: ArrayLike<number>, x: number): number {
  const i = floorIndex(arr, x);
  if (i < 0) return -1;
  if (i + 1 < arr.length && Math.abs(arr[i + 1] - x) < Math.abs(arr[i] - x)) return i + 1;
  return i;
}

import { useEffect, useSyncExternalStore } from "react";

// Every view is a shareable URL: the state lives in the query string of `/`
// (paths under /replay and /api belong to the API, so the UI never claims them).
//   /?                                        session browser (+ filters, sel=<session>)
//   /?view=replay&session=ID&segment=SEG&t=T  replay timeline (+ zoom=MIN,MAX, ov, speed, loop, from_t, to_t)
//   /?view=curriculum&session=ID&segment=SEG&t=T
//   /?view=mastery&operator=OP
//   /?view=traces&status=S&q=TEXT&state=live|complete  CTF traces list (+ sel=<trace>)
//   /?view=trace&trace=ID&step=ORD&bp=COND;COND&speed=N  CTF trace view + step debugger (ORD: step position)
//   /?view=trace-diff&a=ID&b=ID&from=INDEX               two CTF traces compared (aligned rows from INDEX)
//   /?view=trace-live&trace=ID&cap=N                     live monitor of a trace being written (N points per lane)
//   /?view=fabric                                        the connection fabric: routes (live), plans, symbols graph

export type Params = Record<string, string>;

const listeners = new Set<() => void>();
let snapshot = location.search;

function emit() {
  snapshot = location.search;
  for (const l of listeners) l();
}
window.addEventListener("popstate", emit);

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function parse(search: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

export function href(params: Params): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") u.set(k, v);
  // Commas are legal in a query and keep lists (ov, zoom) readable in a shared link.
  const s = u.toString().replaceAll("%2C", ",");
  return `${location.pathname}${s ? `?${s}` : ""}`;
}

/** Navigate to a new view (push) or update the current one in place (replace). */
export function navigate(params: Params, opts: { replace?: boolean } = {}) {
  const url = href(params);
  if (url === `${location.pathname}${location.search}`) return;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  emit();
}

/** Merge into the current params. */
export function update(patch: Record<string, string | number | undefined | null>, opts: { replace?: boolean } = {}) {
  const cur = parse(location.search);
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === null || v === "") delete cur[k];
    else cur[k] = String(v);
  }
  navigate(cur, opts);
}

export function useParams(): Params {
  const search = useSyncExternalStore(subscribe, () => snapshot);
  return parse(search);
}

export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · QEB Replay`;
  }, [title]);
}

/** A link that navigates in-app on plain click but stays a real, shareable href. */
export function onLinkClick(e: React.MouseEvent, params: Params) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(params);
}

// The UI's one data-fetching layer: every GET the views make is a keyed query.
//
//   useQuery(key, fetcher, opts)  a component's view of one key: loading / ok / error, and refetch (retry)
//   fetchQuery(key, fetcher)      the same cache from an event handler (awaits a running request for the key)
//   prefetch(key, fetcher)        start a request before any view asks (its result is handed to the first one)
//
// A key is an array, compared by its JSON. One request runs per key at a time, however many components or calls
// want it (dedup). A request is aborted when the last one waiting for it is gone (key change, unmount). A settled
// result is reused while it is younger than the query's `staleMs` (0 by default: a new view of a key loads it
// again, as a reload would), and a prefetched result always by the first view that takes it.

import { useEffect, useRef, useState } from "react";
import type { Async } from "./util.js";

export type QueryKey = readonly unknown[];
export type Fetcher<T> = (signal: AbortSignal) => Promise<T>;

export interface QueryOptions {
  /** When false nothing is fetched and the query stays "loading" (TanStack's "pending, idle"). Default true. */
  enabled?: boolean;
  /** Wait this long after the key settles before fetching (a burst of key changes fetches once). */
  debounceMs?: number;
  /** Reuse a settled result younger than this (Infinity: data that never changes, e.g. a stored segment). */
  staleMs?: number;
  /** While a new key loads (or when it fails), keep showing the data of the last key that loaded. */
  keepPrevious?: boolean;
}

export type Query<T> = Async<T> & { refetch: () => void };

interface Entry {
  hash: string;
  /** Views, fetchQuery calls and prefetches waiting for or showing this key. */
  users: number;
  inflight?: { promise: Promise<unknown>; ctl: AbortController };
  result?: { ok: true; data: unknown; at: number } | { ok: false; error: Error; at: number };
  /** Settled by a prefetch and not yet taken by a view: fresh for that view whatever its staleMs. */
  unseen: boolean;
}

/** Settled entries nobody uses are kept up to this many (oldest dropped first). */
const MAX_IDLE = 32;
const cache = new Map<string, Entry>();

export const hashKey = (key: QueryKey): string => JSON.stringify(key);

function acquire(hash: string): Entry {
  let e = cache.get(hash);
  if (!e) {
    e = { hash, users: 0, unseen: false };
    cache.set(hash, e);
  }
  e.users++;
  return e;
}

function release(e: Entry): void {
  e.users--;
  if (e.users > 0) return;
  if (e.inflight) {
    e.inflight.ctl.abort();
    e.inflight = undefined;
  }
  // Most recently used last, then trim the idle ones from the front.
  if (cache.get(e.hash) === e) {
    cache.delete(e.hash);
    if (e.result?.ok) cache.set(e.hash, e);
  }
  let idle = 0;
  for (const x of cache.values()) if (x.users === 0 && !x.inflight) idle++;
  for (const [h, x] of cache) {
    if (idle <= MAX_IDLE) break;
    if (x.users === 0 && !x.inflight) {
      cache.delete(h);
      idle--;
    }
  }
}

function isFresh(e: Entry, staleMs: number): boolean {
  return !!e.result?.ok && (e.unseen || Date.now() - e.result.at < staleMs);
}

/** The running request for the entry, or a new one. A request that is aborted or superseded settles nothing. */
function run<T>(e: Entry, fetcher: Fetcher<T>): Promise<T> {
  if (e.inflight) return e.inflight.promise as Promise<T>;
  const ctl = new AbortController();
  const promise: Promise<T> = new Promise<T>((resolve) => resolve(fetcher(ctl.signal))).then(
    (data) => {
      if (e.inflight?.promise === promise) {
        e.inflight = undefined;
        e.result = { ok: true, data, at: Date.now() };
      }
      return data;
    },
    (error: Error) => {
      if (e.inflight?.promise === promise) {
        e.inflight = undefined;
        e.result = { ok: false, error, at: Date.now() };
      }
      throw error;
    },
  );
  promise.catch(() => {}); // a prefetch nobody awaits must not surface as an unhandled rejection
  e.inflight = { promise, ctl };
  return promise;
}

/** The key's data from the cache, or a request for it (shared with any view or call already loading it). */
export function fetchQuery<T>(key: QueryKey, fetcher: Fetcher<T>, opts: { staleMs?: number } = {}): Promise<T> {
  const e = acquire(hashKey(key));
  if (e.result?.ok && isFresh(e, opts.staleMs ?? 0)) {
    e.unseen = false;
    const data = e.result.data as T;
    release(e);
    return Promise.resolve(data);
  }
  const p = run(e, fetcher);
  p.then(
    () => release(e),
    () => release(e),
  );
  return p;
}

/** Start loading a key no view shows yet; the first view of it takes the result (or joins the request). */
export function prefetch<T>(key: QueryKey, fetcher: Fetcher<T>): void {
  const e = cache.get(hashKey(key));
  if (e && (e.inflight || e.unseen)) return;
  fetchQuery(key, fetcher).catch(() => {});
  const x = cache.get(hashKey(key));
  if (x) x.unseen = true;
}

const LOADING = { state: "loading" } as const;

/**
 * One key's data for a component. Changing the key (or unmounting) lets go of the old key's request, aborting it
 * when nothing else waits for it; `refetch` loads the key again (the Retry of an error state).
 */
export function useQuery<T>(key: QueryKey, fetcher: Fetcher<T>, opts: QueryOptions = {}): Query<T> {
  const { enabled = true, debounceMs = 0, staleMs = 0, keepPrevious = false } = opts;
  const hash = hashKey(key);
  const [shown, setShown] = useState<{ hash: string; r: Async<T> } | null>(null);
  const [nonce, setNonce] = useState(0);
  const force = useRef(false);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  /** The data of the last key that loaded, for keepPrevious. */
  const previous = useRef<{ data: T } | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key's hash stands for the key; nonce is a refetch
  useEffect(() => {
    if (!enabled) {
      // Enabled again later, the key loads as if new (a result shown before is not kept).
      previous.current = null;
      setShown(null);
      return;
    }
    const e = acquire(hash);
    let gone = false;
    let timer: number | undefined;
    const show = (r: Async<T>) => {
      if (!gone) setShown({ hash, r });
    };
    const forced = force.current;
    force.current = false;
    if (!forced && e.result?.ok && isFresh(e, staleMs)) {
      e.unseen = false;
      const data = e.result.data as T;
      previous.current = { data };
      show({ state: "ok", data });
    } else {
      const start = () => {
        run(e, fetcherRef.current).then(
          (data) => {
            if (gone) return;
            e.unseen = false;
            previous.current = { data };
            show({ state: "ok", data });
          },
          (error: Error) => {
            if (gone) return;
            show({ state: "error", error, data: keepPrevious ? previous.current?.data : undefined });
          },
        );
      };
      if (debounceMs > 0 && !e.inflight) timer = window.setTimeout(start, debounceMs);
      else start();
    }
    return () => {
      gone = true;
      clearTimeout(timer);
      release(e);
    };
  }, [hash, enabled, nonce]);

  let r: Async<T>;
  if (!enabled) r = LOADING;
  else if (shown && shown.hash === hash) r = shown.r;
  else {
    // A key this component has not shown yet: fresh data from the cache shows at once, else it is loading.
    const e = cache.get(hash);
    if (e?.result?.ok && isFresh(e, staleMs)) r = { state: "ok", data: e.result.data as T };
    else r = keepPrevious && previous.current ? { state: "loading", data: previous.current.data } : LOADING;
  }
  const refetch = () => {
    force.current = true;
    setShown({ hash, r: LOADING });
    setNonce((n) => n + 1);
  };
  return { ...r, refetch };
}

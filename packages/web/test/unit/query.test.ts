// The keyed query cache (src/query.ts) without a DOM: dedup, prefetch hand-off, staleMs, failures, bounded size.
import { describe, expect, it } from "vitest";
import { fetchQuery, prefetch } from "../../src/query.js";

let n = 0;
/** A fresh key per test, so tests share no cache entries. */
const key = (...parts: unknown[]) => ["test", ++n, ...parts];

function counter<T>(value: T) {
  const calls: AbortSignal[] = [];
  const fetcher = async (signal: AbortSignal) => {
    calls.push(signal);
    await new Promise((r) => setTimeout(r, 5));
    return value;
  };
  return { fetcher, calls };
}

describe("query cache", () => {
  it("runs one request per key however many callers want it", async () => {
    const k = key();
    const c = counter({ v: 1 });
    const [a, b] = await Promise.all([fetchQuery(k, c.fetcher), fetchQuery(k, c.fetcher)]);
    expect(c.calls).toHaveLength(1);
    expect(a).toBe(b);
  });

  it("loads a settled key again unless it is younger than staleMs", async () => {
    const k = key();
    const c = counter("x");
    await fetchQuery(k, c.fetcher);
    await fetchQuery(k, c.fetcher);
    expect(c.calls).toHaveLength(2);
    await fetchQuery(k, c.fetcher, { staleMs: Number.POSITIVE_INFINITY });
    expect(c.calls).toHaveLength(2);
  });

  it("hands a prefetched result to the first caller, once, and joins a prefetch still running", async () => {
    const k = key();
    const c = counter([1, 2, 3]);
    prefetch(k, c.fetcher);
    prefetch(k, c.fetcher); // already under way: not started twice
    expect(c.calls).toHaveLength(1);
    const first = await fetchQuery(k, c.fetcher); // joins the running request
    expect(c.calls).toHaveLength(1);
    expect(first).toEqual([1, 2, 3]);

    const k2 = key();
    prefetch(k2, c.fetcher);
    await new Promise((r) => setTimeout(r, 20)); // settled before anyone asked
    await fetchQuery(k2, c.fetcher);
    expect(c.calls).toHaveLength(2);
    await fetchQuery(k2, c.fetcher); // taken once: the next caller loads again (staleMs 0)
    expect(c.calls).toHaveLength(3);
  });

  it("does not keep a failure: the next caller loads again", async () => {
    const k = key();
    let calls = 0;
    const fetcher = async () => {
      calls++;
      if (calls === 1) throw new Error("down");
      return "up";
    };
    prefetch(k, fetcher); // a failed prefetch raises no unhandled rejection
    await new Promise((r) => setTimeout(r, 5));
    await expect(fetchQuery(k, fetcher, { staleMs: Number.POSITIVE_INFINITY })).resolves.toBe("up");
    expect(calls).toBe(2);
  });

  it("keeps a bounded number of idle results, dropping the least recently used", async () => {
    const c = counter(new Array(10).fill(0));
    const keys = Array.from({ length: 40 }, () => key());
    for (const k of keys) await fetchQuery(k, c.fetcher, { staleMs: Number.POSITIVE_INFINITY });
    expect(c.calls).toHaveLength(40);
    await fetchQuery(keys[39]!, c.fetcher, { staleMs: Number.POSITIVE_INFINITY });
    expect(c.calls).toHaveLength(40); // recent: kept
    await fetchQuery(keys[0]!, c.fetcher, { staleMs: Number.POSITIVE_INFINITY });
    expect(c.calls).toHaveLength(41); // oldest: dropped
  });
});

// GET /replay/{id}/segment/{seg}/columns with from_t / to_t / max_points: ranges and decimation for plotting.
import { buildSessionV2, type Sample } from "@rtt/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SegmentColumns } from "../src/api.js";
import { decimateIndices, type PlotColumns, plotColumns, type ReplaySegment } from "../src/replay/model.js";
import { JSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV2 } from "./support/fixtures.js";

/** Seeded PRNG (mulberry32). */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const N = 20_000;
/** Noisy walks with a few isolated spikes (the kind of detail naive stride sampling drops). */
function bigSamples(): Sample[] {
  const rnd = prng(7);
  const out: Sample[] = [];
  let C = 0.1;
  let D = 1;
  for (let i = 0; i < N; i++) {
    C += (rnd() - 0.5) * 0.01;
    D = Math.max(0, D - rnd() * 1e-5);
    out.push({
      t: i / 100,
      C: i === 12_345 ? 9 : C,
      D: i === 777 ? -3 : D,
      Q: 0.5 + 0.05 * Math.sin(i / 70) + (i === 19_998 ? 1 : 0),
      R: i === 1 ? -1 : 0.02 * Math.sin(i / 30) ** 2,
    });
  }
  return out;
}

const KEYS = ["C", "D", "Q", "R"] as const;
const URL = "/replay/BIG-1/segment/seg-big/columns";

describe("GET /replay/{id}/segment/{seg}/columns — ranges and decimation", () => {
  let t: TestApp;
  const samples = bigSamples();
  const get = (url: string) => t.app.inject(url);
  const cols = async (qs: string): Promise<SegmentColumns> => {
    const r = await get(`${URL}${qs}`);
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    return r.json() as SegmentColumns;
  };

  beforeAll(async () => {
    t = await testApp({ maxBody: 64 * 1024 * 1024 });
    const log = buildSessionV2(
      {
        session_id: "BIG-1",
        timestamp: "2026-01-06T08:00:00Z",
        device: "COMT",
        scenario: "COMT_LOCK_01",
        difficulty: "Journeyman",
      },
      [
        {
          segment_id: "seg-big",
          label: "main",
          samples,
          anomalies: [{ t: 50, type: "DECOHERENCE_SPIKE", severity: 3 }],
        },
      ],
      { device_type: "COMT", mode: "TRAINING", scores: { stability: 70, response: 70, quality: 70, final: 70 } },
    );
    for (const l of [log, makeV2("SMALL-1")]) {
      const r = await t.app.inject({ method: "POST", url: "/sessions", headers: JSON_HEADERS, payload: json(l) });
      expect(r.statusCode, r.body).toBe(201);
    }
  });
  afterAll(() => t.close());

  it("without parameters the body is unchanged: the full columns, no extra fields", async () => {
    const r = await get(URL);
    const expected =
      `{"segment_id":"seg-big","n":${N},"t":[${samples.map((s) => s.t).join(",")}],` +
      KEYS.map((k) => `"${k}":[${samples.map((s) => s[k]).join(",")}]`).join(",") +
      "}";
    expect(r.body).toBe(expected);
    // and again (served from the segment's cache), still the same bytes, also after views were built
    await get(`${URL}?max_points=1000`);
    expect((await get(URL)).body).toBe(expected);
    const small = (await get("/replay/SMALL-1/segment/seg-main/columns")).json();
    expect(Object.keys(small)).toEqual(["segment_id", "n", "t", "C", "D", "Q", "R"]);
  });

  it("from_t/to_t return exactly the samples in [from_t, to_t], with n_total", async () => {
    const c = await cols("?from_t=10.005&to_t=20");
    const inRange = samples.filter((s) => s.t >= 10.005 && s.t <= 20);
    expect(c.decimated).toBe(false);
    expect(c.n).toBe(inRange.length);
    expect(c.n_total).toBe(inRange.length);
    expect(c.t).toEqual(inRange.map((s) => s.t));
    for (const k of KEYS) expect(c[k]).toEqual(inRange.map((s) => s[k]));
    expect(c.t[0]).toBe(10.01);
    expect(c.t[c.t.length - 1]).toBe(20);

    const only = await cols("?from_t=150");
    expect(only.n).toBe(samples.filter((s) => s.t >= 150).length);
    expect((await cols("?to_t=0.02")).t).toEqual([0, 0.01, 0.02]);
    expect((await cols("?from_t=5&to_t=5")).t).toEqual([5]);
    const empty = await cols("?from_t=1000&to_t=2000");
    expect(empty).toEqual({
      segment_id: "seg-big",
      n: 0,
      n_total: 0,
      decimated: false,
      t: [],
      C: [],
      D: [],
      Q: [],
      R: [],
    });
  });

  it("max_points at or above the sample count returns every sample, not decimated", async () => {
    const c = await cols(`?max_points=${N}`);
    expect(c.decimated).toBe(false);
    expect(c.n).toBe(N);
    expect(c.n_total).toBe(N);
    expect(c.C).toEqual(samples.map((s) => s.C));
    const full = (await get(URL)).json();
    expect({ ...c, n_total: undefined, decimated: undefined }).toEqual({
      ...full,
      n_total: undefined,
      decimated: undefined,
    });
  });

  const checkDecimated = (c: SegmentColumns, maxPoints: number, range: Sample[]) => {
    expect(c.decimated).toBe(true);
    expect(c.n_total).toBe(range.length);
    expect(c.n).toBe(c.t.length);
    expect(c.n).toBeLessThanOrEqual(maxPoints);
    expect(c.n).toBeGreaterThan(0);
    for (const k of ["t", ...KEYS] as const) expect(c[k]).toHaveLength(c.n);
    for (let i = 1; i < c.t.length; i++) expect(c.t[i]).toBeGreaterThan(c.t[i - 1]);
    // first and last sample of the range
    expect(c.t[0]).toBe(range[0].t);
    expect(c.t[c.n - 1]).toBe(range[range.length - 1].t);
    // every point is a real sample: its values are that sample's values
    const byT = new Map(range.map((s) => [s.t, s]));
    for (let i = 0; i < c.n; i += 97) {
      const s = byT.get(c.t[i])!;
      expect(s, `t=${c.t[i]}`).toBeDefined();
      for (const k of KEYS) expect(c[k][i]).toBe(s[k]);
    }
    // each series keeps its exact min and max over the range
    for (const k of KEYS) {
      const vals = range.map((s) => s[k]);
      expect(Math.min(...c[k]), k).toBe(Math.min(...vals));
      expect(Math.max(...c[k]), k).toBe(Math.max(...vals));
    }
  };

  it.each([100, 101, 1000, 4321, N - 1])("max_points=%i decimates: extremes, ends, t increasing, <= N", async (mp) => {
    const c = await cols(`?max_points=${mp}`);
    checkDecimated(c, mp, samples);
    expect(c.C).toContain(9);
    expect(c.D).toContain(-3);
    expect(c.R).toContain(-1);
  });

  it("decimates a range: the range's extremes and ends, within max_points", async () => {
    const c = await cols("?from_t=3.333&to_t=150.5&max_points=500");
    const range = samples.filter((s) => s.t >= 3.333 && s.t <= 150.5);
    checkDecimated(c, 500, range);
    expect(c.C).toContain(9); // the spike at t=123.45 lies inside
  });

  it("serves repeated views from the segment's cache with the same bytes", async () => {
    const a = await get(`${URL}?max_points=2000`);
    const b = await get(`${URL}?max_points=2000`);
    expect(b.body).toBe(a.body);
    const parses = t.ctx.cache.parses;
    await get(`${URL}?from_t=1&to_t=2&max_points=100`);
    expect(t.ctx.cache.parses).toBe(parses);
  });

  it.each([
    ["?max_points=99", "max_points"],
    ["?max_points=2000001", "max_points"],
    ["?max_points=1.5", "max_points"],
    ["?max_points=abc", "max_points"],
    ["?max_points=", "max_points"],
    ["?max_points=1000&max_points=2000", "max_points"],
    ["?from_t=x", "from_t"],
    ["?from_t=", "from_t"],
    ["?to_t=NaN", "to_t"],
    ["?to_t=Infinity", "to_t"],
    ["?from_t=3&to_t=1", "from_t"],
    ["?from_t=3&to_t=1&max_points=1000", "from_t"],
    ["?maxpoints=1000", "maxpoints"],
    ["?limit=10", "limit"],
  ])("400 naming the parameter for %s", async (qs, name) => {
    const r = await get(`${URL}${qs}`);
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toBe("invalid query parameters");
    expect(body.details.map((d: { path: string }) => d.path)).toContain(name);
    expect(body.details[0].message).toEqual(expect.any(String));
  });

  it("404 for unknown sessions and segments also with parameters", async () => {
    expect((await get("/replay/nope/segment/seg-big/columns?max_points=100")).statusCode).toBe(404);
    expect((await get("/replay/BIG-1/segment/nope/columns?from_t=1")).statusCode).toBe(404);
  });
});

describe("decimateIndices", () => {
  const make = (n: number, f: (i: number) => number[]): PlotColumns => {
    const samples = Array.from({ length: n }, (_, i) => {
      const [C, D, Q, R] = f(i);
      return { t: i, C, D, Q, R };
    });
    return plotColumns({ samples } as ReplaySegment);
  };

  it("keeps per bucket the first, last and each series' min and max, sorted and distinct", () => {
    const rnd = prng(3);
    for (const [n, mp, start, end] of [
      [1000, 100, 0, 1000],
      [1000, 100, 13, 977],
      [5003, 250, 1, 5003],
      [250, 100, 0, 250],
    ]) {
      const c = make(n, () => [rnd(), rnd(), rnd(), rnd()]);
      const idx = decimateIndices(c, start, end, mp);
      expect(idx.length).toBeLessThanOrEqual(mp);
      expect(idx[0]).toBe(start);
      expect(idx[idx.length - 1]).toBe(end - 1);
      for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
      const kept = new Set(idx);
      const buckets = Math.floor(mp / 10);
      const len = end - start;
      for (let b = 0; b < buckets; b++) {
        const lo = start + Math.floor((b * len) / buckets);
        const hi = start + Math.floor(((b + 1) * len) / buckets);
        expect(kept.has(lo) && kept.has(hi - 1)).toBe(true);
        for (const k of KEYS) {
          const seg = Array.from(c[k].subarray(lo, hi));
          expect(kept.has(lo + seg.indexOf(Math.min(...seg))), `${k} min in bucket ${b}`).toBe(true);
          expect(kept.has(lo + seg.indexOf(Math.max(...seg))), `${k} max in bucket ${b}`).toBe(true);
        }
      }
    }
  });

  it("a constant signal keeps only each bucket's ends", () => {
    const idx = decimateIndices(
      make(10_000, () => [1, 2, 3, 4]),
      0,
      10_000,
      1000,
    );
    expect(idx.length).toBe(200);
  });

  it("decimates 1,000,000 samples in a few milliseconds", () => {
    const rnd = prng(11);
    const c = make(1_000_000, () => [rnd(), rnd(), rnd(), rnd()]);
    decimateIndices(c, 0, 1_000_000, 10_000); // warm-up
    const t0 = performance.now();
    const idx = decimateIndices(c, 0, 1_000_000, 10_000);
    const ms = performance.now() - t0;
    expect(idx.length).toBeLessThanOrEqual(10_000);
    expect(ms).toBeLessThan(200); // generous: shared CI machines; typically ~5 ms
  });
});

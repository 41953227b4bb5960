import { summarizeSession } from "@rtt/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionLine } from "../src/emit.js";
import { fromWire, type PrepareResult, prepareSession, toWire } from "../src/ingest/prepare.js";
import { INLINE_BYTES, PreparePool, prepareBodies, usePreparePool } from "../src/ingest/prepare-pool.js";
import { JSON_HEADERS, NDJSON_HEADERS, type TestApp, testApp } from "./support/app.js";
import { json, makeV1, makeV2 } from "./support/fixtures.js";

const loader = ["--import", new URL("./support/register.mjs", import.meta.url).href];
const workerUrl = new URL("../src/ingest/prepare-worker.ts", import.meta.url);

const v2 = makeV2("PP-1", { operator: "urn:operator:test:pp", level: 4, anomalies: [[0.5, "DECOHERENCE_SPIKE", 3]] });
const bodies: Record<string, Buffer> = {
  v2: Buffer.from(json(v2)),
  noOperator: Buffer.from(json(makeV2("PP-2"))),
  pretty: Buffer.from(`${JSON.stringify(makeV2("PP-3", { operator: "urn:operator:test:pp" }), null, 2)}\n`),
  v1: Buffer.from(json(makeV1("PP-V1"))),
  schema: Buffer.from(json({ ...makeV2("PP-4"), scenario: 7 })),
  semantic: Buffer.from(json({ ...makeV2("PP-5"), sample_count: 1 })),
  nonFinite: Buffer.from(json(makeV2("PP-6")).replace('"C":0.1,', '"C":1e999,')),
  badJson: Buffer.from('{"session_id": "a",'),
  deep: Buffer.from(`${"[".repeat(100)}${"]".repeat(100)}`),
  notUtf8: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  nul: Buffer.from(json({ ...makeV2("PP-7"), scenario: "a\u0000b" })),
};

/** Everything but the parsed document, which is compared through its behaviour. */
function plain(r: PrepareResult) {
  if (!r.ok) return r;
  const { log: _log, masterySummary: _m, ...rest } = r.session;
  return rest;
}

describe("prepare pool", () => {
  const pool = new PreparePool(workerUrl, 2, loader);
  afterAll(() => pool.close());

  it("gives prepareSession's results for valid and invalid bodies alike", async () => {
    const names = Object.keys(bodies);
    const off = await pool.prepare(names.map((n) => bodies[n]));
    names.forEach((n, i) => {
      const on = prepareSession(bodies[n]);
      expect(plain(off[i]), n).toEqual(plain(on));
      const a = off[i];
      if (!a.ok || !on.ok) return;
      expect(a.session.raw).toBe(bodies[n]); // the request's own bytes, not a copy
      expect(a.session.masterySummary, n).toEqual(
        on.session.derived.columns.operator_id ? summarizeSession(on.session.log) : undefined,
      );
    });
  });

  it("hands back a document that parses only when more than mastery_level is read", () => {
    const on = prepareSession(bodies.v2);
    if (!on.ok) throw new Error("fixture invalid");
    const raw = Buffer.from(bodies.v2);
    const wire = toWire(on);
    const back = fromWire(structuredClone(wire), raw);
    if (!back.ok) throw new Error("lost on the way");
    const doc = back.session.log as unknown as Record<string, unknown>;
    expect(doc.mastery_level).toBe(4);
    raw.fill(0x20); // proves the first read did not parse: parsing now sees blanks
    expect(() => doc.session_id).toThrow(SyntaxError);

    const again = fromWire(structuredClone(wire), Buffer.from(bodies.v2));
    if (!again.ok) throw new Error("lost on the way");
    const log = again.session.log;
    expect(JSON.stringify(log)).toBe(JSON.stringify(on.session.log));
    expect({ ...log }).toEqual(on.session.log);
    expect(Object.keys(log)).toEqual(Object.keys(on.session.log));
    expect("segments" in log && log.session_id === "PP-1").toBe(true);
    expect(log.mastery_level).toBe(4);
  });

  it("feeds the Loki line the same document as an inline preparation", async () => {
    for (const n of ["v2", "pretty"]) {
      const [off] = await pool.prepare([bodies[n]]);
      const on = prepareSession(bodies[n]);
      if (!off.ok || !on.ok) throw new Error("fixture invalid");
      const extra = { ...off.session.derived.missingTopLevel, mastery_level: 9 };
      const line = (log: unknown) =>
        Buffer.concat(sessionLine(bodies[n], extra, log as never).map((piece) => Buffer.from(piece))).toString();
      expect(line(off.session.log)).toBe(line(on.session.log));
    }
  });

  it("prepares small bodies inline, and inline again what a worker could not prepare or lost", async () => {
    const tiny = Buffer.from('{"a":1}');
    expect(tiny.length).toBeLessThan(INLINE_BYTES);
    expect(Array.isArray(prepareBodies([tiny], pool))).toBe(true);

    const throwing = new PreparePool(new URL("./support/null-prepare-worker.mjs", import.meta.url), 1);
    const redone = await throwing.prepare([bodies.v2, bodies.badJson]);
    expect(redone.map(plain)).toEqual([prepareSession(bodies.v2), prepareSession(bodies.badJson)].map(plain));
    await throwing.close();

    const broken = new PreparePool(new URL("./support/no-such-worker.mjs", import.meta.url), 1, loader);
    const out = await broken.prepare([bodies.v2, bodies.schema]);
    expect(out.map(plain)).toEqual([prepareSession(bodies.v2), prepareSession(bodies.schema)].map(plain));
    await new Promise((r) => setTimeout(r, 50));
    expect(broken.size).toBe(0);
    const after = await broken.prepare([bodies.v1]);
    expect(after[0].ok).toBe(true);
    await broken.close();
  });
});

describe("POST /sessions with the prepare pool", () => {
  const pool = new PreparePool(workerUrl, 1, loader);
  let inline: TestApp;
  let pooled: TestApp;
  beforeAll(async () => {
    inline = await testApp();
    pooled = await testApp();
  });
  afterAll(async () => {
    usePreparePool(undefined);
    await Promise.all([inline?.close(), pooled?.close(), pool.close()]);
  });

  /** Sends the same request to both apps, the pooled one with the pool in use. */
  async function both(payload: string, headers = JSON_HEADERS) {
    usePreparePool(null);
    const a = await inline.app.inject({ method: "POST", url: "/sessions", headers, payload });
    usePreparePool(pool);
    const b = await pooled.app.inject({ method: "POST", url: "/sessions", headers, payload });
    usePreparePool(null);
    return [a, b] as const;
  }

  it("answers exactly like inline preparation: created, duplicate, same content reordered, conflict, 400s", async () => {
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(v2).reverse()), null, 1);
    const ndjson = [json(makeV2("PP-B1")), "", "{broken", json({ ...makeV2("PP-B2"), sample_count: 1 }), json(v2)];
    for (const [payload, headers] of [
      [json(v2), JSON_HEADERS],
      [json(v2), JSON_HEADERS],
      [reordered, JSON_HEADERS],
      [json({ ...v2, difficulty: "Master" }), JSON_HEADERS],
      [bodies.pretty.toString(), JSON_HEADERS],
      [bodies.semantic.toString(), JSON_HEADERS],
      [bodies.nonFinite.toString(), JSON_HEADERS],
      [ndjson.join("\n"), NDJSON_HEADERS],
    ] as const) {
      const [a, b] = await both(payload, headers);
      expect(b.statusCode, payload.slice(0, 40)).toBe(a.statusCode);
      expect(b.json()).toEqual(a.json());
    }
    expect(pool.prepared).toBe(11); // every body above went through the worker (the batch: 4 lines)
    expect(pooled.lines()).toEqual(inline.lines());
    expect(pooled.lines().length).toBeGreaterThan(3);
    for (const id of ["PP-1", "PP-3", "PP-B1"]) {
      const [a, b] = [inline, pooled].map((t) => t.app.inject(`/replay/${id}/export`));
      expect((await b).body).toBe((await a).body);
    }
    expect(await pooled.store.getOperator("urn:operator:test:pp")).toEqual(
      await inline.store.getOperator("urn:operator:test:pp"),
    );
  });
});

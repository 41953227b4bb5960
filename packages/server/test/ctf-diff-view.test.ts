// GET /ctf/diff (the web UI's diff view): @rtt/ctf's diff plus the aligned lineages and the per-metric B − A.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffSides, loadDiffSides } from "@rtt/ctf";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CtfDiffView } from "../src/api.js";
import { ctfPlugin, seedDemoTraces } from "../src/ctf/index.js";
import { makeTrace, ndjson, searchStep } from "./support/ctf-trace.js";

let dataDir: string;
let app: FastifyInstance;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "rtt-ctf-diff-"));
  await seedDemoTraces(dataDir);
  // Two long runs that differ from step 900 on (another query), for the decimated deltas.
  const alt = (i: number) => (i >= 900 ? { ...searchStep()(i), action: `search('other ${i % 5}')` } : searchStep()(i));
  writeFileSync(join(dataDir, "ctf", "long-a.ctf"), ndjson(makeTrace(3000)));
  writeFileSync(join(dataDir, "ctf", "long-b.ctf"), ndjson(makeTrace(3100, { step: alt })));
  app = Fastify();
  await app.register(ctfPlugin, { dataDir });
});
afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const get = async (url: string) => {
  const r = await app.inject({ method: "GET", url });
  return { status: r.statusCode, body: r.json() as CtfDiffView & { code?: string } };
};

describe("GET /ctf/diff", () => {
  it("is rtt ctf diff's result plus the lineages aligned around the divergence, observation differences named", async () => {
    const { status, body } = await get("/ctf/diff?a=boiling-point-steady&b=boiling-point-flaky");
    expect(status).toBe(200);
    const [sa, sb] = await loadDiffSides(
      join(dataDir, "ctf", "boiling-point-steady.ctf"),
      join(dataDir, "ctf", "boiling-point-flaky.ctf"),
    );
    expect(body.diff).toEqual(JSON.parse(JSON.stringify(diffSides(sa, sb))));
    expect(body.diff.divergence).toMatchObject({ index: 0, differs: ["observation"] });
    expect(body.length).toBe(6);
    expect(body.rows).toMatchObject({ from: 0, to: 6 });
    const r0 = body.rows.rows[0]!;
    expect(r0.differs).toEqual(["observation"]);
    expect(r0.a?.action).toBe(r0.b?.action);
    expect(r0.b?.observation).toMatch(/timed out/);
    // Past the end of the steady run's lineage only B has steps.
    expect(body.rows.rows[5]).toMatchObject({ index: 5, a: null, differs: [] });
    expect(body.deltas.n).toBe(6);
    expect(body.deltas.semantic_drift[5]).toBeNull();
    const d0 = (r0.b?.q?.latency_drift ?? 0) - (r0.a?.q?.latency_drift ?? 0);
    expect(body.deltas.latency_drift[0]).toBeCloseTo(d0, 9);
  });

  it("decimates the deltas of long lineages and pages the aligned rows", async () => {
    const { body } = await get("/ctf/diff?a=long-a&b=long-b&max_points=600");
    expect(body.diff.divergence?.index).toBe(900);
    expect(body.diff.only_in_b.count).toBe(2200);
    expect(body.length).toBe(3100);
    expect(body.deltas).toMatchObject({ n_total: 3100, decimated: true });
    expect(body.deltas.n).toBeLessThanOrEqual(600);
    expect(body.deltas.index).toEqual([...body.deltas.index].sort((x, y) => x - y));
    // The default window starts a little before the divergence.
    expect(body.rows.from).toBe(880);
    expect(body.rows.rows[20]!.differs).toContain("action");
    const page = (await get("/ctf/diff?a=long-a&b=long-b&from=3050&to=3100")).body;
    expect(page.rows.rows.map((r) => r.index)).toEqual(Array.from({ length: 50 }, (_, i) => 3050 + i));
    expect(page.rows.rows.every((r) => r.a === null && r.b !== null)).toBe(true);
  });

  it("answers 404 for a missing trace and 400 for a bad query", async () => {
    expect((await get("/ctf/diff?a=boiling-point-steady&b=nope")).status).toBe(404);
    expect((await get("/ctf/diff?a=boiling-point-steady")).status).toBe(400);
    expect((await get("/ctf/diff?a=x&b=y&from=5&to=2")).status).toBe(400);
  });
});

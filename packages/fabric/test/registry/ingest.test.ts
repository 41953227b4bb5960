import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashOf } from "../../src/canonical.js";
import { prettyJson } from "../../src/json-file.js";
import { gc } from "../../src/registry/gc.js";
import { resolveRef } from "../../src/registry/index-json.js";
import { ingest } from "../../src/registry/ingest.js";
import { Registry } from "../../src/registry/registry.js";
import { verifyRegistry } from "../../src/registry/verify.js";
import { formatPublicKey, generateKeyPair } from "../../src/trust/keys.js";
import { signDocument } from "../../src/trust/sign.js";
import { trustKey } from "../../src/trust/store.js";

const root = mkdtempSync(join(tmpdir(), "rtt-ingest-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function tree(files: Record<string, unknown>): string {
  const dir = join(root, `src${++n}`);
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === "string" ? content : prettyJson(content));
  }
  return dir;
}

const agent = (id: string, version: string, extra: Record<string, unknown> = {}) => ({
  id,
  version,
  description: `${id} ${version}`,
  symbols: [{ symbol: `rtt://agents/${id}`, version }],
  ...extra,
});

/** Every stored byte of a registry, to show a failed ingest changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = readFileSync(p).toString("base64");
    }
  };
  walk(dir);
  return out;
}

const newRegistry = () => new Registry(join(root, `reg${++n}`, "registry"));

describe("rtt registry ingest", () => {
  it("scans agents, manifests and MCP tool lists; indexes ID@version and the rtt:// symbols they declare", () => {
    const src = tree({
      "agents/common/summarize.agent.json": agent("summarize", "1.2.0"),
      "agents/common/summarize-old.agent.json": agent("summarize", "1.1.3"),
      "agents/next/summarize.agent.json": agent("summarize", "2.0.0"),
      "manifests/core.json": { manifest: "core", version: "0.3.0", symbols: [{ symbol: "rtt://core/api/metrics" }] },
      "services/billing.json": { manifest: "billing", version: "1.0.0", symbols: [{ symbol: "rtt://billing/charge" }] },
      "mcp/memory/tools.json": {
        tools: [
          { name: "create_entities", inputSchema: { type: "object" } },
          { name: "read_graph", inputSchema: { type: "object" } },
        ],
      },
      "package.json": { name: "not-a-manifest" },
      "tsconfig.json": "{ // comments: not JSON, not ours\n}",
      "node_modules/x/y.agent.json": "not even looked at",
    });
    const reg = newRegistry();
    const r = ingest(reg, [src]);
    expect(r.problems).toEqual([]);
    expect(r.files).toBe(6);
    expect(r.objects.created).toBe(8); // 3 agents, 2 manifests, 1 MCP manifest + 2 tools
    const index = reg.index();
    expect(Object.keys(index)).toEqual([
      "billing@1.0.0",
      "core@0.3.0",
      "mcp.memory@0.0.0",
      "summarize@1.1.3",
      "summarize@1.2.0",
      "summarize@2.0.0",
    ]);
    expect(index["summarize@1.2.0"]).toBe(hashOf(agent("summarize", "1.2.0")));
    const symbols = reg.symbols();
    expect(Object.keys(symbols).sort()).toEqual([
      "rtt://agents/summarize",
      "rtt://billing/charge",
      "rtt://core/api/metrics",
      "rtt://mcp/memory/create_entities",
      "rtt://mcp/memory/read_graph",
    ]);
    expect(symbols["rtt://agents/summarize"]).toHaveLength(3);
    const mcp = reg.get(index["mcp.memory@0.0.0"] as string) as { symbols: Array<{ object: string }> };
    expect(reg.get(mcp.symbols[0]?.object as string)).toEqual({
      name: "create_entities",
      inputSchema: { type: "object" },
    });
    // semver ranges resolve to the highest match
    expect(resolveRef(index, "summarize@^1.2").version).toBe("1.2.0");
    expect(resolveRef(index, "summarize@~1.1").version).toBe("1.1.3");
    expect(resolveRef(index, "summarize").version).toBe("2.0.0");
    expect(() => resolveRef(index, "summarize@^3")).toThrow(/no version of summarize matches \^3/);
    expect(verifyRegistry(reg)).toMatchObject({ ok: true, notes: [] });
  });

  it("stores the same content once whatever its key order or whitespace, and a second ingest changes nothing on disk", () => {
    const a = { id: "dup", version: "1.0.0", description: "x", tools: [{ name: "t", description: "d" }] };
    const b = { tools: [{ description: "d", name: "t" }], description: "x", version: "1.0.0", id: "dup" };
    const src = tree({ "one/dup.agent.json": JSON.stringify(a), "two/dup.agent.json": JSON.stringify(b, null, 7) });
    const reg = newRegistry();
    const r1 = ingest(reg, [src]);
    expect(r1.objects).toEqual({ created: 1, existing: 1 });
    expect(r1.problems).toEqual([]);
    const before = snapshot(reg.dir);
    const mtimes = Object.keys(before).map((p) => statSync(join(reg.dir, p)).mtimeMs);
    const r2 = ingest(reg, [src]);
    expect(r2).toMatchObject({ objects: { created: 0, existing: 2 }, commits: 0 });
    expect(snapshot(reg.dir)).toEqual(before);
    expect(Object.keys(before).map((p) => statSync(join(reg.dir, p)).mtimeMs)).toEqual(mtimes);
  });

  it("reports each bad file by name, ingests the others, and stores nothing of the bad ones", () => {
    const outside = tree({ "secret.agent.json": agent("secret", "1.0.0") });
    const src = tree({
      "good.agent.json": agent("good", "1.0.0"),
      "broken.agent.json": '{"id": "broken", "version": ',
      "proto.agent.json": '{"id":"proto","version":"1.0.0","__proto__":{"polluted":true}}',
      "invalid.agent.json": { id: "Not Valid", version: "1" },
      "manifests/bad.json": { manifest: "bad", symbols: [] },
      "deep.agent.json": `${"[".repeat(100)}${"]".repeat(100)}`,
    });
    symlinkSync(join(outside, "secret.agent.json"), join(src, "escape.agent.json"));
    symlinkSync(outside, join(src, "escape-dir"));
    const reg = newRegistry();
    ingest(reg, [tree({ "base.agent.json": agent("base", "1.0.0") })]);
    const before = snapshot(reg.dir);
    const r = ingest(reg, [src]);
    const byFile = Object.fromEntries(r.problems.map((p) => [p.where?.slice(src.length + 1), p.code]));
    expect(byFile).toEqual({
      "broken.agent.json": "RTT_FABRIC_NOT_JSON",
      "proto.agent.json": "RTT_FABRIC_NOT_JSON",
      "invalid.agent.json": "RTT_FABRIC_INVALID",
      "manifests/bad.json": "RTT_FABRIC_INVALID",
      "deep.agent.json": "RTT_FABRIC_NOT_JSON",
      "escape.agent.json": "RTT_FABRIC_ESCAPE",
      "escape-dir": "RTT_FABRIC_ESCAPE",
    });
    for (const p of r.problems) expect(p.message).toContain(src);
    expect(r.problems.find((p) => p.code === "RTT_FABRIC_ESCAPE")?.message).toMatch(/symlink resolves outside/);
    expect(r.files).toBe(1);
    expect(Object.keys(reg.index())).toEqual(["base@1.0.0", "good@1.0.0"]);
    expect(reg.has(hashOf(agent("secret", "1.0.0")))).toBe(false);
    // Only the good file's object was added: the earlier objects are byte for byte where they were.
    const after = snapshot(reg.dir);
    const pack = "/pack/agents.pack";
    expect(
      Buffer.from(after[pack] as string, "base64").subarray(0, Buffer.from(before[pack] as string, "base64").length),
    ).toEqual(Buffer.from(before[pack] as string, "base64"));
    expect(verifyRegistry(reg).ok).toBe(true);
  });

  it("follows symlinks that stay inside the scanned folder", () => {
    const src = tree({ "real/a.agent.json": agent("linked", "1.0.0") });
    symlinkSync(join(src, "real"), join(src, "alias"));
    const reg = newRegistry();
    const r = ingest(reg, [src]);
    expect(r.problems).toEqual([]);
    expect(r.objects).toEqual({ created: 1, existing: 0 });
  });

  it("refuses two files of one ingest giving one ID@version different content; a later ingest replaces it", () => {
    const src = tree({
      "a/x.agent.json": agent("x", "1.0.0"),
      "b/x.agent.json": agent("x", "1.0.0", { description: "other" }),
    });
    const reg = newRegistry();
    const r = ingest(reg, [src]);
    expect(r.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/b\/x.agent.json: x@1.0.0 is also declared/),
    ]);
    const r2 = ingest(reg, [join(src, "b")]);
    expect(r2.entries).toEqual({ added: 0, updated: 1, unchanged: 0 });
    expect(reg.index()["x@1.0.0"]).toBe(hashOf(agent("x", "1.0.0", { description: "other" })));
    // The replaced object's symbols go with it.
    expect(reg.symbols()["rtt://agents/x"]).toEqual([hashOf(agent("x", "1.0.0", { description: "other" }))]);
  });

  it("commits in batches when asked: each commit is a consistent registry", () => {
    const files: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) files[`a${i}.agent.json`] = agent(`a${i}`, "1.0.0");
    const reg = newRegistry();
    const r = ingest(reg, [tree(files)], { batchObjects: 7 });
    expect(r.commits).toBe(5);
    expect(Object.keys(reg.index())).toHaveLength(30);
    expect(verifyRegistry(reg)).toMatchObject({ ok: true, notes: [] });
  });
});

describe("rtt registry verify and gc", () => {
  it("names a loose object whose bytes do not match its name, and an index entry without its object", () => {
    const reg = newRegistry();
    const { hash } = reg.put({ loose: true });
    ingest(reg, [tree({ "a.agent.json": agent("a", "1.0.0") })]);
    writeFileSync(reg.layout.object(hash), '{"loose":false}');
    const idx = reg.index();
    idx["ghost@1.0.0"] = "0".repeat(64);
    writeFileSync(reg.layout.index, JSON.stringify(idx));
    const v = verifyRegistry(reg);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.code, p.where])).toEqual([
      ["RTT_FABRIC_CORRUPT", reg.layout.object(hash)],
      ["RTT_FABRIC_NOT_FOUND", reg.layout.index],
    ]);
    expect(v.problems[1]?.message).toContain("ghost@1.0.0");
  });

  it("checks signatures: a good one passes, a tampered one fails, an unknown key is a note (a problem when strict)", () => {
    const keys = generateKeyPair();
    const pub = join(root, `k${++n}.pub`);
    writeFileSync(pub, formatPublicKey(keys.publicKey));
    const signed = signDocument(agent("signed", "1.0.0"), keys.privateKey);
    const tampered = { ...signDocument(agent("tampered", "1.0.0"), keys.privateKey), description: "changed" };
    const reg = newRegistry();
    ingest(reg, [tree({ "s.agent.json": signed })]);
    expect(verifyRegistry(reg).notes.join()).toMatch(/not in the trust store/);
    expect(verifyRegistry(reg, { strict: true }).ok).toBe(false);
    trustKey(reg.dir, pub);
    expect(verifyRegistry(reg, { strict: true })).toMatchObject({ ok: true, counts: { signed: 1 } });
    ingest(reg, [tree({ "t.agent.json": tampered })]);
    const v = verifyRegistry(reg);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ code: "RTT_FABRIC_UNTRUSTED", hash: hashOf(tampered) });
  });

  it("gc keeps what index.json, symbols.json and the manifests folder reach, drops the rest, and verify passes", () => {
    const reg = newRegistry();
    const src = tree({
      "mcp/memory/tools.json": { tools: [{ name: "t1" }, { name: "t2" }] },
      "x.agent.json": agent("x", "1.0.0"),
    });
    ingest(reg, [src]);
    // Replaced content leaves the old agent unreachable.
    writeFileSync(join(src, "x.agent.json"), prettyJson(agent("x", "1.0.0", { description: "v2" })));
    ingest(reg, [src]);
    const orphanLoose = reg.put({ orphan: true }).hash;
    const keptLoose = reg.put({ tool: "from mcp ingest" }).hash;
    const manifests = join(dirname(reg.dir), "manifests");
    mkdirSync(manifests, { recursive: true });
    writeFileSync(join(manifests, "mcp.other.json"), prettyJson({ symbols: [{ object: keptLoose }] }));
    const oldX = hashOf(agent("x", "1.0.0"));
    expect(reg.has(oldX)).toBe(true);
    const r = gc(reg, { graceMs: 0 });
    expect(r.packed.removed).toBe(1);
    expect(r.loose).toEqual({ kept: 1, removed: 1, young: 0 });
    const fresh = new Registry(reg.dir);
    expect(fresh.has(oldX)).toBe(false);
    expect(fresh.has(orphanLoose)).toBe(false);
    expect(fresh.has(keptLoose)).toBe(true);
    const mcp = fresh.get(fresh.index()["mcp.memory@0.0.0"] as string) as { symbols: Array<{ object: string }> };
    for (const s of mcp.symbols) expect(fresh.has(s.object)).toBe(true);
    expect(verifyRegistry(fresh)).toMatchObject({ ok: true, notes: [] });
    // Nothing left to drop: a second gc leaves the pack as it is.
    const pack = readFileSync(reg.layout.pack);
    gc(fresh, { graceMs: 0 });
    expect(readFileSync(reg.layout.pack)).toEqual(pack);
  });

  it("gc spares unreachable loose objects younger than the grace period", () => {
    const reg = newRegistry();
    reg.put({ just: "written" });
    expect(gc(reg).loose).toEqual({ kept: 0, removed: 0, young: 1 });
  });
});

import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  buildView,
  canonicalText,
  diffView,
  formatViewDiff,
  generateKeyPair,
  hashOf,
  listViews,
  loadTrustStore,
  prettyJson,
  Registry,
  revokeKey,
  signDocument,
  trustKey,
  type ViewManifest,
  verifyDocument,
  verifyView,
  viewHashOf,
  writeKeyPair,
} from "@rtt/fabric";
import { applyPatch } from "rfc6902";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { expectFabricError } from "../fabric-error.js";

const top = mkdtempSync(join(tmpdir(), "rtt-fabric-views-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));
let n = 0;
let root = "";
beforeEach(() => {
  root = join(top, `p${++n}`);
  mkdirSync(root);
});

const put = (rel: string, value: unknown) => {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value, null, 2));
};
const read = (rel: string) => JSON.parse(readFileSync(join(root, rel), "utf8"));
const OUT = "providers/claude/.claude/agents/summarize.agent.json";

const summarize = {
  id: "common/summarize",
  version: "1.2.0",
  name: "summarize",
  instructions: "Summarize the input.",
  model: "default",
  tools: [
    { name: "search", description: "web search" },
    { name: "read", description: "read a file" },
  ],
};

/** The seed's example: agents/common/summarize + claude's summarize patch + prod's _global patch. */
function seedProject() {
  put("agents/common/summarize.agent.json", summarize);
  put("overlays/provider/claude/summarize.patch.json", {
    model: "claude-sonnet",
    tools: [{ name: "read", $delete: true }, { name: "bash" }],
  });
  put("overlays/env/prod/_global.patch.json", { temperature: 0, instructions: "Summarize the input. Be brief." });
}

/** Every file under dir with its bytes and mtime: a build that should change nothing must leave this equal. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = `${statSync(p).mtimeMs} ${readFileSync(p, "hex")}`;
    }
  };
  walk(dir);
  return out;
}

/** Moves every file's mtime 10 s into the past, so a rewrite within the same clock tick still shows. */
function ageFiles(dir: string) {
  const t = Date.now() / 1000 - 10;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) utimesSync(join(e.parentPath, e.name), t, t);
}

describe("view build: the seed's example on disk", () => {
  it("base + claude overlay + prod _global = providers/claude/.claude/agents/summarize.agent.json", () => {
    seedProject();
    const r = buildView({ root, provider: "claude", env: "prod" });
    expect(read(OUT)).toEqual({
      id: "common/summarize",
      version: "1.2.0",
      name: "summarize",
      instructions: "Summarize the input. Be brief.",
      model: "claude-sonnet",
      temperature: 0,
      tools: [{ name: "search", description: "web search" }, { name: "bash" }],
    });
    // Keys in canonical order, 2-space indent, trailing newline: a function of the content only.
    expect(readFileSync(join(root, OUT), "utf8")).toBe(
      `${JSON.stringify(JSON.parse(canonicalText(read(OUT))), null, 2)}\n`,
    );
    expect(r.written.sort()).toEqual([".claude/agents/summarize.agent.json", ".view.json"]);

    const m = read("providers/claude/.view.json") as ViewManifest;
    expect(m).toMatchObject({ kind: "rtt.view", format: 1, provider: "claude", env: "prod" });
    expect(m.files).toEqual([
      {
        path: ".claude/agents/summarize.agent.json",
        agent: "summarize",
        base: { path: "agents/common/summarize.agent.json", hash: hashOf(summarize) },
        overlays: [
          {
            layer: "provider",
            path: "overlays/provider/claude/summarize.patch.json",
            hash: hashOf(read("overlays/provider/claude/summarize.patch.json")),
          },
          {
            layer: "env",
            path: "overlays/env/prod/_global.patch.json",
            hash: hashOf(read("overlays/env/prod/_global.patch.json")),
          },
        ],
        hash: hashOf(read(OUT)),
      },
    ]);
    expect(m.view_hash).toBe(viewHashOf(m));
    expect(r.viewHash).toBe(m.view_hash);
  });

  it("gives spec/fabric/overlays.md's example result", () => {
    put("agents/common/summarize.agent.json", {
      id: "common/summarize",
      version: "1.2.0",
      model: "default",
      tools: [
        { name: "search", description: "web search" },
        { name: "read", description: "read a file" },
      ],
    });
    put("overlays/provider/claude/summarize.patch.json", {
      model: "claude-sonnet",
      tools: [{ name: "read", $delete: true }, { name: "bash" }],
    });
    put("overlays/env/prod/_global.patch.json", { temperature: 0, tools: [{ name: "search", timeout_ms: 5000 }] });
    buildView({ root, provider: "claude", env: "prod" });
    expect(readFileSync(join(root, OUT), "utf8")).toBe(
      `${JSON.stringify(
        {
          id: "common/summarize",
          model: "claude-sonnet",
          temperature: 0,
          tools: [{ description: "web search", name: "search", timeout_ms: 5000 }, { name: "bash" }],
          version: "1.2.0",
        },
        null,
        2,
      )}\n`,
    );
  });

  it("writes keys in sorted order whatever the base's order, so reordering a base rewrites nothing", () => {
    seedProject();
    buildView({ root, provider: "claude", env: "prod" });
    const text = readFileSync(join(root, OUT), "utf8");
    const keys = [...text.matchAll(/^ {2}"([^"]+)"/gm)].map((x) => x[1]);
    expect(keys).toEqual([...keys].sort());
    ageFiles(join(root, "providers"));
    const before = snapshot(join(root, "providers"));
    put("agents/common/summarize.agent.json", Object.fromEntries(Object.entries(summarize).reverse()));
    const r = buildView({ root, provider: "claude", env: "prod" });
    expect(r.written).toEqual([]);
    expect(snapshot(join(root, "providers"))).toEqual(before);
  });

  it("applies provider _global, provider <name>, env _global, env <name>, in that order", () => {
    put("agents/a/x.agent.json", { id: "x", version: "1.0.0", order: [] });
    put("agents/b/y.agent.json", { id: "y", version: "1.0.0" });
    put("overlays/provider/openai/_global.patch.json", { who: "provider _global", pg: true });
    put("overlays/provider/openai/x.patch.json", { who: "provider x", px: true });
    put("overlays/env/dev/_global.patch.json", { who: "env _global", eg: true });
    put("overlays/env/dev/x.patch.json", { who: "env x", ex: true });
    const r = buildView({ root, provider: "openai", env: "dev" });
    expect(r.agents).toBe(2);
    expect(read("providers/openai/.openai/agents/x.agent.json")).toMatchObject({
      who: "env x",
      pg: true,
      px: true,
      eg: true,
      ex: true,
    });
    expect(read("providers/openai/.openai/agents/y.agent.json")).toEqual({
      id: "y",
      version: "1.0.0",
      who: "env _global",
      pg: true,
      eg: true,
    });
    const m = read("providers/openai/.view.json") as ViewManifest;
    expect(m.files.map((f) => f.overlays.map((o) => o.path))).toEqual([
      [
        "overlays/provider/openai/_global.patch.json",
        "overlays/provider/openai/x.patch.json",
        "overlays/env/dev/_global.patch.json",
        "overlays/env/dev/x.patch.json",
      ],
      ["overlays/provider/openai/_global.patch.json", "overlays/env/dev/_global.patch.json"],
    ]);
  });

  it("warns about overlays that name no agent", () => {
    seedProject();
    put("overlays/env/prod/summarise.patch.json", { typo: true });
    const r = buildView({ root, provider: "claude", env: "prod" });
    expect(r.warnings).toEqual([expect.stringContaining('summarise.patch.json: no base agent "summarise"')]);
  });
});

describe("rebuilds", () => {
  it("building twice changes nothing on disk: same bytes, same mtimes", () => {
    seedProject();
    const first = buildView({ root, provider: "claude", env: "prod" });
    ageFiles(join(root, "providers"));
    const before = snapshot(join(root, "providers"));
    const second = buildView({ root, provider: "claude", env: "prod" });
    expect(second.written).toEqual([]);
    expect(second.unchanged).toBe(2);
    expect(second.viewHash).toBe(first.viewHash);
    expect(snapshot(join(root, "providers"))).toEqual(before);
  });

  it("rewrites only the files whose bytes change", () => {
    seedProject();
    put("agents/common/other.agent.json", { id: "other", version: "0.1.0" });
    buildView({ root, provider: "claude", env: "prod" });
    ageFiles(join(root, "providers"));
    const before = snapshot(join(root, "providers"));
    put("overlays/provider/claude/summarize.patch.json", { model: "claude-opus" });
    const r = buildView({ root, provider: "claude", env: "prod" });
    expect(r.written.sort()).toEqual([".claude/agents/summarize.agent.json", ".view.json"]);
    const after = snapshot(join(root, "providers"));
    const other = "/claude/.claude/agents/other.agent.json";
    expect(after[other]).toBe(before[other]);
  });

  it("removes the files of agents that disappeared, and only files it wrote", () => {
    seedProject();
    put("agents/common/other.agent.json", { id: "other", version: "0.1.0" });
    buildView({ root, provider: "claude", env: "prod" });
    put("providers/claude/.claude/agents/handmade.agent.json", { id: "handmade", version: "1.0.0" });
    unlinkSync(join(root, "agents/common/other.agent.json"));
    const r = buildView({ root, provider: "claude", env: "prod" });
    expect(r.removed).toEqual([".claude/agents/other.agent.json"]);
    expect(readdirSync(join(root, "providers/claude/.claude/agents")).sort()).toEqual([
      "handmade.agent.json",
      "summarize.agent.json",
    ]);
    expect((read("providers/claude/.view.json") as ViewManifest).files.map((f) => f.agent)).toEqual(["summarize"]);
  });

  it("stores the base and the overlays in the CAS when given a registry, under the hashes the view records", () => {
    seedProject();
    const reg = join(root, ".rtt/registry");
    const r = buildView({ root, provider: "claude", env: "prod", registry: reg });
    expect(r.stored).toBe(3);
    const m = read("providers/claude/.view.json") as ViewManifest;
    const registry = new Registry(reg);
    const file = m.files[0]!;
    expect(registry.get(file.base.hash)).toEqual(summarize);
    for (const o of file.overlays) expect(registry.get(o.hash)).toEqual(read(o.path));
    expect(buildView({ root, provider: "claude", env: "prod", registry: reg }).stored).toBe(0);
  });

  it("honours --out: another folder for providers/", () => {
    seedProject();
    buildView({ root, provider: "claude", env: "prod", out: join(root, "build") });
    expect(read("build/claude/.claude/agents/summarize.agent.json").model).toBe("claude-sonnet");
  });
});

describe("bad input: a clear error naming the file, and the previous view left intact", () => {
  /** Builds a good view, breaks something, expects the error, and checks providers/ did not change at all. */
  function refused(breakIt: () => void, code: string, text: string) {
    seedProject();
    buildView({ root, provider: "claude", env: "prod" });
    ageFiles(join(root, "providers"));
    breakIt();
    const before = snapshot(join(root, "providers"));
    expectFabricError(() => buildView({ root, provider: "claude", env: "prod" }), code, text);
    expect(snapshot(join(root, "providers"))).toEqual(before);
  }

  it("an overlay that is not JSON", () =>
    refused(
      () => put("overlays/env/prod/_global.patch.json", "{ temperature: 0 "),
      "RTT_FABRIC_NOT_JSON",
      "overlays/env/prod/_global.patch.json",
    ));

  it("an overlay with a __proto__ key", () =>
    refused(
      () => put("overlays/provider/claude/summarize.patch.json", '{"model": {"__proto__": {"x": 1}}}'),
      "RTT_FABRIC_NOT_JSON",
      "summarize.patch.json: forbidden key at /model/__proto__",
    ));

  it("an overlay that is not an object, or renames the agent", () => {
    refused(
      () => put("overlays/env/prod/_global.patch.json", "[1]"),
      "RTT_FABRIC_INVALID",
      "_global.patch.json: not a valid overlay",
    );
    refused(
      () => put("overlays/env/prod/_global.patch.json", { id: "other" }),
      "RTT_FABRIC_INVALID",
      "_global.patch.json: not a valid overlay: /id",
    );
  });

  it("a base agent invalid against agent.schema.json", () =>
    refused(
      () => put("agents/common/summarize.agent.json", { ...summarize, version: "one" }),
      "RTT_FABRIC_INVALID",
      "agents/common/summarize.agent.json: not a valid agent: /version",
    ));

  it("an overlay whose result is no longer a valid agent names the chain", () =>
    refused(
      () => put("overlays/env/prod/_global.patch.json", { version: null }),
      "RTT_FABRIC_INVALID",
      "(merged from ",
    ));

  it("a keyed merge the base cannot take", () =>
    refused(
      () => put("overlays/provider/claude/summarize.patch.json", { tools: [{ name: "a" }, { name: "a" }] }),
      "RTT_FABRIC_INVALID",
      'summarize.patch.json: patch list names "a" twice',
    ));

  const outside = () => {
    const dir = join(top, `outside-${n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "evil.json"), JSON.stringify({ model: "evil" }));
    writeFileSync(join(dir, "evil.agent.json"), JSON.stringify({ id: "evil", version: "1.0.0" }));
    return dir;
  };

  it("a symlinked overlay that escapes the root", () =>
    refused(
      () => {
        unlinkSync(join(root, "overlays/env/prod/_global.patch.json"));
        symlinkSync(join(outside(), "evil.json"), join(root, "overlays/env/prod/_global.patch.json"));
      },
      "RTT_FABRIC_ESCAPE",
      "_global.patch.json: resolves to",
    ));

  it("a symlinked agent or agent folder that escapes the root", () => {
    refused(
      () => symlinkSync(join(outside(), "evil.agent.json"), join(root, "agents/evil.agent.json")),
      "RTT_FABRIC_ESCAPE",
      "agents/evil.agent.json",
    );
    unlinkSync(join(root, "agents/evil.agent.json"));
    symlinkSync(join(top, `outside-${n}`), join(root, "agents/linked"));
    expectFabricError(() => buildView({ root, provider: "claude", env: "prod" }), "RTT_FABRIC_ESCAPE", "agents/linked");
  });

  it("a symlinked output folder that escapes the providers folder", () => {
    seedProject();
    mkdirSync(join(root, "providers/claude"), { recursive: true });
    symlinkSync(outside(), join(root, "providers/claude/.claude"));
    expectFabricError(() => buildView({ root, provider: "claude", env: "prod" }), "RTT_FABRIC_ESCAPE", ".claude");
    expect(readdirSync(join(top, `outside-${n}`)).sort()).toEqual(["evil.agent.json", "evil.json"]);
  });

  it("a providers folder that is a symlink out of the project (unless --out says so)", () => {
    seedProject();
    const dir = outside();
    symlinkSync(dir, join(root, "providers"));
    expectFabricError(() => buildView({ root, provider: "claude", env: "prod" }), "RTT_FABRIC_ESCAPE", "providers");
    expect(readdirSync(dir).sort()).toEqual(["evil.agent.json", "evil.json"]);
    buildView({ root, provider: "claude", env: "prod", out: join(root, "providers") });
    expect(readdirSync(join(dir, "claude/.claude/agents"))).toEqual(["summarize.agent.json"]);
  });

  it("a symlink inside the root is followed", () => {
    seedProject();
    mkdirSync(join(root, "shared"));
    writeFileSync(join(root, "shared/t.agent.json"), JSON.stringify({ id: "t", version: "1.0.0" }));
    symlinkSync(join(root, "shared/t.agent.json"), join(root, "agents/t.agent.json"));
    expect(buildView({ root, provider: "claude", env: "prod" }).agents).toBe(2);
  });

  it("two base agents with one name", () =>
    refused(
      () => put("agents/other/summarize.agent.json", { id: "other/summarize", version: "1.0.0" }),
      "RTT_FABRIC_INVALID",
      'two base agents named "summarize"',
    ));

  it("a sidecar that lists a path outside the view", () =>
    refused(
      () => {
        const m = read("providers/claude/.view.json") as ViewManifest;
        const f = m.files[0]!;
        m.files.push({ ...f, path: ".claude/agents/../../../../etc/x.agent.json", agent: "x" });
        put("providers/claude/.view.json", { ...m, view_hash: viewHashOf(m) });
      },
      "RTT_FABRIC_INVALID",
      ".view.json: not a valid view",
    ));

  it("bad provider or env names are usage errors", () => {
    expectFabricError(() => buildView({ root, provider: "../x", env: "prod" }), "RTT_FABRIC_USAGE", "provider");
    expectFabricError(() => buildView({ root, provider: "claude", env: "Prod" }), "RTT_FABRIC_USAGE", "env");
  });
});

describe("trust: strict mode and signed views", () => {
  function keys() {
    const reg = join(root, ".rtt/registry");
    const pair = generateKeyPair();
    const files = writeKeyPair(pair, join(root, ".rtt/keys"), "me");
    trustKey(reg, files.publicKeyFile);
    return { reg, pair };
  }
  const signFile = (rel: string, pair: ReturnType<typeof generateKeyPair>) =>
    put(rel, signDocument(read(rel), pair.privateKey));
  const inputs = [
    "agents/common/summarize.agent.json",
    "overlays/provider/claude/summarize.patch.json",
    "overlays/env/prod/_global.patch.json",
  ];

  it("--strict refuses an unsigned overlay; policy.json's strict does too", () => {
    seedProject();
    const { reg, pair } = keys();
    for (const f of inputs.slice(0, 2)) signFile(f, pair);
    expectFabricError(
      () => buildView({ root, provider: "claude", env: "prod", strict: true, registry: reg }),
      "RTT_FABRIC_UNTRUSTED",
      "overlays/env/prod/_global.patch.json: unsigned (strict mode)",
    );
    put(".rtt/policy.json", { strict: true });
    expectFabricError(
      () => buildView({ root, provider: "claude", env: "prod", registry: reg }),
      "RTT_FABRIC_UNTRUSTED",
      "unsigned (strict mode)",
    );
    signFile(inputs[2]!, pair);
    const r = buildView({ root, provider: "claude", env: "prod", registry: reg });
    expect(r.strict).toBe(true);
    // The signatures sign the inputs and are not merged into the view.
    expect(read(OUT).sign).toBeUndefined();
    expect(read(OUT).model).toBe("claude-sonnet");
  });

  it("a revoked signer or a tampered overlay is refused even without strict mode; an unknown signer warns", () => {
    seedProject();
    const { reg, pair } = keys();
    signFile(inputs[1]!, pair);
    const tampered = { ...read(inputs[1]!), model: "evil" };
    put(inputs[1]!, tampered);
    expectFabricError(
      () => buildView({ root, provider: "claude", env: "prod", registry: reg }),
      "RTT_FABRIC_UNTRUSTED",
      "summarize.patch.json: bad_signature",
    );
    signFile(inputs[1]!, pair);
    revokeKey(reg, pair.key_id, "lost laptop");
    expectFabricError(
      () => buildView({ root, provider: "claude", env: "prod", registry: reg }),
      "RTT_FABRIC_UNTRUSTED",
      "lost laptop",
    );
    signFile(inputs[1]!, generateKeyPair());
    const r = buildView({ root, provider: "claude", env: "prod", registry: reg });
    expect(r.warnings).toEqual([expect.stringContaining("is not in the trust store")]);
  });

  it("signs the sidecar with a key, and keeps a later signature while the view is unchanged", () => {
    seedProject();
    const { reg, pair } = keys();
    buildView({ root, provider: "claude", env: "prod", signKey: pair.privateKey });
    const m = read("providers/claude/.view.json");
    expect(verifyDocument(m, loadTrustStore(reg)).status).toBe("valid");
    ageFiles(join(root, "providers"));
    const before = snapshot(join(root, "providers"));
    expect(buildView({ root, provider: "claude", env: "prod" }).written).toEqual([]);
    expect(snapshot(join(root, "providers"))).toEqual(before);
    put("overlays/env/prod/_global.patch.json", { temperature: 1 });
    buildView({ root, provider: "claude", env: "prod" });
    expect(read("providers/claude/.view.json").sign).toBeUndefined();
    // As `rtt sign providers/claude/.view.json --in-place` does it: the next build leaves the signed file alone.
    writeFileSync(
      join(root, "providers/claude/.view.json"),
      prettyJson(signDocument(read("providers/claude/.view.json"), pair.privateKey)),
    );
    expect(buildView({ root, provider: "claude", env: "prod" }).written).toEqual([]);
    expect(verifyView({ root, provider: "claude", strict: true, registry: reg }).files).toBe(1);
  });
});

describe("view diff", () => {
  it("lists what each overlay changes as RFC 6902 operations, in the order they apply", () => {
    seedProject();
    const d = diffView({ root, provider: "claude", env: "prod" });
    expect(d.agents).toHaveLength(1);
    const a = d.agents[0]!;
    expect(a.overlays.map((o) => [o.layer, o.path])).toEqual([
      ["provider", "overlays/provider/claude/summarize.patch.json"],
      ["env", "overlays/env/prod/_global.patch.json"],
    ]);
    expect(a.overlays[0]!.ops).toContainEqual({ op: "replace", path: "/model", value: "claude-sonnet" });
    expect(a.overlays[1]!.ops).toEqual([
      { op: "add", path: "/temperature", value: 0 },
      { op: "replace", path: "/instructions", value: "Summarize the input. Be brief." },
    ]);
    const text = formatViewDiff(d);
    expect(text).toContain("summarize  agents/common/summarize.agent.json → .claude/agents/summarize.agent.json");
    expect(text).toContain('    replace /model "claude-sonnet"');
    expect(text).toContain("    add /temperature 0");
    // Applying every overlay's operations to the base gives the view a build writes; diff itself only reads.
    const doc = structuredClone(summarize);
    for (const o of a.overlays) expect(applyPatch(doc, o.ops).every((x) => x === null)).toBe(true);
    expect(hashOf(doc)).toBe(a.output.hash);
    expect(() => statSync(join(root, "providers"))).toThrow();
  });

  it("narrows to one agent, and names an unknown one", () => {
    seedProject();
    put("agents/common/other.agent.json", { id: "other", version: "0.1.0" });
    expect(diffView({ root, provider: "claude", env: "prod", agent: "other" }).agents.map((a) => a.agent)).toEqual([
      "other",
    ]);
    expectFabricError(
      () => diffView({ root, provider: "claude", env: "prod", agent: "nope" }),
      "RTT_FABRIC_NOT_FOUND",
      'no base agent named "nope"',
    );
  });
});

describe("view verify and ls", () => {
  it("checks every file against the sidecar, the signature under strict mode, and lists views", () => {
    seedProject();
    buildView({ root, provider: "claude", env: "prod" });
    expect(verifyView({ root, provider: "claude" }).files).toBe(1);
    expect(listViews({ root }).map((m) => [m.provider, m.env])).toEqual([["claude", "prod"]]);
    expectFabricError(
      () => verifyView({ root, provider: "claude", strict: true }),
      "RTT_FABRIC_UNTRUSTED",
      ".view.json: unsigned (strict mode)",
    );
    writeFileSync(join(root, OUT), readFileSync(join(root, OUT), "utf8").replace("claude-sonnet", "evil"));
    expectFabricError(
      () => verifyView({ root, provider: "claude" }),
      "RTT_FABRIC_CORRUPT",
      "summarize.agent.json: content hashes to",
    );
    unlinkSync(join(root, OUT));
    expectFabricError(() => verifyView({ root, provider: "claude" }), "RTT_FABRIC_UNREADABLE", "summarize.agent.json");
    expectFabricError(() => verifyView({ root, provider: "openai" }), "RTT_FABRIC_NOT_FOUND", "no view built here");
  });
});

import { join } from "node:path";
import { canonicalText, hashOf, sha256Hex } from "../canonical.js";
import { FabricError, isFabricError } from "../errors.js";
import { prettyJson } from "../json-file.js";
import { assertSchema } from "../schemas.js";
import {
  type AgentFile,
  discoverAgents,
  GLOBAL_OVERLAY,
  type OverlayLayer,
  overlayNames,
  PATCH_SUFFIX,
  readInput,
  toRel,
  type ViewLayout,
  viewLayout,
} from "./layout.js";
import { makeManifest, type ViewFileRecord, type ViewManifest } from "./manifest.js";
import { mergePatch } from "./merge.js";

/**
 * The order overlays apply in, most general first so the more specific one wins: the provider layer, then the
 * environment layer (the seed's Base → Provider → Environment); within a layer `_global` before the agent's own patch.
 */
export const OVERLAY_ORDER: ReadonlyArray<{ layer: OverlayLayer; scope: "global" | "agent" }> = [
  { layer: "provider", scope: "global" },
  { layer: "provider", scope: "agent" },
  { layer: "env", scope: "global" },
  { layer: "env", scope: "agent" },
];

export interface ViewInput {
  /** The file as named in messages. */
  path: string;
  /** Relative to the root, `/`-separated (the provenance record's name for it). */
  rel: string;
  /** CAS hash of the whole document, signature included. */
  hash: string;
  /** The document as read (what the CAS stores and the trust check sees). */
  doc: unknown;
  /** What merges: the document without its top-level `sign`, which signs the input and not the view. */
  content: unknown;
}

export interface AgentPlan {
  name: string;
  base: ViewInput;
  overlays: Array<ViewInput & { layer: OverlayLayer }>;
  /** With `steps: true`: the agent after the base (index 0) and after each overlay (index i + 1). */
  steps?: unknown[];
  output: { path: string; value: unknown; hash: string; bytes: Buffer };
}

export interface ViewPlan {
  layout: ViewLayout;
  agents: AgentPlan[];
  manifest: ViewManifest;
  /** Overlays that name no base agent: probably a typo, never applied. */
  warnings: string[];
}

export interface PlanOptions {
  root?: string;
  provider: string;
  env: string;
  out?: string;
  /** Only this agent (diff); the manifest then covers only it. */
  agent?: string;
  /** Keep the intermediate states (diff). */
  steps?: boolean;
}

const withoutSign = (doc: unknown): unknown => {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc) || !Object.hasOwn(doc, "sign")) return doc;
  const { sign: _s, ...rest } = doc as Record<string, unknown>;
  return rest;
};

/**
 * A view's bytes: the merged agent with its keys in canonical order, pretty-printed. They are a function of the
 * content alone, so reordering a base agent's keys rewrites no view file, and equal hashes mean equal files.
 */
export function renderAgent(value: unknown): { hash: string; bytes: Buffer } {
  const text = canonicalText(value);
  return { hash: sha256Hex(text), bytes: Buffer.from(prettyJson(JSON.parse(text)), "utf8") };
}

/**
 * Reads, checks and merges every input of view (provider P, env E) in memory; nothing is written. Any bad input
 * throws here, before a build touches the disk.
 */
export function planView(opts: PlanOptions): ViewPlan {
  const layout = viewLayout(opts);
  let agents = discoverAgents(layout);
  if (opts.agent !== undefined) {
    agents = agents.filter((a) => a.name === opts.agent);
    if (agents.length === 0)
      throw new FabricError("RTT_FABRIC_NOT_FOUND", `no base agent named "${opts.agent}" under agents/`, layout.root);
  }
  const available = { provider: overlayNames(layout, "provider"), env: overlayNames(layout, "env") };
  const cache = new Map<string, ViewInput>();
  const loadOverlay = (layer: OverlayLayer, name: string): ViewInput => {
    const path = join(layout.overlayDir(layer), `${name}${PATCH_SUFFIX}`);
    let input = cache.get(path);
    if (!input) {
      const { value } = readInput(layout, path);
      assertSchema("overlay", value, path);
      input = { path, rel: toRel(layout, path), hash: hashOf(value), doc: value, content: withoutSign(value) };
      cache.set(path, input);
    }
    return input;
  };

  const plans = agents.map((a) => planAgent(layout, a, available, loadOverlay, opts.steps === true));

  const warnings: string[] = [];
  const names = new Set(agents.map((a) => a.name));
  if (opts.agent === undefined) {
    for (const layer of ["provider", "env"] as const)
      for (const n of [...available[layer]].sort())
        if (n !== GLOBAL_OVERLAY && !names.has(n))
          warnings.push(
            `${join(layout.overlayDir(layer), `${n}${PATCH_SUFFIX}`)}: no base agent "${n}" under agents/; not applied`,
          );
  }

  const records: ViewFileRecord[] = plans.map((p) => ({
    path: p.output.path,
    agent: p.name,
    base: { path: p.base.rel, hash: p.base.hash },
    overlays: p.overlays.map((o) => ({ layer: o.layer, path: o.rel, hash: o.hash })),
    hash: p.output.hash,
  }));
  return { layout, agents: plans, manifest: makeManifest(layout.provider, layout.env, records), warnings };
}

function planAgent(
  layout: ViewLayout,
  a: AgentFile,
  available: Record<OverlayLayer, Set<string>>,
  loadOverlay: (layer: OverlayLayer, name: string) => ViewInput,
  keepSteps: boolean,
): AgentPlan {
  const { value: doc } = readInput(layout, a.path);
  assertSchema("agent", doc, a.path);
  const base: ViewInput = { path: a.path, rel: a.rel, hash: hashOf(doc), doc, content: withoutSign(doc) };
  const overlays: AgentPlan["overlays"] = [];
  for (const { layer, scope } of OVERLAY_ORDER) {
    const name = scope === "global" ? GLOBAL_OVERLAY : a.name;
    if (available[layer].has(name)) overlays.push({ ...loadOverlay(layer, name), layer });
  }
  let value = base.content;
  const steps = keepSteps ? [value] : undefined;
  for (const o of overlays) {
    value = mergePatch(value, o.content, o.path);
    steps?.push(value);
  }
  const outPath = layout.outputPath(a.name);
  try {
    assertSchema("agent", value, join(layout.viewDir, outPath));
  } catch (e) {
    if (!isFabricError(e)) throw e;
    const chain = [a.path, ...overlays.map((o) => o.path)].join(" + ");
    throw new FabricError(e.code, `${e.message} (merged from ${chain})`);
  }
  return { name: a.name, base, overlays, steps, output: { path: outPath, value, ...renderAgent(value) } };
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import { hashOf } from "../canonical.js";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";
import { assertSchema } from "../schemas.js";
import { AGENT_NAME_RE, AGENT_SUFFIX, type OverlayLayer, VIEW_MANIFEST, type ViewLayout } from "./layout.js";

export interface ViewInputRef {
  /** Relative to the project root, `/`-separated. */
  path: string;
  /** SHA-256 of the input's RFC 8785 canonical JSON, as stored in the CAS (signature included). */
  hash: string;
}

export interface ViewFileRecord {
  /** Relative to the view directory (`providers/<P>/`), `/`-separated: `.claude/agents/summarize.agent.json`. */
  path: string;
  agent: string;
  base: ViewInputRef;
  /** In the order they were applied. */
  overlays: Array<ViewInputRef & { layer: OverlayLayer }>;
  /** SHA-256 of the merged agent's canonical JSON. */
  hash: string;
}

/** The sidecar `providers/<P>/.view.json` (spec/fabric/view.schema.json). */
export interface ViewManifest {
  kind: "rtt.view";
  format: 1;
  provider: string;
  env: string;
  /** Sorted by path. */
  files: ViewFileRecord[];
  /** hashOf(the manifest without `view_hash` and `sign`). */
  view_hash: string;
  sign?: { alg: "ed25519"; key_id: string; sig: string };
}

export function viewHashOf(
  m: Omit<ViewManifest, "view_hash" | "sign"> & { view_hash?: string; sign?: unknown },
): string {
  const { view_hash: _h, sign: _s, ...body } = m;
  return hashOf(body);
}

export function makeManifest(provider: string, env: string, files: ViewFileRecord[]): ViewManifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const body = { kind: "rtt.view" as const, format: 1 as const, provider, env, files: sorted };
  return { ...body, view_hash: viewHashOf(body) };
}

export const manifestPath = (layout: ViewLayout): string => join(layout.viewDir, VIEW_MANIFEST);

/**
 * The sidecar of the previous build, if any. It decides which files a rebuild may delete, so it is checked hard: its
 * schema, its provider, every path being exactly one of this provider's agent files, and its own view hash.
 */
export function readViewManifest(layout: ViewLayout): ViewManifest | undefined {
  const path = manifestPath(layout);
  if (!existsSync(path)) return undefined;
  const m = readJsonFile(path);
  assertSchema("view", m, path);
  const manifest = m as ViewManifest;
  if (manifest.provider !== layout.provider)
    throw new FabricError(
      "RTT_FABRIC_INVALID",
      `records provider "${manifest.provider}", not "${layout.provider}"`,
      path,
    );
  const prefix = `.${layout.provider}/agents/`;
  for (const f of manifest.files) {
    const name =
      f.path.startsWith(prefix) && f.path.endsWith(AGENT_SUFFIX)
        ? f.path.slice(prefix.length, -AGENT_SUFFIX.length)
        : "";
    if (!AGENT_NAME_RE.test(name))
      throw new FabricError("RTT_FABRIC_INVALID", `lists ${JSON.stringify(f.path)}, not a file this view writes`, path);
  }
  if (viewHashOf(manifest) !== manifest.view_hash)
    throw new FabricError("RTT_FABRIC_CORRUPT", "view_hash does not match the manifest's content", path);
  return manifest;
}

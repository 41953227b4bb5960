import { type Dirent, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";

/**
 * Where a view's inputs and outputs live under a project root (seed 004, "View Engine"):
 *
 *   agents/**\/<name>.agent.json                 base agents (any folder depth; names unique across folders)
 *   overlays/provider/<P>/_global.patch.json     every agent, provider P
 *   overlays/provider/<P>/<name>.patch.json      one agent, provider P
 *   overlays/env/<E>/_global.patch.json          every agent, environment E
 *   overlays/env/<E>/<name>.patch.json           one agent, environment E
 *   providers/<P>/.<P>/agents/<name>.agent.json  the merged view (`.claude/agents/` for claude)
 *   providers/<P>/.view.json                     the view's provenance sidecar
 */
export const AGENTS_DIR = "agents";
export const AGENT_SUFFIX = ".agent.json";
export const PATCH_SUFFIX = ".patch.json";
export const GLOBAL_OVERLAY = "_global";
export const VIEW_MANIFEST = ".view.json";

/** Agent names (the file name before `.agent.json`): they become file names in every view, so no `/`, no leading `.`/`_`. */
export const AGENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Provider and environment names: one path segment each, lowercase. */
export const LAYER_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export type OverlayLayer = "provider" | "env";

export interface ViewLayout {
  /** The project root as given (used to name files in messages) and resolved through symlinks (the boundary). */
  root: string;
  rootReal: string;
  provider: string;
  env: string;
  /** `<out>/<P>`: the directory the view owns its files in (default `<root>/providers/<P>`). */
  viewDir: string;
  /** The boundary outputs must stay in: `<out>` (default `<root>/providers`). */
  outRoot: string;
  /** The output path of agent `name`, relative to viewDir, with `/` separators. */
  outputPath(name: string): string;
  overlayDir(layer: OverlayLayer): string;
}

export function viewLayout(opts: { root?: string; provider: string; env: string; out?: string }): ViewLayout {
  const root = opts.root ?? ".";
  for (const [what, v] of [
    ["provider", opts.provider],
    ["env", opts.env],
  ] as const) {
    if (!LAYER_NAME_RE.test(v))
      throw new FabricError("RTT_FABRIC_USAGE", `${what} ${JSON.stringify(v)} is not a name like ${LAYER_NAME_RE}`);
  }
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    throw new FabricError("RTT_FABRIC_UNREADABLE", "no such project root", root);
  }
  const outRoot = opts.out ?? join(root, "providers");
  return {
    root,
    rootReal,
    provider: opts.provider,
    env: opts.env,
    outRoot,
    viewDir: join(outRoot, opts.provider),
    // The seed's `providers/claude/.claude/agents/`: a provider's tools look for their agents in `.<provider>/agents/`.
    outputPath: (name) => `.${opts.provider}/agents/${name}${AGENT_SUFFIX}`,
    overlayDir: (layer) => join(root, "overlays", layer, layer === "provider" ? opts.provider : opts.env),
  };
}

/** Throws RTT_FABRIC_ESCAPE unless `path`, with every symlink resolved, stays inside `boundaryReal`. */
export function assertInside(boundaryReal: string, path: string, shown = path): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FabricError(
      "RTT_FABRIC_UNREADABLE",
      code === "ENOENT" ? "no such file (or a dangling symlink)" : String(code),
      shown,
    );
  }
  if (real !== boundaryReal && !real.startsWith(boundaryReal + sep))
    throw new FabricError("RTT_FABRIC_ESCAPE", `resolves to ${real}, outside ${boundaryReal}`, shown);
  return real;
}

/** Reads and parses a JSON input of the view after checking it (and any symlink on its way) stays inside the root. */
export function readInput(layout: ViewLayout, path: string): { value: unknown; bytes: Buffer } {
  const real = assertInside(layout.rootReal, path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(real);
  } catch (e) {
    throw new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, path);
  }
  return { value: parseJsonText(bytes.toString("utf8"), path), bytes };
}

export interface AgentFile {
  name: string;
  /** The file as a path for messages (joined to the root as given). */
  path: string;
  /** Relative to the root, `/`-separated: how the view's provenance names it. */
  rel: string;
}

/** Every base agent under `<root>/agents`, sorted by name; symlinked folders are followed while they stay inside. */
export function discoverAgents(layout: ViewLayout): AgentFile[] {
  const top = join(layout.root, AGENTS_DIR);
  const found = new Map<string, AgentFile>();
  const visited = new Set<string>();
  const walk = (dir: string) => {
    const real = assertInside(layout.rootReal, dir);
    // A symlink back up the tree would otherwise walk forever.
    if (visited.has(real)) return;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      throw new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      const path = join(dir, ent.name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        assertInside(layout.rootReal, path);
        const st = statSync(path);
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) walk(path);
      else if (isFile && ent.name.endsWith(AGENT_SUFFIX)) {
        const name = ent.name.slice(0, -AGENT_SUFFIX.length);
        if (!AGENT_NAME_RE.test(name))
          throw new FabricError(
            "RTT_FABRIC_INVALID",
            `agent name ${JSON.stringify(name)} is not like ${AGENT_NAME_RE}`,
            path,
          );
        const rel = toRel(layout, path);
        const dup = found.get(name);
        if (dup)
          throw new FabricError(
            "RTT_FABRIC_INVALID",
            `two base agents named "${name}" (also ${dup.path}); a view has one file per name`,
            path,
          );
        found.set(name, { name, path, rel });
      }
    }
  };
  try {
    statSync(top);
  } catch {
    throw new FabricError("RTT_FABRIC_UNREADABLE", "no agents/ folder under the project root", top);
  }
  walk(top);
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The `.patch.json` names (without suffix) in one overlay folder; a missing folder has none. */
export function overlayNames(layout: ViewLayout, layer: OverlayLayer): Set<string> {
  const dir = layout.overlayDir(layer);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, dir);
  }
  assertInside(layout.rootReal, dir);
  return new Set(names.filter((n) => n.endsWith(PATCH_SUFFIX)).map((n) => n.slice(0, -PATCH_SUFFIX.length)));
}

export const toRel = (layout: ViewLayout, path: string): string =>
  relative(resolve(layout.root), resolve(path)).split(sep).join("/");

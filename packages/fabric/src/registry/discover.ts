import { type Dirent, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { FabricError } from "../errors.js";

/**
 * What a file found by the scan is taken for (seed 004, data flow step 1):
 * - `agent`: `*.agent.json`;
 * - `tools`: an MCP tool list — `tools.json` (server = its folder's name) or `<server>.tools.json`;
 * - `manifest`: a `*.json` inside a folder named `manifests`;
 * - `maybe-manifest`: any other `*.json`, a manifest only if it has a top-level `manifest` member (package.json,
 *   tsconfig.json and the like are skipped quietly, even when they are not strict JSON).
 */
export type FoundKind = "agent" | "tools" | "manifest" | "maybe-manifest";

export interface Found {
  path: string;
  kind: FoundKind;
}

/** Folders never scanned: dependencies and VCS data hold other projects' JSON. */
const SKIP_DIRS = new Set(["node_modules", ".git"]);

export function kindOf(path: string): FoundKind | undefined {
  const name = basename(path);
  if (!name.endsWith(".json")) return undefined;
  if (name.endsWith(".agent.json")) return "agent";
  if (name === "tools.json" || name.endsWith(".tools.json")) return "tools";
  if (basename(dirname(path)) === "manifests") return "manifest";
  return "maybe-manifest";
}

const inside = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
};

/**
 * Scans files and folders (recursively, in sorted order so the same tree is scanned the same way). A symlink is
 * followed only when it resolves inside the folder being scanned: one that leads out is refused with
 * RTT_FABRIC_ESCAPE naming it, and the scan goes on. `skip` holds real paths never entered (the registry itself).
 */
export function discover(
  paths: readonly string[],
  skip: readonly string[] = [],
): { found: Found[]; problems: FabricError[] } {
  const found: Found[] = [];
  const problems: FabricError[] = [];
  const skipReal = new Set(skip.map((p) => safeRealpath(p) ?? resolve(p)));
  for (const arg of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(arg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push(
        new FabricError("RTT_FABRIC_UNREADABLE", code === "ENOENT" ? "no such file or folder" : String(code), arg),
      );
      continue;
    }
    if (!st.isDirectory()) {
      // A file named on the command line is taken for what its name says, whatever folder it is in.
      const kind = kindOf(arg);
      if (kind) found.push({ path: arg, kind });
      else problems.push(new FabricError("RTT_FABRIC_USAGE", "not a .json file", arg));
      continue;
    }
    const root = realpathSync(arg);
    const visited = new Set<string>([root]);
    const walk = (dir: string, real: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        problems.push(new FabricError("RTT_FABRIC_UNREADABLE", (e as Error).message, dir));
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const ent of entries) {
        const path = join(dir, ent.name);
        let isDir = ent.isDirectory();
        let realPath = join(real, ent.name);
        if (ent.isSymbolicLink()) {
          const target = safeRealpath(path);
          if (target === undefined) {
            problems.push(new FabricError("RTT_FABRIC_UNREADABLE", "broken symlink", path));
            continue;
          }
          if (!inside(root, target)) {
            problems.push(new FabricError("RTT_FABRIC_ESCAPE", `symlink resolves outside ${arg} (to ${target})`, path));
            continue;
          }
          realPath = target;
          isDir = lstatSync(target).isDirectory();
        } else if (!isDir && !ent.isFile()) continue;
        if (isDir) {
          if (SKIP_DIRS.has(ent.name) || skipReal.has(realPath) || visited.has(realPath)) continue;
          visited.add(realPath);
          walk(path, realPath);
        } else {
          const kind = kindOf(path);
          if (kind) found.push({ path, kind });
        }
      }
    };
    walk(arg, root);
  }
  return { found, problems };
}

function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

import { existsSync } from "node:fs";
import semver from "semver";
import { writeFileAtomic } from "../atomic.js";
import { FabricError } from "../errors.js";
import { prettyJson, readJsonFile } from "../json-file.js";
import { assertSchema } from "../schemas.js";

/** index.json: `ID@version` → SHA-256 (spec/fabric/index.schema.json). */
export type IndexMap = Record<string, string>;
/** symbols.json: `rtt://…` symbol → hashes of the indexed objects declaring it (spec/fabric/symbols.schema.json). */
export type SymbolMap = Record<string, string[]>;

function readChecked<T>(path: string, kind: string): T {
  if (!existsSync(path)) return {} as T;
  const value = readJsonFile(path);
  assertSchema(kind, value, path);
  return value as T;
}

export const readIndex = (path: string): IndexMap => readChecked<IndexMap>(path, "index");
export const readSymbols = (path: string): SymbolMap => readChecked<SymbolMap>(path, "symbols");

/** Sorted keys (code-unit order): the same index is the same bytes, and diffs of it read well. */
function sortedObject<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k] as T;
  return out;
}

export const writeIndex = (path: string, m: IndexMap) => writeFileAtomic(path, prettyJson(sortedObject(m)));
export const writeSymbols = (path: string, m: SymbolMap) => writeFileAtomic(path, prettyJson(sortedObject(m)));

export const indexKey = (id: string, version: string) => `${id}@${version}`;

/** Splits `ID@version` (ids never contain '@'). */
export function splitKey(key: string): { id: string; version: string } {
  const at = key.lastIndexOf("@");
  return { id: key.slice(0, at), version: key.slice(at + 1) };
}

export interface Resolved {
  id: string;
  version: string;
  hash: string;
}

/**
 * `ID`, `ID@VERSION` or `ID@RANGE` (npm semver: `summarize@^1.2`) → the highest indexed version that matches.
 * A bare ID takes the highest release, or the highest prerelease when there is no release.
 */
export function resolveRef(index: IndexMap, ref: string): Resolved {
  const at = ref.indexOf("@");
  const id = at < 0 ? ref : ref.slice(0, at);
  const range = at < 0 ? "*" : ref.slice(at + 1);
  if (id === "" || range === "") throw new FabricError("RTT_FABRIC_USAGE", "expected ID or ID@RANGE", ref);
  if (semver.validRange(range) === null)
    throw new FabricError("RTT_FABRIC_USAGE", `not a semver range: ${JSON.stringify(range)}`, ref);
  const versions: string[] = [];
  for (const key of Object.keys(index)) {
    const k = splitKey(key);
    if (k.id === id) versions.push(k.version);
  }
  if (versions.length === 0) throw new FabricError("RTT_FABRIC_NOT_FOUND", `no versions of ${id} in the registry`, ref);
  const best =
    semver.maxSatisfying(versions, range) ??
    (at < 0 ? semver.maxSatisfying(versions, range, { includePrerelease: true }) : null);
  if (best === null)
    throw new FabricError(
      "RTT_FABRIC_NOT_FOUND",
      `no version of ${id} matches ${range} (have ${versions.sort(semver.compare).join(", ")})`,
      ref,
    );
  return { id, version: best, hash: index[indexKey(id, best)] as string };
}

/** index.json as rows, by ID then semver order (what `rtt registry ls` prints). */
export function listIndex(index: IndexMap): Resolved[] {
  const rows = Object.entries(index).map(([key, hash]) => ({ ...splitKey(key), hash }));
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : semver.compare(a.version, b.version)));
}

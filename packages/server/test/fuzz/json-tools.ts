/** Small helpers to mutate JSON documents at a path, including at the text level (what JSON.stringify cannot write). */

export type Path = Array<string | number>;
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Depth the JSON guard counts: the root container is 1. */
export const MAX_DEPTH = 64;

export interface Node {
  path: Path;
  value: Json;
  /** Containers from the root down to this node's parent (the root counts 1). */
  depth: number;
}

/** Every node below the root, in document order. */
export function nodes(doc: Json): Node[] {
  const out: Node[] = [];
  const walk = (v: Json, path: Path, depth: number) => {
    if (v === null || typeof v !== "object") return;
    const entries: Array<[string | number, Json]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const p = [...path, k];
      out.push({ path: p, value: x, depth });
      walk(x, p, depth + 1);
    }
  };
  walk(doc, [], 1);
  return out;
}

export const clone = <T>(v: T): T => structuredClone(v);

function parentOf(doc: Json, path: Path): Json {
  let cur: Json = doc;
  for (const k of path.slice(0, -1)) cur = (cur as Record<string | number, Json>)[k];
  return cur;
}

export function setAt(doc: Json, path: Path, value: Json): void {
  (parentOf(doc, path) as Record<string | number, Json>)[path[path.length - 1]] = value;
}

export function deleteAt(doc: Json, path: Path): void {
  const parent = parentOf(doc, path);
  const k = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(k as number, 1);
  else delete (parent as Record<string, Json>)[k as string];
}

const MARK = "\u0001FZ-MARK\u0001";

/** The document with the value at `path` replaced by `rawText` verbatim (any bytes, valid JSON or not). */
export function spliceRaw(doc: Json, path: Path, rawText: string | Buffer): Buffer {
  const copy = clone(doc);
  setAt(copy, path, MARK);
  const text = JSON.stringify(copy);
  const at = text.indexOf(JSON.stringify(MARK));
  const raw = typeof rawText === "string" ? Buffer.from(rawText) : rawText;
  return Buffer.concat([
    Buffer.from(text.slice(0, at)),
    raw,
    Buffer.from(text.slice(at + JSON.stringify(MARK).length)),
  ]);
}

export const deepArrays = (d: number) => `${"[".repeat(d)}${"]".repeat(d)}`;
export const deepObjects = (d: number) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;

/** A string of `length` characters made of `unit` repeated. */
export const longString = (unit: string, length: number) =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

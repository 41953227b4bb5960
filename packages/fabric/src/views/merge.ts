import { escapePointer } from "@rtt/core";
import { FabricError } from "../errors.js";

/**
 * Members that name the items of a list, tried in this order: a patch array whose items are all objects carrying a
 * string under one of them is merged item by item (tools by `name`, symbol declarations by `symbol`) instead of
 * replacing the base array whole as RFC 7396 would. Rule and examples: spec/fabric/overlays.md.
 */
export const MERGE_KEYS = ["name", "symbol"] as const;

/** An item `{ "name": "x", "$delete": true }` in a keyed patch array removes the base item named x. */
export const DELETE_MARK = "$delete";

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * RFC 7396 JSON merge patch of `patch` onto `target`, plus the keyed merge of named lists. Inputs are never mutated;
 * the result shares unchanged sub-values with them. Object keys keep the base's order, new ones follow in the patch's
 * order. `where` (the patch's file) goes into every error, with a JSON pointer to the offending member.
 */
export function mergePatch(target: unknown, patch: unknown, where?: string): unknown {
  return merge(target, patch, "", where);
}

function merge(target: unknown, patch: unknown, at: string, where: string | undefined): unknown {
  if (Array.isArray(patch)) {
    const key = listKey(patch);
    if (key === undefined) return patch;
    return mergeKeyed(Array.isArray(target) ? target : [], patch as Obj[], key, at, where);
  }
  if (!isObject(patch)) return patch;
  const out: Obj = {};
  if (isObject(target)) {
    for (const k of Object.keys(target)) {
      refuseProto(k, at, where);
      out[k] = target[k];
    }
  }
  for (const k of Object.keys(patch)) {
    refuseProto(k, at, where);
    const v = patch[k];
    if (v === null) delete out[k];
    // Object.hasOwn: a missing `constructor` or `toString` must read as absent, not as Object.prototype's member.
    else out[k] = merge(Object.hasOwn(out, k) ? out[k] : undefined, v, `${at}/${escapePointer(k)}`, where);
  }
  return out;
}

/** The member a patch array is keyed by, or undefined for a plain (replacing) array. Empty arrays replace. */
function listKey(patch: unknown[]): string | undefined {
  if (patch.length === 0) return undefined;
  return MERGE_KEYS.find((k) => patch.every((item) => isObject(item) && typeof item[k] === "string"));
}

const REMOVED = Symbol("removed");

function mergeKeyed(target: unknown[], patch: Obj[], key: string, at: string, where: string | undefined): unknown[] {
  const fail = (msg: string, ptr: string) =>
    new FabricError("RTT_FABRIC_INVALID", `${msg} (at ${ptr || "/"}; keyed merge by "${key}")`, where);
  const position = new Map<string, number>();
  target.forEach((item, i) => {
    const k = isObject(item) ? item[key] : undefined;
    if (typeof k !== "string") throw fail(`base item ${i} has no string "${key}" to merge by`, at);
    if (position.has(k)) throw fail(`base list names "${k}" twice`, at);
    position.set(k, i);
  });
  const out: unknown[] = target.slice();
  const appended: unknown[] = [];
  const seen = new Set<string>();
  patch.forEach((item, j) => {
    const ptr = `${at}/${j}`;
    const k = item[key] as string;
    if (seen.has(k)) throw fail(`patch list names "${k}" twice`, ptr);
    seen.add(k);
    const i = position.get(k);
    if (Object.hasOwn(item, DELETE_MARK)) {
      if (item[DELETE_MARK] !== true) throw fail(`"${DELETE_MARK}" must be true`, ptr);
      if (Object.keys(item).length !== 2)
        throw fail(`a "${DELETE_MARK}" item carries only "${key}" and "${DELETE_MARK}"`, ptr);
      // Deleting an item the base does not have is a no-op, as `null` for an absent member is in RFC 7396.
      if (i !== undefined) out[i] = REMOVED;
      return;
    }
    if (i === undefined) appended.push(merge(undefined, item, ptr, where));
    else out[i] = merge(target[i], item, `${at}/${i}`, where);
  });
  return [...out.filter((x) => x !== REMOVED), ...appended];
}

function refuseProto(k: string, at: string, where: string | undefined): void {
  // parseJsonText refuses these already; the merge is a library function too, and assigning `__proto__` to a plain
  // object would replace its prototype instead of adding a member.
  if (k === "__proto__")
    throw new FabricError("RTT_FABRIC_NOT_JSON", `forbidden key at ${at}/${escapePointer(k)}`, where);
}

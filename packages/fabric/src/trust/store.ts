import type { KeyObject } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic.js";
import { FabricError } from "../errors.js";
import { prettyJson, readJsonFile } from "../json-file.js";
import { registryLayout } from "../paths.js";
import { assertSchema } from "../schemas.js";
import { KEY_ID_RE, parsePublicKey, readPublicKeyFile } from "./keys.js";

/**
 * The trust store of one registry: `<registry>/trust/keys/*.pub` are the trusted signers (seed layout),
 * `<registry>/trust/revoked.json` lists revoked key ids. Revocation is a list rather than deleting or moving the
 * `.pub`: a revoked key stays recognisable (its signatures report `revoked`, not `unknown_key`), a key can be revoked
 * before anyone trusted it, and `keys trust` refuses to bring it back by copying the file in again.
 */
export interface TrustedKey {
  key_id: string;
  publicKey: KeyObject;
  comment: string;
  file: string;
}

export interface Revocation {
  key_id: string;
  reason: string;
  /** ISO 8601 time of the revocation, for people; verification does not depend on it. */
  revoked_at: string;
}

export interface TrustStore {
  dir: string;
  keys: Map<string, TrustedKey>;
  revoked: Map<string, Revocation>;
  /** `.pub` files that could not be read; they trust nothing, and `keys ls` shows them. */
  problems: Array<{ file: string; reason: string }>;
}

export const trustLayout = (registryDir: string) => {
  const keys = registryLayout(registryDir).keys;
  return { keys, revoked: join(keys, "..", "revoked.json"), keyFile: (id: string) => join(keys, keyFileName(id)) };
};

/** `ed25519:<hex>` → `ed25519-<hex>.pub` (':' is not allowed in Windows file names). */
const keyFileName = (id: string) => `${id.replace(":", "-")}.pub`;

export const emptyTrustStore = (dir = ""): TrustStore => ({ dir, keys: new Map(), revoked: new Map(), problems: [] });

/** Reads the store; a registry without `trust/` is an empty store (everything signed is then `unknown_key`). */
export function loadTrustStore(registryDir: string): TrustStore {
  const layout = trustLayout(registryDir);
  const store = emptyTrustStore(registryDir);
  for (const r of readRevoked(layout.revoked)) store.revoked.set(r.key_id, r);
  if (!existsSync(layout.keys)) return store;
  for (const name of readdirSync(layout.keys).sort()) {
    if (!name.endsWith(".pub")) continue;
    const file = join(layout.keys, name);
    try {
      // A symlink can point anywhere (out of the registry, at a file someone else controls), and a huge file is not
      // a key: neither is something a person deliberately trusted with `keys trust`, which writes plain files.
      const st = lstatSync(file);
      if (st.isSymbolicLink()) throw new FabricError("RTT_FABRIC_ESCAPE", "a symlink in the trust store", file);
      if (!st.isFile() || st.size > 16 * 1024)
        throw new FabricError("RTT_FABRIC_INVALID", "not a small regular file", file);
      const parsed = parsePublicKey(readFileSync(file, "utf8"), file);
      store.keys.set(parsed.key_id, { ...parsed, file });
    } catch (e) {
      store.problems.push({ file, reason: (e as Error).message });
    }
  }
  return store;
}

function readRevoked(path: string): Revocation[] {
  if (!existsSync(path)) return [];
  const doc = readJsonFile(path);
  assertSchema("revoked", doc, path);
  return (doc as { revoked: Revocation[] }).revoked;
}

/**
 * Copies a `.pub` into the store as `trust/keys/ed25519-<hex>.pub`, named by the key id computed from its bytes.
 * Trusting a key twice is a no-op; a revoked key is refused (revoked beats trusted, and is not undone by accident).
 */
export function trustKey(registryDir: string, pubFile: string): TrustedKey & { created: boolean } {
  const parsed = readPublicKeyFile(pubFile);
  const layout = trustLayout(registryDir);
  const revoked = readRevoked(layout.revoked).find((r) => r.key_id === parsed.key_id);
  if (revoked)
    throw new FabricError(
      "RTT_FABRIC_UNTRUSTED",
      `key ${parsed.key_id} is revoked (${revoked.reason}); remove it from ${layout.revoked} first if that was a mistake`,
      pubFile,
    );
  const file = layout.keyFile(parsed.key_id);
  if (existsSync(file)) return { ...parsed, file, created: false };
  // Through a temp file + rename: a reader never sees half a key.
  writeFileAtomic(file, readFileSync(pubFile));
  return { ...parsed, file, created: true };
}

/** Adds `keyId` to `trust/revoked.json` (idempotent: the first reason stays). The `.pub`, if any, stays in place. */
export function revokeKey(registryDir: string, keyId: string, reason = "revoked"): Revocation & { created: boolean } {
  if (!KEY_ID_RE.test(keyId))
    throw new FabricError("RTT_FABRIC_USAGE", `not a key id: ${JSON.stringify(keyId)} (expected ed25519:<32 hex>)`);
  const layout = trustLayout(registryDir);
  const list = readRevoked(layout.revoked);
  const had = list.find((r) => r.key_id === keyId);
  if (had) return { ...had, created: false };
  const entry: Revocation = { key_id: keyId, reason, revoked_at: new Date().toISOString() };
  const next = [...list, entry].sort((a, b) => (a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : 0));
  writeFileAtomic(layout.revoked, prettyJson({ revoked: next }));
  return { ...entry, created: true };
}

export type KeyStatus = "trusted" | "revoked";

export interface KeyListing {
  key_id: string;
  status: KeyStatus;
  comment: string;
  file?: string;
  reason?: string;
}

/** Every trusted or revoked key, by key id; revoked wins when a key is in both. */
export function listKeys(store: TrustStore): KeyListing[] {
  const ids = [...new Set([...store.keys.keys(), ...store.revoked.keys()])].sort();
  return ids.map((id) => {
    const k = store.keys.get(id);
    const r = store.revoked.get(id);
    const base = { key_id: id, comment: k?.comment ?? "", ...(k ? { file: k.file } : {}) };
    return r ? { ...base, status: "revoked", reason: r.reason } : { ...base, status: "trusted" };
  });
}

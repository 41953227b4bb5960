import { existsSync, readdirSync } from "node:fs";
import type { ObjectStore } from "@nats-io/obj";
import { canonicalBytes, HASH_RE, sha256Hex } from "../canonical.js";
import type { Registry } from "../registry/registry.js";

export interface SyncProblem {
  name: string;
  reason: string;
}

export interface SyncReport {
  /** Objects this registry held (loose and packed). */
  local: number;
  /** Objects in the bucket before the sync. */
  remote: number;
  /** Sent to the bucket: what the registry had and the bucket lacked. */
  pushed: number;
  /** Taken from the bucket, each verified against its name before it was stored. */
  pulled: number;
  /** Bucket objects refused: a name that is not a SHA-256, bytes that hash to something else, not canonical JSON. */
  rejected: SyncProblem[];
  bytes: { pushed: number; pulled: number };
  ms: number;
}

/** Every object hash the registry holds: the pack's index and the loose objects. */
export function localHashes(registry: Registry): Set<string> {
  const out = new Set<string>();
  const { entries } = registry.packed.committedEntries();
  for (let i = 0; i < entries.count; i++) out.add(entries.keys.subarray(i * 32, i * 32 + 32).toString("hex"));
  if (existsSync(registry.layout.cas))
    for (const f of readdirSync(registry.layout.cas)) {
      const h = f.endsWith(".json") ? f.slice(0, -5) : "";
      if (HASH_RE.test(h)) out.add(h);
    }
  return out;
}

/**
 * Replicates a registry through a JetStream Object Store whose objects are named by their SHA-256 (spec/fabric/
 * cluster.md, "Registry replication"): pushes what the bucket lacks, pulls what the registry lacks. Every pulled
 * object is checked before it is stored — its bytes must hash to its name and be the canonical bytes of their JSON
 * (what Registry.put would store) — and a refused one is reported, never stored. Content addressing makes both
 * directions idempotent and conflict-free: the same name always means the same bytes.
 */
export async function syncRegistry(
  registry: Registry,
  store: ObjectStore,
  opts: { push?: boolean; pull?: boolean } = {},
): Promise<SyncReport> {
  const t0 = performance.now();
  registry.refresh();
  const local = localHashes(registry);
  const remote = new Set<string>();
  for (const info of await store.list()) if (!info.deleted) remote.add(info.name);
  const report: SyncReport = {
    local: local.size,
    remote: remote.size,
    pushed: 0,
    pulled: 0,
    rejected: [],
    bytes: { pushed: 0, pulled: 0 },
    ms: 0,
  };
  if (opts.push !== false)
    for (const h of local) {
      if (remote.has(h)) continue;
      const bytes = registry.getBytes(h); // verified against its name on the way out too
      if (!bytes) continue;
      await store.putBlob({ name: h }, bytes);
      report.pushed++;
      report.bytes.pushed += bytes.length;
    }
  if (opts.pull !== false)
    for (const name of remote) {
      if (local.has(name)) continue;
      const reject = (reason: string) => report.rejected.push({ name, reason });
      if (!HASH_RE.test(name)) {
        reject("not a SHA-256 hex name");
        continue;
      }
      let bytes: Uint8Array | null;
      try {
        bytes = await store.getBlob(name); // the client checks the Object Store's own digest
      } catch (e) {
        reject(`unreadable: ${(e as Error).message}`);
        continue;
      }
      if (!bytes) continue; // deleted meanwhile
      const actual = sha256Hex(bytes);
      if (actual !== name) {
        reject(`bytes hash to ${actual}, not to their name`);
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(bytes).toString("utf8"));
      } catch {
        reject("not JSON");
        continue;
      }
      let canonical: Buffer;
      try {
        canonical = canonicalBytes(value);
      } catch (e) {
        reject(`not storable JSON: ${(e as Error).message}`);
        continue;
      }
      if (!canonical.equals(bytes)) {
        reject(`not canonical JSON (its canonical form hashes to ${sha256Hex(canonical)})`);
        continue;
      }
      registry.put(value, { durable: false });
      report.pulled++;
      report.bytes.pulled += bytes.length;
    }
  registry.sync();
  report.ms = performance.now() - t0;
  return report;
}

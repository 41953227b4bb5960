// Writes a plan WAL of N records (prepare/commit pairs with realistic payloads, a checkpoint every 1,000 commits)
// straight from the record encoder: appending through Wal would fdatasync each record, which a replay bench does
// not need. Deterministic: the same N gives the same bytes.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { canonicalBytes, crc32c, encodeWalRecord, leafHash, treeRoot, WAL_MAGIC } from "@rtt/fabric";

const sha = (s) => createHash("sha256").update(s).digest("hex");

export function generateWal(path, records) {
  const parts = [WAL_MAGIC];
  let crc = crc32c(WAL_MAGIC);
  let prev = Buffer.alloc(32);
  let seq = 0;
  let base = null;
  const leaves = [];
  const push = (type, body) => {
    const r = encodeWalRecord(++seq, type, prev, canonicalBytes(body), crc);
    parts.push(r.bytes);
    crc = r.crc;
    prev = r.hash;
    if (type === "commit") leaves.push(leafHash(r.bytes.subarray(8)));
  };
  for (let k = 0; seq < records; k++) {
    const plan = `sha256:${sha(`plan ${k}`)}`;
    push("prepare", { plan_id: plan, base, inputs: `sha256:${sha(`inputs ${k}`)}`, routes: 1 + (k % 17) });
    if (seq >= records) break;
    push("commit", { plan_id: plan });
    base = plan;
    if ((k + 1) % 1000 === 0 && seq < records)
      push("checkpoint", { tree_size: leaves.length, root: treeRoot(leaves).toString("hex") });
  }
  writeFileSync(path, Buffer.concat(parts));
  return seq;
}

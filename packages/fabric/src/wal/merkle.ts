import { createHash } from "node:crypto";

/**
 * RFC 6962 §2.1 Merkle tree hashing (also RFC 9162 §2.1): leaves and interior nodes are hashed with different
 * prefixes (0x00, 0x01) so a leaf can never be passed off as a node. Hashes are 32-byte Buffers.
 */
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export const leafHash = (data: Uint8Array): Buffer => createHash("sha256").update(LEAF).update(data).digest();
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer =>
  createHash("sha256").update(NODE).update(left).update(right).digest();
/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT = createHash("sha256").digest();

/** Largest power of two strictly below n (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes [lo, hi). */
function subtreeRoot(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo] as Buffer;
  const k = split(n);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

/** The tree head (root) over the first `size` leaf hashes. */
export const treeRoot = (leaves: readonly Buffer[], size = leaves.length): Buffer => subtreeRoot(leaves, 0, size);

/** RFC 6962 §2.1.1 audit path of leaf `index` in the tree of the first `size` leaves, leaf to root order. */
export function inclusionProof(leaves: readonly Buffer[], index: number, size = leaves.length): Buffer[] {
  if (!(index >= 0 && index < size && size <= leaves.length))
    throw new RangeError(`leaf ${index} not in a tree of ${size}`);
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  // Walk down from the root, collecting the sibling subtree at each level, then reverse (the RFC's order is bottom-up).
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (m < k) {
      path.push(subtreeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(subtreeRoot(leaves, lo, lo + k));
      lo += k;
      m -= k;
    }
  }
  return path.reverse();
}

/**
 * RFC 9162 §2.1.3.2: recomputes the root from a leaf hash, its index, the tree size and the audit path. Needs
 * nothing else, so a proof printed by `rtt wal proof` verifies offline against a signed checkpoint's root.
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Buffer | undefined {
  if (index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const r = rootFromInclusionProof(leaf, index, size, proof);
  return r?.equals(root) === true;
}

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inclusionProof, leafHash, nodeHash, treeRoot, verifyInclusion } from "../../src/wal/merkle.js";

// The leaves and roots of the RFC 6962 reference test data (certificate-transparency's merkle tree tests).
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(
  (h) => leafHash(Buffer.from(h, "hex")),
);
const ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

describe("RFC 6962 Merkle tree", () => {
  it("gives the reference roots for trees of 1 to 8 leaves", () => {
    ROOTS.forEach((root, i) => {
      expect(treeRoot(LEAVES, i + 1).toString("hex"), `size ${i + 1}`).toBe(root);
    });
  });

  it("hashes the empty tree as SHA-256 of nothing", () => {
    expect(treeRoot([]).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("proves every leaf of every tree size, and a changed proof, leaf or index fails", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat(), (size, at, flip) => {
        const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
        const root = treeRoot(leaves);
        const index = at % size;
        const proof = inclusionProof(leaves, index);
        expect(verifyInclusion(leaves[index] as Buffer, index, size, proof, root)).toBe(true);
        if (size > 1) {
          expect(verifyInclusion(leaves[(index + 1) % size] as Buffer, index, size, proof, root)).toBe(false);
          const bad = proof.map((p) => Buffer.from(p));
          const target = bad[flip % bad.length] as Buffer;
          target[flip % 32] = (target[flip % 32] as number) ^ 1;
          expect(verifyInclusion(leaves[index] as Buffer, index, size, bad, root)).toBe(false);
          expect(verifyInclusion(leaves[index] as Buffer, (index + 1) % size, size, proof, root)).toBe(false);
        }
      }),
    );
  });

  it("proves against an earlier tree size (a checkpoint) too", () => {
    const leaves = Array.from({ length: 13 }, (_, i) => leafHash(Buffer.from([i])));
    const proof = inclusionProof(leaves, 4, 7);
    expect(verifyInclusion(leaves[4] as Buffer, 4, 7, proof, treeRoot(leaves, 7))).toBe(true);
    expect(nodeHash(Buffer.alloc(32), Buffer.alloc(32)).length).toBe(32);
  });
});

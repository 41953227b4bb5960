import { createPrivateKey } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  emptyTrustStore,
  formatPublicKey,
  keyId,
  loadTrustStore,
  parsePublicKey,
  signDocument,
  trustLayout,
  verifyDocument,
} from "@rtt/fabric";
import { describe, expect, it } from "vitest";

// RFC 8032 §7.1, TEST 1: a published key, so the vectors below can be rechecked with any Ed25519 library.
const SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const PKCS8_PREFIX = "302e020100300506032b657004220420";
// The same signature from Python's `cryptography` (Ed25519PrivateKey.from_private_bytes(SEED).sign(canonical bytes)).
const GOLDEN_SIG = "YpwUWh3b4VElVLY8+sl9K3S7UUjs94Ph133bB8H1E7CiNHModZSc4iBU9Iqv4UHRMpvawj0E8aa6GSAymveXAg==";
const privateKey = createPrivateKey({ key: Buffer.from(PKCS8_PREFIX + SEED, "hex"), format: "der", type: "pkcs8" });

describe("pinned format (a change here breaks every existing signature and key id)", () => {
  it("key id and .pub line of the RFC 8032 test key", () => {
    const line = formatPublicKey(privateKey, "rfc8032-test-1");
    expect(line).toBe(`ed25519 ${Buffer.from(PUBLIC, "hex").toString("base64")} rfc8032-test-1\n`);
    expect(keyId(privateKey)).toBe("ed25519:21fe31dfa154a261626bf854046fd227");
    expect(parsePublicKey(line, "t.pub").key_id).toBe(keyId(privateKey));
  });

  it("the signature covers RFC 8785 bytes of the object without `sign`", () => {
    const signed = signDocument({ b: [1, 2.5, "é"], a: { z: null, y: true } }, privateKey);
    // Ed25519 is deterministic: same key, same bytes → same signature.
    expect(signed.sign.sig).toBe(GOLDEN_SIG);
    expect(signed.sign.key_id).toBe("ed25519:21fe31dfa154a261626bf854046fd227");
    const store = emptyTrustStore();
    store.keys.set(keyId(privateKey), { ...parsePublicKey(formatPublicKey(privateKey), "t"), file: "t" });
    expect(verifyDocument(signed, store).status).toBe("valid");
  });
});

describe("trust store hygiene", () => {
  it("a symlinked .pub trusts nothing and is reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "rtt-trust-link-"));
    try {
      const registry = join(dir, "registry");
      const keys = trustLayout(registry).keys;
      const outside = join(dir, "outside.pub");
      writeFileSync(outside, formatPublicKey(privateKey));
      mkdirSync(keys, { recursive: true });
      symlinkSync(outside, join(keys, "linked.pub"));
      const store = loadTrustStore(registry);
      expect(store.keys.size).toBe(0);
      expect(store.problems[0]?.reason).toMatch(/symlink/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

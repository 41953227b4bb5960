import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  canonicalText,
  enforceTrust,
  FabricError,
  formatPublicKey,
  generateKeyPair,
  isStrict,
  KEY_ID_RE,
  keyId,
  loadTrustStore,
  parsePublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
  revokeKey,
  signDocument,
  trustKey,
  verifyDocument,
  writeKeyPair,
} from "@rtt/fabric";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let dir: string;
let registry: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rtt-trust-"));
  registry = join(dir, "registry");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plan = {
  plan_id: "sha256:0000",
  routes_add: [{ from: "rtt://ui/hook/refresh", to: "rtt://core/api/metrics", lane: "shm" }],
  placement: { "rtt://ui/hook/refresh": "node0", "rtt://core/api/metrics": "node0" },
};

/** A key pair written to disk and trusted by the test registry. */
function trustedSigner(name = "alice") {
  const pair = generateKeyPair();
  const files = writeKeyPair(pair, join(dir, "keys"), name);
  trustKey(registry, files.publicKeyFile);
  return { pair, files };
}

describe("keys", () => {
  it("key_id is ed25519: + 32 hex of SHA-256 of the raw key, the same through the .pub text and PEM", () => {
    const pair = generateKeyPair();
    expect(pair.key_id).toMatch(KEY_ID_RE);
    const line = formatPublicKey(pair.publicKey, "alice@laptop");
    expect(line).toMatch(/^ed25519 [A-Za-z0-9+/]{43}= alice@laptop\n$/);
    const parsed = parsePublicKey(line, "x.pub");
    expect(parsed.key_id).toBe(pair.key_id);
    expect(parsed.comment).toBe("alice@laptop");
    const pem = String(pair.publicKey.export({ format: "pem", type: "spki" }));
    expect(parsePublicKey(pem, "x.pem").key_id).toBe(pair.key_id);
    expect(keyId(pair.privateKey)).toBe(pair.key_id);
  });

  it("writes the private key 0600 as PKCS#8 PEM, refuses to overwrite it, and refuses a private key as .pub", () => {
    const pair = generateKeyPair();
    const files = writeKeyPair(pair, join(dir, "keys"), "k");
    expect(statSync(files.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.privateKeyFile, "utf8")).toContain("BEGIN PRIVATE KEY");
    expect(keyId(readPrivateKeyFile(files.privateKeyFile))).toBe(pair.key_id);
    expect(readPublicKeyFile(files.publicKeyFile).key_id).toBe(pair.key_id);
    expect(() => writeKeyPair(generateKeyPair(), join(dir, "keys"), "k")).toThrow(/already exists/);
    expect(() => readPublicKeyFile(files.privateKeyFile)).toThrow(/private key/);
  });

  it("refuses a public key that is not ed25519 or not 32 bytes", () => {
    expect(() => parsePublicKey("ed25519 AAAA", "bad.pub")).toThrow(/bad\.pub/);
    expect(() => parsePublicKey("ssh-rsa AAAAB3Nza", "rsa.pub")).toThrow(FabricError);
  });
});

describe("sign and verify", () => {
  it("round-trips, and the signature object is the seed's shape", () => {
    const { pair } = trustedSigner();
    const signed = signDocument(plan, pair.privateKey);
    expect(signed.sign).toEqual({
      alg: "ed25519",
      key_id: pair.key_id,
      sig: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
    });
    expect(plan).not.toHaveProperty("sign");
    const r = verifyDocument(signed, loadTrustStore(registry));
    expect(r).toMatchObject({ status: "valid", key_id: pair.key_id });
  });

  it("one signature has one spelling: setting the spare bits of the last base64 character is refused", () => {
    const { pair } = trustedSigner();
    const signed = signDocument(plan, pair.privateKey);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const last = alphabet.indexOf(signed.sign.sig[85]!);
    for (let bits = 1; bits < 16; bits++) {
      const sig = `${signed.sign.sig.slice(0, 85)}${alphabet[last ^ bits]}==`;
      expect(Buffer.from(sig, "base64").equals(Buffer.from(signed.sign.sig, "base64"))).toBe(true);
      const r = verifyDocument({ ...signed, sign: { ...signed.sign, sig } }, loadTrustStore(registry));
      expect(r.status).toBe("bad_signature");
    }
  });

  it("re-signing replaces the old signature and the signature does not cover itself", () => {
    const { pair } = trustedSigner();
    const other = trustedSigner("bob").pair;
    const twice = signDocument(signDocument(plan, pair.privateKey), other.privateKey);
    expect(twice.sign.key_id).toBe(other.key_id);
    expect(verifyDocument(twice, loadTrustStore(registry)).status).toBe("valid");
  });

  it("another key order or whitespace of the signed document still verifies (canonical JSON)", () => {
    const { pair } = trustedSigner();
    const signed = signDocument(plan, pair.privateKey);
    const reordered = JSON.parse(
      JSON.stringify(
        { sign: signed.sign, placement: signed.placement, routes_add: signed.routes_add, plan_id: signed.plan_id },
        null,
        7,
      ),
    );
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(signed));
    expect(canonicalText(reordered)).toBe(canonicalText(signed));
    expect(verifyDocument(reordered, loadTrustStore(registry)).status).toBe("valid");
  });

  it("a changed byte anywhere is bad_signature", () => {
    const { pair } = trustedSigner();
    const store = loadTrustStore(registry);
    const text = JSON.stringify(signDocument(plan, pair.privateKey));
    const tampered = JSON.parse(text.replace("node0", "node1"));
    expect(verifyDocument(tampered, store)).toMatchObject({ status: "bad_signature", key_id: pair.key_id });
    // A flipped bit inside the signature itself.
    const signed = signDocument(plan, pair.privateKey);
    const sig = Buffer.from(signed.sign.sig, "base64");
    sig[10] = (sig[10] ?? 0) ^ 1;
    const badSig = { ...signed, sign: { ...signed.sign, sig: sig.toString("base64") } };
    expect(verifyDocument(badSig, store).status).toBe("bad_signature");
  });

  it("a malformed sign member is bad_signature with a reason, not an exception", () => {
    const store = loadTrustStore(registry);
    const cases: Array<[unknown, RegExp]> = [
      ["x", /not an object/],
      [{ alg: "rsa", key_id: "k", sig: "s" }, /alg/],
      [{ alg: "ed25519", sig: "s" }, /key_id/],
      [{ alg: "ed25519", key_id: "k", sig: "c2ln" }, /64 bytes/],
      [{ alg: "ed25519", key_id: "k", sig: "s", extra: 1 }, /unknown member/],
    ];
    for (const [sign, reason] of cases) {
      const r = verifyDocument({ ...plan, sign }, store);
      expect(r.status).toBe("bad_signature");
      expect(r.reason).toMatch(reason);
    }
    expect(() => verifyDocument([1], store)).toThrow(/not a JSON object/);
  });

  it("unsigned and unknown_key", () => {
    const store = loadTrustStore(registry);
    expect(verifyDocument(plan, store).status).toBe("unsigned");
    const stranger = generateKeyPair();
    expect(verifyDocument(signDocument(plan, stranger.privateKey), store)).toMatchObject({
      status: "unknown_key",
      key_id: stranger.key_id,
    });
  });
});

describe("trust store and revocation", () => {
  it("trust names the file by key id, is idempotent, and ignores the .pub's original name", () => {
    const pair = generateKeyPair();
    const files = writeKeyPair(pair, join(dir, "keys"), "whatever");
    const first = trustKey(registry, files.publicKeyFile);
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(registry, "trust", "keys", `${pair.key_id.replace(":", "-")}.pub`));
    expect(trustKey(registry, files.publicKeyFile).created).toBe(false);
    expect([...loadTrustStore(registry).keys.keys()]).toEqual([pair.key_id]);
  });

  it("a revoked key's signatures stop verifying, and revoked beats trusted", () => {
    const { pair, files } = trustedSigner();
    const signed = signDocument(plan, pair.privateKey);
    expect(verifyDocument(signed, loadTrustStore(registry)).status).toBe("valid");
    const rev = revokeKey(registry, pair.key_id, "laptop stolen");
    expect(rev.created).toBe(true);
    const store = loadTrustStore(registry);
    expect(store.keys.has(pair.key_id)).toBe(true);
    expect(verifyDocument(signed, store)).toMatchObject({
      status: "revoked",
      reason: expect.stringMatching(/laptop stolen/),
    });
    expect(() => enforceTrust(signed, "plan.json", { strict: false, store })).toThrow(/plan\.json: revoked/);
    // Trusting the same .pub again does not undo the revocation.
    expect(() => trustKey(registry, files.publicKeyFile)).toThrow(/revoked/);
    expect(revokeKey(registry, pair.key_id, "again").created).toBe(false);
    const list = JSON.parse(readFileSync(join(registry, "trust", "revoked.json"), "utf8"));
    expect(list.revoked).toEqual([{ key_id: pair.key_id, reason: "laptop stolen", revoked_at: expect.any(String) }]);
  });

  it("a key can be revoked before it was ever trusted", () => {
    const pair = generateKeyPair();
    revokeKey(registry, pair.key_id, "leaked");
    expect(verifyDocument(signDocument(plan, pair.privateKey), loadTrustStore(registry)).status).toBe("revoked");
  });

  it("a broken .pub in the store is a listed problem that trusts nothing; a bad revoked.json throws", () => {
    const { pair } = trustedSigner();
    writeFileSync(join(registry, "trust", "keys", "junk.pub"), "not a key\n");
    const store = loadTrustStore(registry);
    expect(store.keys.size).toBe(1);
    expect(store.problems).toEqual([{ file: join(registry, "trust", "keys", "junk.pub"), reason: expect.any(String) }]);
    expect(verifyDocument(signDocument(plan, pair.privateKey), store).status).toBe("valid");
    writeFileSync(join(registry, "trust", "revoked.json"), '{"revoked": [{"key_id": "nope"}]}');
    expect(() => loadTrustStore(registry)).toThrow(/revoked\.json/);
  });

  it("refuses a revocation that is not a key id", () => {
    expect(() => revokeKey(registry, "alice")).toThrow(/not a key id/);
  });
});

describe("strict mode", () => {
  it("strict refuses unsigned and unknown keys with an error naming the object and the reason", () => {
    const store = loadTrustStore(registry);
    const where = "manifests/mcp.memory.json";
    let err: unknown;
    try {
      enforceTrust(plan, where, { strict: true, store });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FabricError);
    expect((err as FabricError).code).toBe("RTT_FABRIC_UNTRUSTED");
    expect((err as FabricError).where).toBe(where);
    expect((err as FabricError).message).toMatch(/^manifests\/mcp\.memory\.json: unsigned \(strict mode\): no sign/);
    const stranger = signDocument(plan, generateKeyPair().privateKey);
    expect(() => enforceTrust(stranger, where, { strict: true, store })).toThrow(/unknown_key/);
  });

  it("outside strict mode unsigned and unknown keys pass with their status, a bad signature never does", () => {
    const { pair } = trustedSigner();
    const store = loadTrustStore(registry);
    expect(enforceTrust(plan, "p", { strict: false, store }).status).toBe("unsigned");
    const stranger = signDocument(plan, generateKeyPair().privateKey);
    expect(enforceTrust(stranger, "p", { strict: false, store }).status).toBe("unknown_key");
    const tampered = { ...signDocument(plan, pair.privateKey), plan_id: "sha256:1111" };
    expect(() => enforceTrust(tampered, "p", { strict: false, store })).toThrow(/p: bad_signature/);
    expect(enforceTrust(signDocument(plan, pair.privateKey), "p", { strict: true, store }).status).toBe("valid");
  });

  it("isStrict: the flag or policy.json's strict; the flag cannot loosen the policy; a bad policy throws", () => {
    const policyPath = join(dir, "policy.json");
    expect(isStrict({ policyPath })).toBe(false);
    expect(isStrict({ flag: true, policyPath })).toBe(true);
    writeFileSync(policyPath, '{"strict": false, "acl": {}}');
    expect(isStrict({ policyPath })).toBe(false);
    writeFileSync(policyPath, '{"strict": true, "acl": {"default": "allow"}}');
    expect(isStrict({ policyPath })).toBe(true);
    expect(isStrict({ flag: false, policyPath })).toBe(true);
    writeFileSync(policyPath, '{"strict": "yes"}');
    expect(() => isStrict({ policyPath })).toThrow(/policy\.json.*strict/);
    writeFileSync(policyPath, "{strict");
    expect(() => isStrict({ policyPath })).toThrow(FabricError);
    mkdirSync(join(dir, "empty"));
    expect(isStrict({ policyPath: join(dir, "empty", "policy.json") })).toBe(false);
  });
});

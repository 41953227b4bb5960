import { checkToken, emptyTrustStore, generateKeyPair, issueToken, NonceCache } from "@rtt/fabric";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const SADDR = "rtt://core/api/metrics";
const pair = generateKeyPair();
const store = emptyTrustStore();
store.keys.set(pair.key_id, { key_id: pair.key_id, publicKey: pair.publicKey, comment: "", file: "" });
const clock = () => Date.parse("2025-10-24T00:00:00Z");

describe("a token with any byte changed is refused", () => {
  it("one byte of the JSON text replaced by any other byte", () => {
    const token = issueToken(
      { saddr: SADDR, verb: "tx", scopes: ["metrics.read"], ttlMs: 60_000 },
      pair.privateKey,
      clock,
    );
    const bytes = Buffer.from(JSON.stringify(token), "utf8");
    const want = { saddr: SADDR, verb: "tx" as const, scope: "metrics.read" };
    // The untouched text is accepted (fresh cache each time, so replay is not what refuses the tampered ones).
    expect(checkToken(bytes, want, { store, clock, nonces: new NonceCache() }).ok).toBe(true);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const t = Buffer.from(bytes);
        t[at] = (t[at]! + delta) & 0xff;
        const r = checkToken(t, want, { store, clock, nonces: new NonceCache() });
        expect(r.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("every single position, each changed once (exhaustive over positions)", () => {
    const token = issueToken({ saddr: SADDR, verb: "rx", scopes: ["a", "b.c"], ttlMs: 60_000 }, pair.privateKey, clock);
    const bytes = Buffer.from(JSON.stringify(token), "utf8");
    for (let at = 0; at < bytes.length; at++) {
      const t = Buffer.from(bytes);
      t[at] = t[at]! ^ 0x01;
      const r = checkToken(t, { saddr: SADDR, verb: "rx" }, { store, clock, nonces: new NonceCache() });
      expect(r.ok, `byte ${at} (${String.fromCharCode(bytes[at]!)})`).toBe(false);
    }
  });
});

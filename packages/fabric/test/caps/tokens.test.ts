import {
  type CapabilityToken,
  checkToken,
  emptyTrustStore,
  formatTokenTime,
  generateKeyPair,
  issueToken,
  type KeyPair,
  NonceCache,
  parseTokenTime,
  schemaProblems,
  signDocument,
  TOKEN_REFUSALS,
  type TokenCheckContext,
  TokenCounters,
  type TrustStore,
} from "@rtt/fabric";
import { describe, expect, it } from "vitest";

const SADDR = "rtt://core/api/metrics";
const T0 = Date.parse("2025-10-24T00:00:00Z");

function trusted(...pairs: KeyPair[]): TrustStore {
  const store = emptyTrustStore();
  for (const p of pairs) store.keys.set(p.key_id, { key_id: p.key_id, publicKey: p.publicKey, comment: "", file: "" });
  return store;
}

/** A fake clock the test moves by hand. */
function fakeClock(start = T0) {
  let now = start;
  const clock = () => now;
  const set = (t: number) => {
    now = t;
  };
  return Object.assign(clock, { set, advance: (ms: number) => set(now + ms) });
}

const alice = generateKeyPair();
const mallory = generateKeyPair();

function setup(opts: { capacity?: number; leewayMs?: number } = {}) {
  const clock = fakeClock();
  const ctx: TokenCheckContext = {
    store: trusted(alice),
    nonces: new NonceCache({ capacity: opts.capacity ?? 1000 }),
    clock,
    counters: new TokenCounters(),
    ...(opts.leewayMs !== undefined ? { leewayMs: opts.leewayMs } : {}),
  };
  const issue = (over: Partial<{ saddr: string; verb: "open" | "tx" | "rx" | "close"; scopes: string[] }> = {}) =>
    issueToken(
      { saddr: SADDR, verb: "tx", scopes: ["metrics.read"], ttlMs: 5 * 60_000, ...over },
      alice.privateKey,
      clock,
    );
  return { clock, ctx, issue };
}

describe("issueToken", () => {
  it("writes exactly the seed's members plus the fabric's sign, valid against token.schema.json", () => {
    const { issue } = setup();
    const t = issue();
    expect(Object.keys(t).sort()).toEqual(["exp", "nonce", "saddr", "scopes", "sign", "verb"]);
    expect(t).toMatchObject({ saddr: SADDR, verb: "tx", scopes: ["metrics.read"], exp: "2025-10-24T00:05:00Z" });
    expect(t.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t.nonce, "base64url")).toHaveLength(32);
    expect(t.sign).toMatchObject({ alg: "ed25519", key_id: alice.key_id });
    expect(schemaProblems("token", t)).toEqual([]);
    expect(issue().nonce).not.toBe(t.nonce);
  });

  it("refuses bad requests", () => {
    const k = alice.privateKey;
    const ok = { saddr: SADDR, verb: "tx" as const, scopes: [], ttlMs: 1000 };
    expect(() => issueToken({ ...ok, saddr: "http://x/y" }, k)).toThrow(/not a fabric address/);
    expect(() => issueToken({ ...ok, verb: "write" as "tx" }, k)).toThrow(/verb must be/);
    expect(() => issueToken({ ...ok, scopes: ["a b"] }, k)).toThrow(/bad scope/);
    expect(() => issueToken({ ...ok, ttlMs: 0 }, k)).toThrow(/ttl/);
    expect(() => issueToken({ ...ok, ttlMs: 25 * 3600_000 }, k)).toThrow(/ttl/);
  });
});

describe("checkToken", () => {
  it("accepts a fresh token for its address, verb and scope", () => {
    const { ctx, issue } = setup();
    const t = issue();
    const r = checkToken(t, { saddr: SADDR, verb: "tx", scope: "metrics.read" }, ctx);
    expect(r).toMatchObject({ ok: true, key_id: alice.key_id, expiresAt: T0 + 300_000 });
  });

  it("accepts the token as JSON text (any key order and whitespace)", () => {
    const { ctx, issue } = setup();
    const t = issue();
    const text = JSON.stringify(Object.fromEntries(Object.entries(t).reverse()), null, 2);
    expect(checkToken(text, { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
  });

  it("refuses a replayed nonce, and spends the nonce only when accepted", () => {
    const { ctx, issue } = setup();
    const t = issue();
    expect(checkToken(t, { saddr: SADDR, verb: "rx" }, ctx)).toMatchObject({ ok: false, reason: "wrong_verb" });
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ ok: false, reason: "replayed" });
    expect(checkToken(issue(), { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
  });

  it("refuses at and after exp, with a fake clock; leeway extends acceptance and the nonce's stay", () => {
    const { clock, ctx, issue } = setup();
    const t = issue();
    clock.advance(300_000 - 1);
    const early = issue();
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    clock.advance(1);
    expect(checkToken(issue(), { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    const { clock: c2, ctx: ctx2 } = setup();
    c2.set(T0 + 300_000);
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx2)).toMatchObject({ ok: false, reason: "expired" });
    const { clock: c3, ctx: ctx3 } = setup({ leewayMs: 2000 });
    c3.set(T0 + 301_999);
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx3).ok).toBe(true);
    c3.set(T0 + 302_000);
    expect(checkToken(early, { saddr: SADDR, verb: "tx" }, ctx3).ok).toBe(true); // early expires at +599,999
    expect(ctx3.nonces.size).toBe(1); // t's nonce left with its token (exp + leeway)
  });

  it("a clock stepped back cannot revive a token whose nonce was evicted", () => {
    const { clock, ctx, issue } = setup();
    const t = issue();
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    clock.advance(400_000);
    checkToken(issue(), { saddr: SADDR, verb: "tx" }, ctx); // evicts t's nonce
    expect(ctx.nonces.has(t.nonce)).toBe(false);
    clock.set(T0);
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ ok: false, reason: "expired" });
  });

  it("refuses wrong address, verb and scope", () => {
    const { ctx, issue } = setup();
    const t = issue({ scopes: ["metrics.read", "metrics.list"] });
    expect(checkToken(t, { saddr: "rtt://core/api/other", verb: "tx" }, ctx)).toMatchObject({ reason: "wrong_saddr" });
    expect(checkToken(t, { saddr: SADDR, verb: "open" }, ctx)).toMatchObject({ reason: "wrong_verb" });
    expect(checkToken(t, { saddr: SADDR, verb: "tx", scope: "metrics.write" }, ctx)).toMatchObject({
      reason: "wrong_scope",
    });
    expect(checkToken(t, { saddr: SADDR, verb: "tx", scope: ["metrics.read", "metrics.x"] }, ctx)).toMatchObject({
      reason: "wrong_scope",
    });
    expect(checkToken(t, { saddr: SADDR, verb: "tx", scope: ["metrics.list", "metrics.read"] }, ctx).ok).toBe(true);
  });

  it("refuses forged, untrusted, revoked and re-signed tokens", () => {
    const { ctx, clock, issue } = setup();
    const t = issue();
    const forged = { ...t, scopes: ["admin"] };
    expect(checkToken(forged, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "bad_signature" });
    const byMallory = issueToken({ saddr: SADDR, verb: "tx", scopes: [], ttlMs: 1000 }, mallory.privateKey, clock);
    expect(checkToken(byMallory, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "untrusted" });
    // Mallory re-signs alice's token under alice's key id: the signature does not match alice's key.
    const relabelled = { ...byMallory, sign: { ...byMallory.sign, key_id: alice.key_id } };
    expect(checkToken(relabelled, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "bad_signature" });
    const revoked = { ...ctx, store: trusted(alice) };
    revoked.store.revoked.set(alice.key_id, {
      key_id: alice.key_id,
      reason: "lost",
      revoked_at: "2025-01-01T00:00:00Z",
    });
    expect(checkToken(issue(), { saddr: SADDR, verb: "tx" }, revoked)).toMatchObject({ reason: "untrusted" });
  });

  it("refuses malformed input without throwing", () => {
    const { ctx, issue } = setup();
    const t = issue();
    const { sign: _s, ...unsigned } = t;
    const bad: unknown[] = [
      null,
      42,
      "not json",
      "{}",
      "x".repeat(9000),
      [],
      unsigned,
      { ...t, extra: 1 },
      { ...t, verb: "write" },
      { ...t, exp: "2025-02-30T00:00:00Z" },
      { ...t, exp: "2025-10-24 00:05:00Z" },
      { ...t, nonce: `${t.nonce.slice(0, 42)}B` }, // spare bits set: not the canonical encoding
      { ...t, scopes: ["a", "a"] },
      { ...t, sign: { ...t.sign, alg: "rsa" } },
      `{"__proto__":{}}`,
    ];
    for (const b of bad)
      expect(checkToken(b, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "malformed" });
    // The signature's spare bits: base64 of 64 bytes leaves 4 unused bits in the 86th character.
    const sig = t.sign.sig;
    const c = sig[85]!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const twin = `${sig.slice(0, 85)}${alphabet[alphabet.indexOf(c) ^ 1]}==`;
    const r = checkToken({ ...t, sign: { ...t.sign, sig: twin } }, { saddr: SADDR, verb: "tx" }, ctx);
    expect(r.ok).toBe(false);
  });

  it("refuses tokens expiring further ahead than maxTtlMs (their nonce would be held too long)", () => {
    const { ctx, clock } = setup();
    const t = issueToken({ saddr: SADDR, verb: "tx", scopes: [], ttlMs: 3600_000 }, alice.privateKey, clock);
    expect(checkToken(t, { saddr: SADDR, verb: "tx" }, { ...ctx, maxTtlMs: 60_000 })).toMatchObject({
      reason: "ttl_too_long",
    });
    // A hand-made token with a far exp, signed by a trusted key.
    const far = signDocument({ ...t, exp: "2099-01-01T00:00:00Z" }, alice.privateKey) as CapabilityToken;
    expect(checkToken(far, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "ttl_too_long" });
  });

  it("the nonce cache is bounded: expired nonces are evicted, and when full new tokens are refused", () => {
    const { ctx, clock, issue } = setup({ capacity: 3 });
    for (let i = 0; i < 3; i++) expect(checkToken(issue(), { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    const fourth = issue();
    expect(checkToken(fourth, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "nonce_cache_full" });
    expect(ctx.nonces.size).toBe(3);
    clock.advance(300_000); // the first three expire
    const fifth = issue();
    expect(checkToken(fifth, { saddr: SADDR, verb: "tx" }, ctx).ok).toBe(true);
    expect(ctx.nonces.size).toBe(1);
    // The fourth was never accepted and is now expired.
    expect(checkToken(fourth, { saddr: SADDR, verb: "tx" }, ctx)).toMatchObject({ reason: "expired" });
  });

  it("counts every outcome by reason", () => {
    const { ctx, issue } = setup();
    const t = issue();
    checkToken(t, { saddr: SADDR, verb: "tx" }, ctx);
    checkToken(t, { saddr: SADDR, verb: "tx" }, ctx);
    checkToken(t, { saddr: SADDR, verb: "tx" }, ctx);
    checkToken("nope", { saddr: SADDR, verb: "tx" }, ctx);
    checkToken(issue(), { saddr: SADDR, verb: "close" }, ctx);
    const snap = ctx.counters!.snapshot();
    expect(Object.keys(snap)).toEqual(["accepted", ...TOKEN_REFUSALS]);
    expect(snap).toMatchObject({ accepted: 1, replayed: 2, malformed: 1, wrong_verb: 1, expired: 0 });
  });
});

describe("token times", () => {
  it("parses RFC 3339 with offsets and fractions, and refuses impossible times", () => {
    expect(parseTokenTime("2025-10-24T00:05:00Z")).toBe(Date.parse("2025-10-24T00:05:00Z"));
    expect(parseTokenTime("2025-10-24T02:05:00.5+02:00")).toBe(Date.parse("2025-10-24T00:05:00.500Z"));
    expect(parseTokenTime("2025-10-23T23:05:00.123456789-01:00")).toBe(Date.parse("2025-10-24T00:05:00.123Z"));
    for (const bad of ["2025-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01T00:00:60Z"])
      expect(parseTokenTime(bad)).toBeUndefined();
    expect(parseTokenTime("2024-02-29T00:00:00Z")).toBeDefined();
    expect(formatTokenTime(T0)).toBe("2025-10-24T00:00:00Z");
    expect(formatTokenTime(T0 + 5)).toBe("2025-10-24T00:00:00.005Z");
  });
});

import { type KeyObject, randomBytes } from "node:crypto";
import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import { schemaProblems } from "../schemas.js";
import { type Signature, signDocument, verifyDocument } from "../trust/sign.js";
import type { TrustStore } from "../trust/store.js";
import type { NonceCache } from "./nonces.js";

/** The seed's verbs: every route operation is one of them. */
export const TOKEN_VERBS = ["open", "tx", "rx", "close"] as const;
export type TokenVerb = (typeof TOKEN_VERBS)[number];

/** The seed's capability token (spec/fabric/token.schema.json), signed with the fabric's `sign` member. */
export interface CapabilityToken {
  saddr: string;
  verb: TokenVerb;
  scopes: string[];
  /** RFC 3339 time, e.g. 2025-10-24T00:05:00Z. */
  exp: string;
  /** 32 random bytes, base64url without padding. */
  nonce: string;
  sign: Signature;
}

/** Milliseconds since the epoch; injectable so tests (and a daemon with its own time source) control expiry. */
export type Clock = () => number;

/**
 * Why a token was refused. Stable codes (metrics labels, logs, tests branch on them): add, never rename.
 * - `malformed`: not JSON, not the schema (including no `sign`), an impossible `exp`, a non-canonical nonce or sig;
 * - `bad_signature`: signed, but the signature does not match the content;
 * - `untrusted`: signed by a key not in the trust store, or revoked;
 * - `expired`: now ≥ exp (+ leeway);
 * - `ttl_too_long`: exp further ahead than the checker's `maxTtlMs` (bounds how long its nonce must be kept);
 * - `wrong_saddr`, `wrong_verb`, `wrong_scope`: a valid token for something else;
 * - `replayed`: its nonce was already accepted;
 * - `nonce_cache_full`: the replay cache holds its capacity of unexpired nonces (fail closed; nonces.ts).
 */
export const TOKEN_REFUSALS = [
  "malformed",
  "bad_signature",
  "untrusted",
  "expired",
  "ttl_too_long",
  "wrong_saddr",
  "wrong_verb",
  "wrong_scope",
  "replayed",
  "nonce_cache_full",
] as const;
export type TokenRefusal = (typeof TOKEN_REFUSALS)[number];

export type TokenCheck =
  | { ok: true; token: CapabilityToken; key_id: string; expiresAt: number }
  | { ok: false; reason: TokenRefusal; detail: string };

/** Longest lifetime issued and (by default) accepted: a token's nonce is held in the replay cache that long. */
export const MAX_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** Largest token text accepted (a real one is ~400 bytes). */
export const MAX_TOKEN_BYTES = 8 * 1024;

const SYMBOL_RE = /^rtt:\/\/[a-z0-9][a-z0-9._-]*(\/[A-Za-z0-9._~%-]+)+$/;
const SCOPE_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const EXP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Formats ms since the epoch as RFC 3339 UTC, without fractional seconds when they are zero (as the seed writes). */
export function formatTokenTime(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/**
 * Parses an RFC 3339 `exp` to ms since the epoch; undefined for anything impossible (month 13, Feb 30, hour 24, a
 * leap second, an offset beyond ±23:59). Fractions below a millisecond are cut off.
 */
export function parseTokenTime(text: string): number | undefined {
  const m = EXP_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(local);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  let offset = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offset = (m[9] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return local - offset;
}

export interface IssueRequest {
  saddr: string;
  verb: TokenVerb;
  scopes: string[];
  /** Lifetime from the clock's now; 1 ms … MAX_TOKEN_TTL_MS. */
  ttlMs: number;
}

/**
 * A new signed token for one operation on one address, valid for `ttlMs` from `clock()`. The nonce is 32 bytes from
 * the OS CSPRNG. Throws RTT_FABRIC_USAGE for a bad request (an address that is not `rtt://…`, an unknown verb, a
 * scope outside `[A-Za-z0-9._:-]`, a lifetime out of range).
 */
export function issueToken(req: IssueRequest, key: KeyObject, clock: Clock = Date.now): CapabilityToken {
  if (typeof req.saddr !== "string" || req.saddr.length > 512 || !SYMBOL_RE.test(req.saddr))
    throw new FabricError("RTT_FABRIC_USAGE", `not a fabric address: ${JSON.stringify(req.saddr)} (rtt://domain/path)`);
  if (!(TOKEN_VERBS as readonly string[]).includes(req.verb))
    throw new FabricError("RTT_FABRIC_USAGE", `verb must be one of ${TOKEN_VERBS.join("|")}, not ${req.verb}`);
  const scopes = [...new Set(req.scopes)];
  if (scopes.length > 64) throw new FabricError("RTT_FABRIC_USAGE", "at most 64 scopes");
  for (const s of scopes)
    if (typeof s !== "string" || s.length > 128 || !SCOPE_RE.test(s))
      throw new FabricError("RTT_FABRIC_USAGE", `bad scope ${JSON.stringify(s)} (letters, digits, . _ : -)`);
  if (!Number.isSafeInteger(req.ttlMs) || req.ttlMs < 1 || req.ttlMs > MAX_TOKEN_TTL_MS)
    throw new FabricError("RTT_FABRIC_USAGE", `ttl must be 1 ms … 24 h, not ${req.ttlMs} ms`);
  const doc = {
    saddr: req.saddr,
    verb: req.verb,
    scopes,
    exp: formatTokenTime(clock() + req.ttlMs),
    nonce: randomBytes(32).toString("base64url"),
  };
  return signDocument(doc, key) as CapabilityToken;
}

/** Accepted and refused tokens by reason: the daemon exports these as metrics (`rtt_fabric_tokens_total{result}`). */
export class TokenCounters {
  private readonly counts = new Map<"accepted" | TokenRefusal, number>();

  count(result: TokenCheck): void {
    const k = result.ok ? "accepted" : result.reason;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  get(key: "accepted" | TokenRefusal): number {
    return this.counts.get(key) ?? 0;
  }

  /** Every outcome, zeros included, in a fixed order: accepted first, then TOKEN_REFUSALS. */
  snapshot(): Record<"accepted" | TokenRefusal, number> {
    const out = { accepted: this.get("accepted") } as Record<"accepted" | TokenRefusal, number>;
    for (const r of TOKEN_REFUSALS) out[r] = this.get(r);
    return out;
  }
}

/** What the operation needs: the token must name exactly this address and verb and carry every scope asked for. */
export interface TokenWant {
  saddr: string;
  verb: TokenVerb;
  scope?: string | readonly string[];
}

export interface TokenCheckContext {
  store: TrustStore;
  nonces: NonceCache;
  clock?: Clock;
  counters?: TokenCounters;
  /** Clock skew tolerated past `exp` (default 0). Nonces are kept that much longer. */
  leewayMs?: number;
  /** Refuse tokens expiring further ahead than this (default MAX_TOKEN_TTL_MS). */
  maxTtlMs?: number;
}

const refuse = (reason: TokenRefusal, detail: string): TokenCheck => ({ ok: false, reason, detail });

/**
 * Decides one route operation's token: accepted (and its nonce remembered until it expires) or refused with a stable
 * reason. Never throws for bad input. Order: shape, signature and trust, time, address, verb, scopes, then replay —
 * the nonce is spent only by an accepted token, so presenting a token for the wrong route does not burn it.
 * `token` is the parsed JSON or its text (at most MAX_TOKEN_BYTES).
 */
export function checkToken(token: unknown, want: TokenWant, ctx: TokenCheckContext): TokenCheck {
  const result = decide(token, want, ctx);
  ctx.counters?.count(result);
  return result;
}

function decide(input: unknown, want: TokenWant, ctx: TokenCheckContext): TokenCheck {
  let doc = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
    if (Buffer.byteLength(text) > MAX_TOKEN_BYTES) return refuse("malformed", `over ${MAX_TOKEN_BYTES} bytes`);
    try {
      doc = parseJsonText(text, "token");
    } catch (e) {
      return refuse("malformed", (e as Error).message);
    }
  }
  const problems = schemaProblems("token", doc);
  if (problems.length > 0) {
    const p = problems[0]!;
    return refuse("malformed", `${p.path || "/"} ${p.message}`);
  }
  const t = doc as CapabilityToken;
  // The schema pins the alphabet; these pin the one encoding of the bytes, so no second string stands for the same
  // nonce (the replay key) or the same signature (a lenient base64 decoder ignores the last character's spare bits).
  if (Buffer.from(t.nonce, "base64url").toString("base64url") !== t.nonce)
    return refuse("malformed", "nonce is not canonical base64url of 32 bytes");
  if (Buffer.from(t.sign.sig, "base64").toString("base64") !== t.sign.sig)
    return refuse("malformed", "sign.sig is not canonical base64");
  const expMs = parseTokenTime(t.exp);
  if (expMs === undefined) return refuse("malformed", `exp ${JSON.stringify(t.exp)} is not a real RFC 3339 time`);

  const v = verifyDocument(t, ctx.store);
  if (v.status === "bad_signature") return refuse("bad_signature", v.reason);
  if (v.status !== "valid") return refuse(v.status === "unsigned" ? "malformed" : "untrusted", v.reason);

  const leeway = ctx.leewayMs ?? 0;
  const expiresAt = expMs + leeway;
  const now = ctx.nonces.now((ctx.clock ?? Date.now)());
  if (now >= expiresAt) return refuse("expired", `expired at ${t.exp}`);
  const maxTtl = ctx.maxTtlMs ?? MAX_TOKEN_TTL_MS;
  if (expMs - now > maxTtl) return refuse("ttl_too_long", `exp ${t.exp} is more than ${maxTtl} ms ahead`);

  if (t.saddr !== want.saddr) return refuse("wrong_saddr", `token is for ${t.saddr}, not ${want.saddr}`);
  if (t.verb !== want.verb) return refuse("wrong_verb", `token allows ${t.verb}, not ${want.verb}`);
  const scopes = want.scope === undefined ? [] : typeof want.scope === "string" ? [want.scope] : want.scope;
  for (const s of scopes) if (!t.scopes.includes(s)) return refuse("wrong_scope", `token lacks scope ${s}`);

  const added = ctx.nonces.add(t.nonce, expiresAt, now);
  if (added === "seen") return refuse("replayed", "nonce already used");
  if (added === "full") return refuse("nonce_cache_full", `replay cache holds ${ctx.nonces.capacity} live nonces`);
  return { ok: true, token: t, key_id: v.key_id ?? "", expiresAt };
}

import { sign as edSign, verify as edVerify, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { canonicalBytes } from "../canonical.js";
import { FabricError } from "../errors.js";
import { readJsonFile } from "../json-file.js";
import { assertSchema } from "../schemas.js";
import { keyId } from "./keys.js";
import type { TrustStore } from "./store.js";

/** The seed's signature object (spec/fabric/defs.schema.json#/$defs/signature). */
export interface Signature {
  alg: "ed25519";
  key_id: string;
  sig: string;
}

export type Signed<T extends object> = Omit<T, "sign"> & { sign: Signature };

export type VerifyStatus = "valid" | "unsigned" | "bad_signature" | "unknown_key" | "revoked";

export interface VerifyResult {
  status: VerifyStatus;
  key_id?: string;
  /** One sentence for people: why the status is what it is. */
  reason: string;
}

// Strict base64 of exactly 64 bytes: a lenient decoder would let many `sig` strings (and so many CAS hashes) stand for
// one signature.
const SIG_RE = /^[A-Za-z0-9+/]{86}==$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The bytes a signature covers: the RFC 8785 canonical JSON of the document without its `sign` member. */
export function signedBytes(doc: object): Buffer {
  const { sign: _sign, ...rest } = doc as Record<string, unknown>;
  return canonicalBytes(rest);
}

/** Returns a copy of `doc` with `sign` set (an existing `sign` is replaced). `doc` itself is not changed. */
export function signDocument<T extends object>(doc: T, privateKey: KeyObject): Signed<T> {
  if (!isObject(doc)) throw new FabricError("RTT_FABRIC_INVALID", "only a JSON object can be signed");
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "ed25519")
    throw new FabricError("RTT_FABRIC_INVALID", "signing needs an ed25519 private key");
  const sig = edSign(null, signedBytes(doc), privateKey).toString("base64");
  const { sign: _old, ...rest } = doc as Record<string, unknown>;
  return { ...rest, sign: { alg: "ed25519", key_id: keyId(privateKey), sig } } as Signed<T>;
}

/**
 * What a document's signature says, against one trust store. Never throws for a bad or missing signature (that is a
 * status); throws RTT_FABRIC_INVALID only when `doc` is not a JSON object. Revoked is checked before the signature,
 * so a revoked key reports `revoked` whether or not its signature would verify.
 */
export function verifyDocument(doc: unknown, store: TrustStore): VerifyResult {
  if (!isObject(doc)) throw new FabricError("RTT_FABRIC_INVALID", "not a JSON object");
  if (!Object.hasOwn(doc, "sign")) return { status: "unsigned", reason: "no sign member" };
  const s = doc.sign;
  if (!isObject(s)) return { status: "bad_signature", reason: "sign is not an object" };
  const extra = Object.keys(s).filter((k) => k !== "alg" && k !== "key_id" && k !== "sig");
  if (extra.length > 0)
    return { status: "bad_signature", reason: `sign has unknown member ${JSON.stringify(extra[0])}` };
  if (s.alg !== "ed25519") return { status: "bad_signature", reason: `unsupported alg ${JSON.stringify(s.alg)}` };
  if (typeof s.key_id !== "string" || s.key_id === "")
    return { status: "bad_signature", reason: "sign.key_id is missing" };
  const key_id = s.key_id;
  if (typeof s.sig !== "string" || !SIG_RE.test(s.sig))
    return { status: "bad_signature", key_id, reason: "sign.sig is not base64 of 64 bytes" };
  // 86 characters carry 516 bits for 512: the last one's 4 spare bits must be zero, or 16 strings would verify.
  if (Buffer.from(s.sig, "base64").toString("base64") !== s.sig)
    return { status: "bad_signature", key_id, reason: "sign.sig is not the canonical base64 of its bytes" };
  const revoked = store.revoked.get(key_id);
  if (revoked) return { status: "revoked", key_id, reason: `key ${key_id} is revoked: ${revoked.reason}` };
  const trusted = store.keys.get(key_id);
  if (!trusted) return { status: "unknown_key", key_id, reason: `key ${key_id} is not in the trust store` };
  const ok = edVerify(null, signedBytes(doc), trusted.publicKey, Buffer.from(s.sig, "base64"));
  return ok
    ? { status: "valid", key_id, reason: `signed by trusted key ${key_id}` }
    : { status: "bad_signature", key_id, reason: `signature by ${key_id} does not match the content` };
}

export interface TrustOptions {
  strict: boolean;
  store: TrustStore;
}

/**
 * The fabric's acceptance rule for a signed-or-not document (manifests, plans, views), returning the verification
 * when accepted. Throws RTT_FABRIC_UNTRUSTED naming `where` and the reason:
 * - always for `bad_signature` and `revoked`: a signature that is present but wrong is evidence of tampering or of a
 *   compromised key, so it is never accepted, strict or not;
 * - in strict mode for anything but `valid` (unsigned, unknown key).
 * Outside strict mode `unsigned` and `unknown_key` pass: an unknown key proves no more than no signature, which an
 * attacker could simply strip. Callers should show the returned reason as a warning.
 */
export function enforceTrust(doc: unknown, where: string, opts: TrustOptions): VerifyResult {
  const r = verifyDocument(doc, opts.store);
  if (r.status === "valid") return r;
  const refuse = r.status === "bad_signature" || r.status === "revoked" || opts.strict;
  if (refuse)
    throw new FabricError(
      "RTT_FABRIC_UNTRUSTED",
      `${r.status}${opts.strict ? " (strict mode)" : ""}: ${r.reason}`,
      where,
    );
  return r;
}

export interface StrictOptions {
  /** `--strict` on the command line. */
  flag?: boolean;
  /** Path of `.rtt/policy.json`; a missing file means no policy. */
  policyPath?: string;
}

/**
 * Strict when `--strict` is given or the policy says `"strict": true`. The flag can only tighten: a `--no-strict`
 * cannot override a policy that asks for strict mode. An unreadable or invalid policy throws (never falls back to lax).
 */
export function isStrict(opts: StrictOptions): boolean {
  if (opts.flag === true) return true;
  if (!opts.policyPath || !existsSync(opts.policyPath)) return false;
  const policy = readJsonFile(opts.policyPath);
  assertSchema("policy", policy, opts.policyPath);
  return (policy as { strict?: boolean }).strict === true;
}

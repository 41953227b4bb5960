import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { FabricError } from "./errors.js";

/**
 * RFC 8785 (JCS) canonical JSON of a value: sorted keys, ES number formatting, no whitespace. The identity of every
 * fabric object (CAS entries, views, plans) is the SHA-256 of these bytes, so the same content written with other key
 * order or whitespace is one object.
 */
export function canonicalText(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (e) {
    throw new FabricError("RTT_FABRIC_INVALID", `not canonicalizable JSON: ${(e as Error).message}`);
  }
  if (text === undefined) throw new FabricError("RTT_FABRIC_INVALID", "not a JSON value (undefined)");
  return text;
}

export const canonicalBytes = (value: unknown): Buffer => Buffer.from(canonicalText(value), "utf8");

export const sha256Hex = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The content address of a JSON value: lowercase hex SHA-256 of its canonical bytes. */
export const hashOf = (value: unknown): string => sha256Hex(canonicalBytes(value));

export const HASH_RE = /^[0-9a-f]{64}$/;

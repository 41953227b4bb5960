import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256Hex } from "../canonical.js";
import { FabricError } from "../errors.js";

/**
 * Ed25519 keys (spec/fabric/signatures.md). A public key file is one line, `ed25519 <base64 of the raw 32 bytes>
 * <comment>`, like ssh and minisign: it diffs, pastes into a review and carries no ASN.1 to get wrong. PEM SPKI is
 * read too, so keys made with openssl can be trusted as they are. Private keys are PEM PKCS#8 (what node and openssl
 * both read), written 0600.
 */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  key_id: string;
}

export const KEY_ID_RE = /^ed25519:[0-9a-f]{32}$/;
/** Where `rtt keys gen` writes and `rtt sign` looks by default: beside the registry, never in its trust store. */
export const DEFAULT_KEYS_DIR = join(".rtt", "keys");
export const DEFAULT_KEY_NAME = "default";

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PUB_LINE_RE = /^ed25519 ([A-Za-z0-9+/]{43}=)(?: (.*))?$/;

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, key_id: keyId(publicKey) };
}

/** The 32 raw bytes of an Ed25519 public key (the tail of its DER SPKI); a private key gives its public half. */
export function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== "ed25519")
    throw new FabricError("RTT_FABRIC_INVALID", `not an ed25519 key (${key.asymmetricKeyType ?? "secret"})`);
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const der = publicKey.export({ format: "der", type: "spki" });
  return der.subarray(der.length - 32);
}

/**
 * A key's fingerprint: `ed25519:` + the first 32 hex digits (128 bits) of SHA-256 over the raw 32-byte key. Computed
 * from the key bytes only, never from a file name or comment, so renaming or re-encoding a key keeps its id.
 */
export const keyId = (publicKey: KeyObject): string => `ed25519:${sha256Hex(rawPublicKey(publicKey)).slice(0, 32)}`;

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32)
    throw new FabricError("RTT_FABRIC_INVALID", `an ed25519 public key is 32 bytes, not ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** The one-line `.pub` text; the comment is for people (who, which machine) and is not part of the key id. */
export function formatPublicKey(publicKey: KeyObject, comment = ""): string {
  const c = comment.replace(/[\r\n]+/g, " ").trim();
  return `ed25519 ${rawPublicKey(publicKey).toString("base64")}${c ? ` ${c}` : ""}\n`;
}

export interface ParsedPublicKey {
  publicKey: KeyObject;
  key_id: string;
  comment: string;
}

/** Reads `.pub` text (the one-line form or PEM SPKI). Errors name `where`; a private key given by mistake is refused. */
export function parsePublicKey(text: string, where: string): ParsedPublicKey {
  const body = text.trim();
  if (body.includes("PRIVATE KEY"))
    throw new FabricError("RTT_FABRIC_INVALID", "this is a private key; trust the .pub beside it", where);
  let publicKey: KeyObject;
  let comment = "";
  const line = PUB_LINE_RE.exec(body);
  if (line) {
    publicKey = publicKeyFromRaw(Buffer.from(line[1] ?? "", "base64"));
    comment = line[2] ?? "";
  } else if (body.startsWith("-----BEGIN PUBLIC KEY-----")) {
    try {
      publicKey = createPublicKey({ key: body, format: "pem" });
    } catch (e) {
      throw new FabricError("RTT_FABRIC_INVALID", `bad PEM public key: ${(e as Error).message}`, where);
    }
    if (publicKey.asymmetricKeyType !== "ed25519")
      throw new FabricError("RTT_FABRIC_INVALID", `not an ed25519 key (${publicKey.asymmetricKeyType})`, where);
  } else {
    throw new FabricError(
      "RTT_FABRIC_INVALID",
      "not an ed25519 public key (expected `ed25519 <base64 32 bytes> [comment]` or PEM SPKI)",
      where,
    );
  }
  return { publicKey, key_id: keyId(publicKey), comment };
}

export function readPublicKeyFile(path: string): ParsedPublicKey {
  return parsePublicKey(readText(path), path);
}

/** Loads a PEM PKCS#8 Ed25519 private key. The message never quotes the file's bytes. */
export function readPrivateKeyFile(path: string): KeyObject {
  const text = readText(path);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem" });
  } catch {
    throw new FabricError("RTT_FABRIC_INVALID", "not a PEM private key", path);
  }
  if (key.asymmetricKeyType !== "ed25519")
    throw new FabricError("RTT_FABRIC_INVALID", `not an ed25519 key (${key.asymmetricKeyType})`, path);
  return key;
}

export interface WrittenKeyPair {
  key_id: string;
  privateKeyFile: string;
  publicKeyFile: string;
}

/**
 * Writes `<dir>/<name>.key` (0600, in a 0700 directory) and `<dir>/<name>.pub`. Existing files are never
 * overwritten: losing a signing key by a repeated `keys gen` cannot be undone.
 */
export function writeKeyPair(pair: KeyPair, dir: string, name: string, comment = name): WrittenKeyPair {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
    throw new FabricError("RTT_FABRIC_USAGE", `bad key name ${JSON.stringify(name)} (letters, digits, . _ -)`);
  // Only the keys directory itself is 0700: a recursive mode would also close `.rtt/` (and the registry) to readers.
  mkdirSync(dirname(dir), { recursive: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  const pem = pair.privateKey.export({ format: "pem", type: "pkcs8" });
  writeNew(privateKeyFile, String(pem), 0o600);
  writeNew(publicKeyFile, formatPublicKey(pair.publicKey, comment), 0o644);
  return { key_id: pair.key_id, privateKeyFile, publicKeyFile };
}

function writeNew(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, "wx", mode);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FabricError(
      "RTT_FABRIC_USAGE",
      err.code === "EEXIST" ? "already exists; choose another --name or --out" : err.message,
      path,
    );
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  // openSync's mode is masked by the umask; set it exactly so a permissive umask cannot widen a private key.
  chmodSync(path, mode);
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new FabricError("RTT_FABRIC_UNREADABLE", err.code === "ENOENT" ? "no such file" : err.message, path);
  }
}

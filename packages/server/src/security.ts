import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";

export const MIN_TOKEN_LENGTH = 16;

/** True for hosts that only accept connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h.startsWith("::ffff:")) return isLoopbackHost(h.slice(7));
  return false;
}

/** Reads a token file: first non-empty line, trimmed. Errors never include the token. */
export function loadToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  const token =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  checkToken(token, `token file ${path}`);
  return token;
}

export function checkToken(token: string, where = "token"): void {
  if (token.length < MIN_TOKEN_LENGTH)
    throw new Error(`${where}: the token must be at least ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new Error(`${where}: the token must not contain whitespace`);
}

/** Refuses a configuration that would expose write endpoints to the network without a token. */
export function checkExposure(host: string, token: string | undefined): void {
  if (!isLoopbackHost(host) && !token)
    throw new Error(
      `refusing to listen on non-loopback host ${host} without a token: pass --token-file (every API request then needs Authorization: Bearer)`,
    );
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time string equality for secrets (hashing both sides equalizes their lengths). */
export function secretEquals(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Constant-time comparison of the Authorization header with the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
  const ok = secretEquals(m ? m[1] : "", token);
  return ok && m !== null;
}

/** The challenge a 401 carries (RFC 6750). */
export const BEARER_CHALLENGE = { "www-authenticate": 'Bearer realm="rtt"' } as const;

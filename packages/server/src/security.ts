import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

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
  const ok = secretEquals(m?.[1] ?? "", token);
  return ok && m !== null;
}

/** The challenge a 401 carries (RFC 6750). */
export const BEARER_CHALLENGE = { "www-authenticate": 'Bearer realm="rtt"' } as const;

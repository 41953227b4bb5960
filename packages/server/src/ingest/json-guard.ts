// The byte scanner and the parse guards (depth, non-finite numbers, duplicate keys) live in @rtt/core's
// json-guard.ts, where the CTF line parser uses them too.

/** Canonical JSON (sorted keys, no whitespace): two documents are the same content iff these are equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

import type { IncomingHttpHeaders } from "node:http";

/** The media types request bodies may have: every write takes JSON or NDJSON, nothing a plain HTML form can send. */
export const JSON_TYPE = "application/json";
export const NDJSON_TYPES = ["application/x-ndjson", "application/ndjson", "application/jsonl"];
export const BODY_TYPES: readonly string[] = [JSON_TYPE, ...NDJSON_TYPES];

/** `application/json; charset=utf-8` → `application/json`; "" when absent. */
export function mediaType(headers: IncomingHttpHeaders): string {
  const [type = ""] = String(headers["content-type"] ?? "").split(";", 1);
  return type.trim().toLowerCase();
}

/** True when the request announces a body (a length above zero, or a chunked one). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const len = headers["content-length"];
  return len !== undefined && len !== "0";
}

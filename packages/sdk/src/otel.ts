/**
 * OpenTelemetry helpers: RTT metadata as span attributes (seed 001 "Tracing"). `@opentelemetry/api`
 * is an OPTIONAL peer: nothing here imports it statically, so the SDK stays dependency-free, and
 * annotateActiveSpan() simply returns false when the package is absent.
 */
import type { BeaconResponse } from "./types.js";

export type SpanAttributes = Record<string, string | number | boolean | string[]>;

export interface RttSpanContext {
  site: string;
  session?: string;
  event?: string;
  /** From a beacon answer: adds the structural fingerprint and drift state. */
  beacon?: Pick<BeaconResponse, "fingerprint" | "drift_state" | "drift">;
  profileVersion?: string;
}

/** Attribute names follow OTel conventions: a lowercase `rtt.` namespace, dot-separated. */
export function rttSpanAttributes(ctx: RttSpanContext): SpanAttributes {
  const attrs: SpanAttributes = { "rtt.site": ctx.site };
  if (ctx.session !== undefined) attrs["rtt.session"] = ctx.session;
  if (ctx.event !== undefined) attrs["rtt.event"] = ctx.event;
  if (ctx.profileVersion !== undefined) attrs["rtt.profile.version"] = ctx.profileVersion;
  if (ctx.beacon) {
    attrs["rtt.structure.fingerprint"] = ctx.beacon.fingerprint;
    attrs["rtt.drift.state"] = ctx.beacon.drift_state;
    if (ctx.beacon.drift.length > 0) attrs["rtt.drift.kinds"] = ctx.beacon.drift.map((d) => d.kind);
  }
  return attrs;
}

/** Anything with setAttributes — an OTel Span, or a test double. */
export interface SpanLike {
  setAttributes(attributes: SpanAttributes): unknown;
}

export function setRttSpanAttributes(span: SpanLike, ctx: RttSpanContext): SpanLike {
  span.setAttributes(rttSpanAttributes(ctx));
  return span;
}

/**
 * Adds RTT attributes to the active span when @opentelemetry/api is installed and a span is active.
 * Returns whether a span was annotated. Never throws.
 */
export async function annotateActiveSpan(ctx: RttSpanContext): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional peer.
    const name = "@opentelemetry/api";
    const api = (await import(name)) as { trace?: { getActiveSpan(): SpanLike | undefined } };
    const span = api.trace?.getActiveSpan();
    if (!span) return false;
    setRttSpanAttributes(span, ctx);
    return true;
  } catch {
    return false;
  }
}

// The OpenTelemetry helper: attribute names, and the optional @opentelemetry/api peer.
import { describe, expect, it } from "vitest";
import { annotateActiveSpan, rttSpanAttributes, type SpanAttributes, setRttSpanAttributes } from "../src/index.js";

describe("OpenTelemetry attributes", () => {
  it("maps RTT context to rtt.* attributes", () => {
    expect(
      rttSpanAttributes({
        site: "auth-service",
        session: "srv-1",
        event: "heartbeat",
        profileVersion: "1.0",
        beacon: {
          fingerprint: "0123456789abcdef",
          drift_state: "drifted",
          drift: [{ kind: "structure_change" } as never],
        },
      }),
    ).toEqual({
      "rtt.site": "auth-service",
      "rtt.session": "srv-1",
      "rtt.event": "heartbeat",
      "rtt.profile.version": "1.0",
      "rtt.structure.fingerprint": "0123456789abcdef",
      "rtt.drift.state": "drifted",
      "rtt.drift.kinds": ["structure_change"],
    });
  });

  it("sets them on anything span-like", () => {
    const seen: SpanAttributes[] = [];
    setRttSpanAttributes({ setAttributes: (a) => seen.push(a) }, { site: "s" });
    expect(seen).toEqual([{ "rtt.site": "s" }]);
  });

  it("annotateActiveSpan is a harmless no-op without an active span", async () => {
    // @opentelemetry/api is resolvable in this workspace, but no tracer is active.
    await expect(annotateActiveSpan({ site: "s" })).resolves.toBe(false);
  });
});

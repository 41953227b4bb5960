import { describe, expect, it } from "vitest";
import { BreakerSet } from "../../src/telemetry/breaker.js";
import { fabricRegistry, serveMetrics } from "../../src/telemetry/metrics.js";
import { FlightRecorder } from "../../src/telemetry/recorder.js";

describe("fabric metrics", () => {
  const table = [
    { route_id: 1, from: "rtt://app/x", to: "rtt://svc/a", lane: "uds" },
    { route_id: 2, from: "rtt://app/y", to: "rtt://svc/b", lane: "shm" },
  ];
  const rec = new FlightRecorder();
  const breakers = new BreakerSet(() => 0, { defaults: { max_requests: 1 } });
  breakers.setRoutes(table);
  for (let i = 0; i < 90; i++) rec.route(1).done(20_000); // 20 µs
  for (let i = 0; i < 10; i++) rec.route(1).done(3_000_000, i < 4 ? "RTT_FABRIC_DRIVER" : undefined); // 3 ms
  rec.route(2).drop("max_requests");
  breakers.get(2)?.admit();
  const reg = fabricRegistry({
    snapshot: () =>
      rec.snapshot({
        table,
        planId: "sha256:p",
        breakers: (id) => breakers.get(id)?.view(),
        laneDrops: { tcp: { bad_crc: 2 } },
      }),
  });

  it("latency histogram: cumulative buckets from the recorder, count and sum", async () => {
    const text = await reg.metrics();
    const l = '{route_id="1",from="rtt://app/x",to="rtt://svc/a",lane="uds"';
    expect(text).toContain(`rtt_fabric_route_latency_seconds_bucket${l},le="0.00001"} 0`);
    expect(text).toContain(`rtt_fabric_route_latency_seconds_bucket${l},le="0.000025"} 90`);
    expect(text).toContain(`rtt_fabric_route_latency_seconds_bucket${l},le="0.0025"} 90`);
    expect(text).toContain(`rtt_fabric_route_latency_seconds_bucket${l},le="0.005"} 100`);
    expect(text).toContain(`rtt_fabric_route_latency_seconds_bucket${l},le="+Inf"} 100`);
    expect(text).toContain(`rtt_fabric_route_latency_seconds_count${l}} 100`);
    const sum = Number(/rtt_fabric_route_latency_seconds_sum\{route_id="1"[^}]*\} (\S+)/.exec(text)?.[1]);
    expect(sum).toBeCloseTo(90 * 20e-6 + 10 * 3e-3, 3);
    expect(text).toContain(`rtt_fabric_route_calls_total${l}} 100`);
    expect(text).toContain(`rtt_fabric_route_errors_total${l},code="RTT_FABRIC_DRIVER"} 4`);
  });

  it("drops by reason (routes and lanes), breaker states and caps, plan info", async () => {
    const text = await reg.metrics();
    expect(text).toContain('rtt_fabric_drops_total{lane="shm",route_id="2",reason="max_requests"} 1');
    expect(text).toContain('rtt_fabric_drops_total{lane="tcp",route_id="none",reason="bad_crc"} 2');
    expect(text).toContain(
      'rtt_fabric_breaker_state{route_id="2",from="rtt://app/y",to="rtt://svc/b",lane="shm",state="closed"} 1',
    );
    expect(text).toContain(
      'rtt_fabric_breaker_state{route_id="2",from="rtt://app/y",to="rtt://svc/b",lane="shm",state="open"} 0',
    );
    expect(text).toContain(
      'rtt_fabric_breaker_cap_open{route_id="2",from="rtt://app/y",to="rtt://svc/b",cap="max_requests"} 1',
    );
    expect(text).toContain('rtt_fabric_plan_info{plan_id="sha256:p"} 1');
    expect(text).toMatch(/# TYPE rtt_fabric_route_latency_seconds histogram/);
    expect(text).not.toContain("rtt_fabric_plan_epoch"); // no WAL given
  });

  it("serves GET /metrics only", async () => {
    const s = await serveMetrics(reg, "127.0.0.1", 0);
    try {
      const ok = await fetch(s.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-type")).toMatch(/text\/plain/);
      expect(await ok.text()).toContain("rtt_fabric_route_calls_total");
      expect((await fetch(s.url.replace("/metrics", "/"))).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

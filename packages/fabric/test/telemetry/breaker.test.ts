import { describe, expect, it } from "vitest";
import { BreakerSet, breakerConfigFor, DEFAULT_BREAKER } from "../../src/telemetry/breaker.js";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const routes = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ route_id: i + 1, from: `rtt://app/a${i + 1}`, to: `rtt://svc/b${i + 1}` }));

describe("breakers: Envoy's caps", () => {
  it("each cap fails fast at its limit with the cap as the reason, and frees on release", () => {
    const clock = fakeClock();
    const set = new BreakerSet(clock.now, {
      defaults: { max_requests: 2, max_pending_requests: 1, max_connections: 1, max_retries: 1 },
    });
    set.setRoutes(routes(1));
    const b = set.get(1)!;
    expect(b.admit()).toBeUndefined();
    expect(b.admit()).toBeUndefined();
    expect(b.admit()).toBe("max_requests");
    expect(b.view().caps_open).toEqual(["max_requests"]);
    b.done(true);
    expect(b.admit()).toBeUndefined();

    expect(b.enterPending()).toBeUndefined();
    expect(b.enterPending()).toBe("max_pending_requests");
    b.exitPending();
    expect(b.enterPending()).toBeUndefined();

    expect(b.connect()).toBeUndefined();
    expect(b.connect()).toBe("max_connections");
    b.disconnect();
    expect(b.connect()).toBeUndefined();

    expect(b.enterRetry()).toBeUndefined();
    expect(b.enterRetry()).toBe("max_retries");
    b.exitRetry();

    const v = b.view();
    expect(v.overflow).toEqual({
      max_connections: 1,
      max_pending_requests: 1,
      max_requests: 1,
      max_retries: 1,
      ejected: 0,
    });
    expect(v.state).toBe("closed");
  });

  it("configuration: Envoy's defaults, then defaults, then matching rules in order", () => {
    expect(breakerConfigFor(undefined, "rtt://a/x", "rtt://b/y")).toEqual(DEFAULT_BREAKER);
    const policy = {
      defaults: { max_requests: 100 },
      routes: [
        { to: "rtt://svc/**", max_requests: 10, consecutive_errors: 2 },
        { from: "rtt://app/a1", max_requests: 5 },
      ],
    };
    expect(breakerConfigFor(policy, "rtt://app/a1", "rtt://svc/b1")).toMatchObject({
      max_requests: 5,
      consecutive_errors: 2,
      max_retries: 3,
    });
    expect(breakerConfigFor(policy, "rtt://app/a2", "rtt://other/b")).toMatchObject({
      max_requests: 100,
      consecutive_errors: 5,
    });
  });
});

describe("breakers: outlier ejection on a fake clock", () => {
  const policy = {
    defaults: { consecutive_errors: 3, base_ejection_time_ms: 1000, max_ejection_time_ms: 2500, interval_ms: 5000 },
    max_ejection_percent: 50,
  };

  it("trips after consecutive errors, stays open for base × ejections, half-opens, closes on a good probe", () => {
    const clock = fakeClock();
    const set = new BreakerSet(clock.now, policy);
    const ejected: number[] = [];
    set.onEject = (b) => ejected.push(b.routeId);
    set.setRoutes(routes(4));
    const b = set.get(1)!;
    const fail = () => {
      expect(b.admit()).toBeUndefined();
      b.done(false);
    };
    fail();
    fail();
    // a success in between resets the count
    expect(b.admit()).toBeUndefined();
    b.done(true);
    fail();
    fail();
    expect(b.view().state).toBe("closed");
    fail();
    expect(b.view()).toMatchObject({ state: "open", ejections: 1, ejections_total: 1, open_until: 1_001_000 });
    expect(ejected).toEqual([1]);
    expect(b.admit()).toBe("ejected");
    clock.advance(999);
    expect(b.admit()).toBe("ejected");
    clock.advance(1);
    expect(b.view().state).toBe("half-open");
    // half-open lets one probe through at a time
    expect(b.admit()).toBeUndefined();
    expect(b.admit()).toBe("ejected");
    b.done(true);
    expect(b.view().state).toBe("closed");
    expect(b.admit()).toBeUndefined();
    b.done(true);
    expect(b.view().overflow.ejected).toBe(3);
  });

  it("a failed probe re-ejects for twice as long, capped at max_ejection_time; healthy intervals decay the count", () => {
    const clock = fakeClock();
    const set = new BreakerSet(clock.now, policy);
    set.setRoutes(routes(4));
    const b = set.get(2)!;
    for (let i = 0; i < 3; i++) {
      b.admit();
      b.done(false);
    }
    expect(b.view().open_until).toBe(clock.now() + 1000);
    clock.advance(1000);
    expect(b.admit()).toBeUndefined();
    b.done(false); // the probe fails: ejected again, 2 × base
    expect(b.view()).toMatchObject({ state: "open", ejections: 2, open_until: clock.now() + 2000 });
    clock.advance(2000);
    b.admit();
    b.done(false); // 3 × base = 3000 > max 2500
    expect(b.view()).toMatchObject({ state: "open", ejections: 3, open_until: clock.now() + 2500 });
    clock.advance(2500);
    b.admit();
    b.done(true);
    expect(b.view()).toMatchObject({ state: "closed", ejections: 3 });
    clock.advance(5000 * 2);
    expect(b.view().ejections).toBe(1);
    // the next ejection lasts base × 2 (decayed count 1, plus this one)
    for (let i = 0; i < 3; i++) {
      b.admit();
      b.done(false);
    }
    expect(b.view()).toMatchObject({ state: "open", ejections: 2, open_until: clock.now() + 2000 });
  });

  it("max_ejection_percent: no more than that share of routes out at once (at least one), overflow counted", () => {
    const clock = fakeClock();
    const set = new BreakerSet(clock.now, { ...policy, max_ejection_percent: 50 });
    set.setRoutes(routes(4)); // 50 % of 4 = 2
    const trip = (id: number) => {
      const b = set.get(id)!;
      for (let i = 0; i < 3; i++) if (!b.admit()) b.done(false);
      return b.view();
    };
    expect(trip(1).state).toBe("open");
    expect(trip(2).state).toBe("open");
    const third = trip(3);
    expect(third.state).toBe("closed");
    expect(third.ejections_overflow).toBe(1);
    clock.advance(1000); // 1 and 2 are half-open now: no longer count as ejected
    expect(trip(3).state).toBe("open");

    const one = new BreakerSet(clock.now, { ...policy, max_ejection_percent: 0 });
    one.setRoutes(routes(3));
    const b = one.get(1)!;
    for (let i = 0; i < 3; i++) if (!b.admit()) b.done(false);
    expect(b.view().state).toBe("open"); // Envoy: at least one host may always be ejected
  });

  it("a new table keeps breakers of routes still served and drops the others", () => {
    const clock = fakeClock();
    const set = new BreakerSet(clock.now, policy);
    set.setRoutes(routes(3));
    const b1 = set.get(1)!;
    b1.admit();
    set.setRoutes(routes(1), { defaults: { max_requests: 1 } });
    expect(set.get(1)).toBe(b1);
    expect(set.get(2)).toBeUndefined();
    expect(b1.view().requests).toBe(1);
    expect(b1.admit()).toBe("max_requests");
  });
});

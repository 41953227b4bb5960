import { describe, expect, it } from "vitest";
import { emptyTrustStore, generateKeyPair, keyId, signDocument } from "../../src/index.js";
import { diffPlans, formatDiff } from "../../src/planner/diff.js";
import type { Plan } from "../../src/planner/types.js";
import { computePlanId, verifyPlan } from "../../src/planner/verify.js";

const A = "rtt://ui/hook/refresh";
const B = "rtt://core/api/metrics";
const C = "rtt://core/api/health";

function plan(): Plan {
  const body = {
    inputs: { hash: `sha256:${"1".repeat(64)}`, base: null },
    routes_add: [{ route_id: 1, from: A, to: B, lane: "shm" as const }],
    routes_remove: [],
    routes: [{ route_id: 1, from: A, to: B, lane: "shm" as const }],
    placement: { [A]: "node0", [B]: "node0" },
  };
  return { plan_id: computePlanId(body), ...body };
}

const pair = generateKeyPair();
const store = () => {
  const s = emptyTrustStore();
  s.keys.set(keyId(pair.publicKey), {
    key_id: keyId(pair.publicKey),
    publicKey: pair.publicKey,
    comment: "",
    file: "",
  });
  return s;
};

describe("verifyPlan", () => {
  it("accepts a plan whose plan_id matches; strict needs a trusted signature", () => {
    const p = plan();
    expect(verifyPlan(p, { strict: false, store: store() }).signature.status).toBe("unsigned");
    expect(() => verifyPlan(p, { strict: true, store: store() })).toThrow(
      expect.objectContaining({ code: "RTT_FABRIC_UNTRUSTED" }),
    );
    const signed = signDocument(p, pair.privateKey);
    expect(verifyPlan(signed, { strict: true, store: store() }).signature.status).toBe("valid");
    expect(() => verifyPlan(signed, { strict: true, store: emptyTrustStore() })).toThrow(/unknown_key/);
  });

  it("refuses a tampered plan (RTT_FABRIC_CORRUPT) before looking at the signature", () => {
    const signed = signDocument(plan(), pair.privateKey) as Plan;
    const tampered = JSON.parse(JSON.stringify(signed).replace('"node0"', '"node1"')) as Plan;
    expect(() => verifyPlan(tampered, { strict: false, store: store() })).toThrow(
      expect.objectContaining({ code: "RTT_FABRIC_CORRUPT" }),
    );
    // plan_id recomputed by the forger: now the signature no longer matches
    const forged = { ...tampered, plan_id: computePlanId(tampered) };
    expect(() => verifyPlan(forged, { strict: false, store: store() })).toThrow(/bad_signature/);
  });

  it("refuses schema breaks and inconsistent tables", () => {
    expect(() => verifyPlan({ plan_id: "x" }, { strict: false, store: store() })).toThrow(
      expect.objectContaining({ code: "RTT_FABRIC_INVALID" }),
    );
    const p = plan();
    const unplaced = { ...p, placement: { [A]: "node0" } };
    expect(() =>
      verifyPlan({ ...unplaced, plan_id: computePlanId(unplaced) }, { strict: false, store: store() }),
    ).toThrow(/is not placed/);
    const dup = { ...p, routes: [...p.routes, { route_id: 2, from: A, to: B, lane: "tcp" as const }] };
    expect(() => verifyPlan({ ...dup, plan_id: computePlanId(dup) }, { strict: false, store: store() })).toThrow(
      /appears twice/,
    );
  });
});

describe("diffPlans", () => {
  it("lists added, removed, changed routes and moved placements", () => {
    const a = plan();
    const b = {
      ...a,
      plan_id: "sha256:b",
      routes: [
        { route_id: 1, from: A, to: B, lane: "tcp" as const },
        { route_id: 2, from: A, to: C, lane: "tcp" as const },
      ],
      placement: { [A]: "node0", [B]: "node1", [C]: "node1" },
    };
    const d = diffPlans(a, b);
    expect(d.added.map((r) => r.to)).toEqual([C]);
    expect(d.changed).toHaveLength(1);
    expect(d.placement).toEqual([
      { symbol: C, before: null, after: "node1" },
      { symbol: B, before: "node0", after: "node1" },
    ]);
    expect(formatDiff(diffPlans(b, a))).toContain(`- route 2 ${A} -> ${C} [tcp]`);
  });
});

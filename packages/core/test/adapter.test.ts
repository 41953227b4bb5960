import { referenceSamples, type SessionLogV1, upgradeV1ToV2, validateSessionLog } from "@rtt/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixture } from "./helpers.js";

const num = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
const unit = fc.double({ noNaN: true, min: 0, max: 1 });

const sample = fc.record(
  {
    dt: fc.double({ noNaN: true, min: 0, max: 10 }),
    C: num,
    D: num,
    Q: num,
    R: num,
    SET: fc.record({ S: unit, E: unit, T: unit }),
  },
  { requiredKeys: ["dt", "C", "D", "Q", "R"] },
);

/** Valid v1 logs: non-decreasing t, optional SET / nodes / dimensional_core, anomalies anywhere in time. */
const v1Log = fc
  .record({
    samples: fc.array(sample, { maxLength: 30 }),
    anomalies: fc.array(fc.record({ t: num, type: fc.constantFrom("DECOHERENCE_SPIKE", "CORRELATION_COLLAPSE") }), {
      maxLength: 5,
    }),
    nodes: fc.option(
      fc.array(fc.record({ id: fc.string({ minLength: 1 }), role: fc.constantFrom("source", "load", "hub") }), {
        maxLength: 4,
      }),
      { nil: undefined },
    ),
    dims: fc.option(
      fc.dictionary(
        fc.integer({ min: 0, max: 24 }).map((i) => `d${i}`),
        unit,
      ),
      { nil: undefined },
    ),
    final: fc.integer({ min: 0, max: 100 }),
  })
  .map(({ samples, anomalies, nodes, dims, final }) => {
    let t = 0;
    const log: SessionLogV1 = {
      session_id: "RTT-PROP",
      timestamp: "2026-01-06T00:00:00Z",
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
      samples: samples.map(({ dt, ...s }) => {
        t += dt;
        return { ...s, t };
      }),
      anomalies,
      scores: { stability: final, response: final, quality: final, final },
    };
    if (nodes) log.nodes = nodes;
    if (dims) log.dimensional_core = { model: "RTT-24", dims };
    return log;
  });

describe("v1 → v2 adapter", () => {
  it("maps the seed's triadic example as documented", () => {
    const v2 = upgradeV1ToV2(fixture<SessionLogV1>("seed/v1_triadic_example.json"));
    expect(v2.spec_version).toBe("v2");
    expect(v2.segments).toHaveLength(1);
    expect(v2.segments![0]).toMatchObject({ segment_id: "seg-1", label: "main" });
    expect(v2.segments![0].samples[1].triadic?.set).toEqual({ S: 0.72, E: 0.54, T: 0.31 });
    expect(v2.segments![0].samples[1]).not.toHaveProperty("SET");
    expect(v2.triadic?.snr?.nodes.map((n) => n.id)).toEqual(["N1", "N2"]);
    expect(v2.triadic?.dimcore?.model).toBe("RTT-12");
    expect(v2.extensions).toEqual(["SET", "SNR", "DIMCORE"]);
    expect(v2).not.toHaveProperty("samples");
    expect(v2).not.toHaveProperty("nodes");
    expect(validateSessionLog(v2, { strictLabels: true }).errors).toEqual([]);
  });

  it("produces a valid v2 log that keeps every sample and anomaly, for any valid v1 log", () => {
    fc.assert(
      fc.property(v1Log, (v1) => {
        expect(validateSessionLog(v1).errors).toEqual([]);
        const v2 = upgradeV1ToV2(v1);
        expect(validateSessionLog(v2, { strictLabels: true }).errors).toEqual([]);
        const seg = v2.segments![0];
        expect(seg.samples).toHaveLength(v1.samples.length);
        seg.samples.forEach((s, i) => {
          const { SET, ...rest } = v1.samples[i];
          expect(s).toEqual(SET ? { ...rest, triadic: { set: SET } } : rest);
        });
        expect(seg.anomalies).toEqual(v1.anomalies);
        expect(v2.sample_count).toBe(v1.samples.length);
        expect(v2.anomaly_count).toBe(v1.anomalies!.length);
        expect(v2.score_final).toBe(v1.scores.final);
      }),
      { numRuns: 300 },
    );
  });

  /** Seed-valid v1 logs the project's rules may warn about: any device, time slips, anomalies anywhere. */
  const anyV1 = fc
    .record({
      log: v1Log,
      device: fc.constantFrom("COMT", "TURBINE", ""),
      slips: fc.array(fc.nat(40), { maxLength: 3 }),
      counts: fc.option(fc.integer({ min: -1, max: 40 }), { nil: undefined }),
    })
    .map(({ log, device, slips, counts }) => {
      for (const i of slips) if (log.samples[i]) log.samples[i]!.t -= 5;
      const out: SessionLogV1 = { ...log, device };
      if (counts !== undefined) out.sample_count = counts;
      return out;
    });

  /** v1 logs that pass the reference check (the seed's conformant run), with any header. */
  const conformantV1 = fc
    .record({
      device: fc.string({ maxLength: 8 }),
      scenario: fc.string({ maxLength: 8 }),
      anomalies: fc.array(fc.record({ t: num, type: fc.constant("DECOHERENCE_SPIKE") }), { maxLength: 2 }),
    })
    .map(
      ({ device, scenario, anomalies }): SessionLogV1 => ({
        session_id: "RTT-JS-TEST",
        timestamp: "2026-01-06T00:00:00Z",
        device,
        scenario,
        difficulty: "Journeyman",
        samples: referenceSamples().map((s) => ({ ...s })),
        anomalies,
        scores: { stability: 0, response: 0, quality: 0, final: 0 },
      }),
    );

  const codes = (log: unknown, opts = {}) => validateSessionLog(log, opts).warnings.map((w) => w.code);

  it("every v1 log that validates upgrades to a v2 log that validates, with no new finding (lax, strict, conformance)", () => {
    fc.assert(
      fc.property(anyV1, (v1) => {
        const lax = validateSessionLog(v1);
        fc.pre(lax.ok);
        const v2 = upgradeV1ToV2(v1);
        expect(validateSessionLog(v2).errors).toEqual([]);
        const before = new Set(codes(v1));
        for (const c of codes(v2)) expect(before, `new finding ${c} after upgrade`).toContain(c);
        if (validateSessionLog(v1, { strict: true }).ok)
          expect(validateSessionLog(v2, { strict: true }).errors).toEqual([]);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(conformantV1, (v1) => {
        expect(validateSessionLog(v1, { conformance: true }).errors).toEqual([]);
        expect(validateSessionLog(upgradeV1ToV2(v1), { conformance: true }).errors).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it.each(["seed/section4_example_v1.json", "seed/v1_triadic_example.json"])(
    "the seed's %s validates after upgrade, with the same findings",
    (file) => {
      const v1 = fixture<SessionLogV1>(file);
      const v2 = upgradeV1ToV2(v1);
      expect(validateSessionLog(v2).errors).toEqual([]);
      expect(codes(v2)).toEqual(codes(v1));
    },
  );

  it("is deterministic: same input, same bytes", () => {
    fc.assert(
      fc.property(v1Log, (v1) => {
        expect(JSON.stringify(upgradeV1ToV2(structuredClone(v1)))).toBe(JSON.stringify(upgradeV1ToV2(v1)));
      }),
      { numRuns: 100 },
    );
  });

  it("does not mutate its input", () => {
    const v1 = fixture<SessionLogV1>("seed/v1_triadic_example.json");
    const before = JSON.stringify(v1);
    upgradeV1ToV2(v1);
    expect(JSON.stringify(v1)).toBe(before);
  });
});

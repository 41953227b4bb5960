import { referenceRunV1, referenceRunV2, validateSessionLog } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { fixture, mutate } from "./helpers.js";

const v1 = fixture("seed/section4_example_v1.json");
const v2 = fixture("seed/v2_operator_mastery_example.json");

function errorsOf(log: unknown, opts = {}) {
  return validateSessionLog(log, opts).errors;
}

describe("the seed's example logs", () => {
  it.each([
    ["§4 example (v1)", "seed/section4_example_v1.json", "v1"],
    ["v1 with triadic extensions", "seed/v1_triadic_example.json", "v1"],
    ["v2 segmented example", "seed/v2_segmented_example.json", "v2"],
    ["v2 operator/mastery example", "seed/v2_operator_mastery_example.json", "v2"],
  ])("accepts the %s", (_name, file, version) => {
    const result = validateSessionLog(fixture(file));
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.specVersion).toBe(version);
  });

  it("accepts the engine's own v1 and v2 reference runs, with conformance", () => {
    const opts = { session_id: "S", timestamp: "2026-01-06T00:00:00Z" };
    expect(validateSessionLog(referenceRunV1(opts), { conformance: true }).errors).toEqual([]);
    expect(validateSessionLog(referenceRunV2(opts), { conformance: true, strictLabels: true }).errors).toEqual([]);
  });
});

describe("version selection", () => {
  it("rejects an unknown spec_version with a clear error", () => {
    const [e] = errorsOf({ ...v2, spec_version: "v3" });
    expect(e).toMatchObject({ code: "SPEC_VERSION_UNKNOWN", path: "/spec_version" });
    expect(e.message).toContain('found "v3"');
  });

  it.each([null, [], "text", 42])("rejects a non-object log (%j)", (value) => {
    expect(errorsOf(value)[0].code).toBe("NOT_AN_OBJECT");
  });
});

type Case = [name: string, base: object, edit: (l: any) => void, path: string, text: RegExp];

const schemaCases: Case[] = [
  ["v1 missing session_id", v1, (l) => delete l.session_id, "/session_id", /missing required property 'session_id'/],
  ["v1 missing timestamp", v1, (l) => delete l.timestamp, "/timestamp", /missing required/],
  ["v1 missing device", v1, (l) => delete l.device, "/device", /missing required/],
  ["v1 missing scenario", v1, (l) => delete l.scenario, "/scenario", /missing required/],
  ["v1 missing difficulty", v1, (l) => delete l.difficulty, "/difficulty", /missing required/],
  ["v1 missing samples", v1, (l) => delete l.samples, "/samples", /missing required/],
  ["v1 missing scores", v1, (l) => delete l.scores, "/scores", /missing required/],
  ["v1 bad timestamp format", v1, (l) => (l.timestamp = "yesterday"), "/timestamp", /date-time/],
  ["v1 session_id not a string", v1, (l) => (l.session_id = 7), "/session_id", /expected string, found 7/],
  ["v1 sample t not a number", v1, (l) => (l.samples[1].t = "0.1"), "/samples/1/t", /expected number/],
  ["v1 sample missing R", v1, (l) => delete l.samples[0].R, "/samples/0/R", /missing required/],
  ["v1 anomaly missing type", v1, (l) => delete l.anomalies[0].type, "/anomalies/0/type", /missing required/],
  ["v1 scores.final missing", v1, (l) => delete l.scores.final, "/scores/final", /missing required/],
  [
    "v1 SET with extra key",
    v1,
    (l) => (l.samples[0].SET = { S: 1, E: 1, T: 1, X: 1 }),
    "/samples/0/SET/X",
    /unexpected property 'X'/,
  ],
  ["v1 SET missing T", v1, (l) => (l.samples[0].SET = { S: 1, E: 1 }), "/samples/0/SET/T", /missing required/],
  ["v1 node without id", v1, (l) => (l.nodes = [{ role: "load" }]), "/nodes/0/id", /missing required/],
  [
    "v1 dims value not a number",
    v1,
    (l) => (l.dimensional_core = { model: "RTT-9", dims: { d0: "x" } }),
    "/dimensional_core/dims/d0",
    /expected number/,
  ],
  ["v2 spec_version missing → v1 rules (no samples)", v2, (l) => delete l.spec_version, "/samples", /missing required/],
  ["v2 neither samples nor segments", v2, (l) => delete l.segments, "", /at least one of 'samples' or 'segments'/],
  ["v2 bad mode", v2, (l) => (l.mode = "PLAY"), "/mode", /expected one of "TRAINING", "LIVE", "REPLAY", found "PLAY"/],
  ["v2 mastery_level above 30", v2, (l) => (l.mastery_level = 31), "/mastery_level", /<= 30/],
  ["v2 mastery_level negative", v2, (l) => (l.mastery_level = -1), "/mastery_level", />= 0/],
  ["v2 mastery_level fractional", v2, (l) => (l.mastery_level = 7.5), "/mastery_level", /expected integer/],
  ["v2 severity 6", v2, (l) => (l.segments[1].anomalies[0].severity = 6), "/segments/1/anomalies/0/severity", /<= 5/],
  ["v2 severity 0", v2, (l) => (l.segments[1].anomalies[0].severity = 0), "/segments/1/anomalies/0/severity", />= 1/],
  ["v2 segment without label", v2, (l) => delete l.segments[0].label, "/segments/0/label", /missing required/],
  ["v2 segment without samples", v2, (l) => delete l.segments[0].samples, "/segments/0/samples", /missing required/],
  ["v2 segment without id", v2, (l) => delete l.segments[0].segment_id, "/segments/0/segment_id", /missing required/],
];

describe("schema rules: one negative case each, naming the field", () => {
  it.each(schemaCases)("%s", (_name, base, edit, path, text) => {
    const errors = errorsOf(mutate(base, edit));
    const hit = errors.find((e) => e.path === path);
    expect(hit, `no error at ${path}; got ${JSON.stringify(errors)}`).toBeDefined();
    expect(hit!.message).toMatch(text);
    expect(hit!.code).toMatch(/^SCHEMA_/);
  });

  it("reports every schema problem, not only the first", () => {
    const errors = errorsOf(
      mutate(v2, (l) => {
        l.mode = "X";
        l.mastery_level = 99;
        delete l.scores;
      }),
    );
    expect(errors.map((e) => e.path).sort()).toEqual(["/mastery_level", "/mode", "/scores"]);
  });
});

const semanticCases: Case[] = [
  [
    "t decreasing in root samples",
    v1,
    (l) => (l.samples[1].t = -1),
    "/samples/1/t",
    /t must not decrease: expected >= 0 .*found -1/,
  ],
  [
    "t decreasing in a segment",
    v2,
    (l) => (l.segments[1].samples[2].t = 0.05),
    "/segments/1/samples/2/t",
    /must not decrease/,
  ],
  ["sample_count inconsistent", v2, (l) => (l.sample_count = 5), "/sample_count", /says 5 but the log contains 6/],
  ["segment_count inconsistent", v2, (l) => (l.segment_count = 3), "/segment_count", /says 3 but the log contains 2/],
  ["anomaly_count inconsistent", v2, (l) => (l.anomaly_count = 0), "/anomaly_count", /says 0 but the log contains 1/],
  ["score_final inconsistent", v2, (l) => (l.score_final = 80), "/score_final", /expected 83, found 80/],
  [
    "anomaly after its segment",
    v2,
    (l) => (l.segments[1].anomalies[0].t = 0.5),
    "/segments/1/anomalies/0/t",
    /\[0, 0.3\], found 0.5/,
  ],
  [
    "anomaly in an empty segment",
    v2,
    (l) => {
      l.segments[0].samples = [];
      l.segments[0].anomalies = [{ t: 0, type: "X" }];
      l.sample_count = 4;
      l.anomaly_count = 2;
    },
    "/segments/0/anomalies/0/t",
    /without samples/,
  ],
  [
    "duplicate segment_id",
    v2,
    (l) => (l.segments[1].segment_id = "seg-warmup"),
    "/segments/1/segment_id",
    /already used by \/segments\/0/,
  ],
];

describe("semantic checks: one negative case each, with a stable code (warnings; spec/VALIDATION.md)", () => {
  it.each(semanticCases)("%s", (_name, base, edit, path, text) => {
    const errors = validateSessionLog(mutate(base, edit)).warnings;
    const hit = errors.find((e) => e.path === path);
    expect(hit, `no error at ${path}; got ${JSON.stringify(errors)}`).toBeDefined();
    expect(hit!.message).toMatch(text);
    expect(hit!.code).not.toMatch(/^SCHEMA_/);
  });

  it("treats an unknown segment label as a warning, and as an error with strictLabels", () => {
    const log = mutate(v2, (l) => (l.segments[0].label = "preheat"));
    const lax = validateSessionLog(log);
    expect(lax.ok).toBe(true);
    expect(lax.warnings[0]).toMatchObject({ code: "UNKNOWN_SEGMENT_LABEL", path: "/segments/0/label" });
    const strict = validateSessionLog(log, { strictLabels: true });
    expect(strict.ok).toBe(false);
    expect(strict.errors[0].code).toBe("UNKNOWN_SEGMENT_LABEL");
  });

  it("allows equal consecutive t (non-decreasing, not strictly increasing)", () => {
    expect(errorsOf(mutate(v1, (l) => (l.samples[1].t = 0)))).toEqual([]);
  });
});

describe("reference conformance", () => {
  const ref = { session_id: "S", timestamp: "2026-01-06T00:00:00Z" };

  it("names the sample and field of a v1 mismatch", () => {
    const log = mutate(referenceRunV1(ref), (l) => (l.samples[2].D += 1e-6));
    const [e] = errorsOf(log, { conformance: true });
    expect(e).toMatchObject({ code: "REF_VALUE_MISMATCH", path: "/samples/2/D" });
    expect(e.message).toMatch(/sample 2, field D/);
  });

  it("tolerates differences within 1e-9", () => {
    const log = mutate(referenceRunV1(ref), (l) => (l.samples[2].D += 1e-10));
    expect(errorsOf(log, { conformance: true })).toEqual([]);
  });

  it("reports a length mismatch", () => {
    const log = referenceRunV1({ ...ref, steps: 4 });
    expect(errorsOf(log, { conformance: true })[0].code).toBe("REF_LENGTH_MISMATCH");
  });

  it("requires every required v2 segment label", () => {
    const log = mutate(referenceRunV2(ref), (l) => {
      l.segments.pop();
      l.segment_count = 1;
      l.sample_count = 2;
    });
    expect(errorsOf(log, { conformance: true })[0]).toMatchObject({ code: "REF_SEGMENT_MISSING" });
  });

  it("reports a v2 value mismatch inside the right segment", () => {
    const log = mutate(referenceRunV2(ref), (l) => (l.segments[1].samples[3].C = 0.2));
    expect(errorsOf(log, { conformance: true })[0]).toMatchObject({
      code: "REF_VALUE_MISMATCH",
      path: "/segments/1/samples/3/C",
    });
  });

  it("says so when no reference set matches", () => {
    const log = mutate(referenceRunV2(ref), (l) => (l.scenario = "CTE_DRIFT_02"));
    expect(errorsOf(log, { conformance: true })[0]).toMatchObject({ code: "REF_SET_NOT_FOUND" });
  });
});

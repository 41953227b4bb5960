import { readFileSync } from "node:fs";
import { createAjv, PROFILE_CODES, PROFILE_FALLBACK_CODE, SemanticCode, specPath, validateSessionLog } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { fixture, mutate } from "./helpers.js";

/**
 * Issue 19, item 1: the seed's schemas (+ reference checks) are the errors; the project's further rules are
 * warnings with stable codes, and errors only under `strict`. The seed's schemas are kept verbatim in
 * fixtures/seed/seed_schema_v{1,2}.json (seed 000, "v2 schema side-by-side with v1", 2.2 and 2.3).
 */
const v1 = fixture("seed/section4_example_v1.json");
const v2 = fixture("seed/v2_operator_mastery_example.json");
const seedSchemas = {
  v1: createAjv("all-errors").compile(fixture("seed/seed_schema_v1.json") as object),
  v2: createAjv("all-errors").compile(fixture("seed/seed_schema_v2.json") as object),
};
const seedValid = (log: { spec_version?: string }) => seedSchemas[log.spec_version === "v2" ? "v2" : "v1"](log);

type Case = [name: string, base: object, edit: (l: any) => void, code: string, path: string];

const projectRules: Case[] = [
  ["device_type outside the list", v2, (l) => (l.device_type = "TURBINE"), "DEVICE_TYPE_UNKNOWN", "/device_type"],
  ["operator_id not a URN", v2, (l) => (l.operator_id = "alice"), "OPERATOR_ID_NOT_URN", "/operator_id"],
  ["unknown key under triadic", v2, (l) => (l.triadic = { foo: {} }), "TRIADIC_SHAPE", "/triadic/foo"],
  ["snr without nodes", v2, (l) => (l.triadic = { snr: {} }), "TRIADIC_SHAPE", "/triadic/snr/nodes"],
  [
    "dimcore key outside d0…",
    v2,
    (l) => (l.triadic = { dimcore: { model: "RTT-9", dims: { x1: 1 } } }),
    "TRIADIC_SHAPE",
    "/triadic/dimcore/dims",
  ],
  [
    "sample triadic.set out of shape",
    v2,
    (l) => (l.segments[0].samples[0].triadic = { set: { S: 1 } }),
    "TRIADIC_SHAPE",
    "/segments/0/samples/0/triadic/set/E",
  ],
  ["extension outside the enum", v2, (l) => (l.extensions = ["WARP"]), "EXTENSION_UNKNOWN", "/extensions/0"],
  ["repeated extension", v2, (l) => (l.extensions = ["SET", "SET"]), "EXTENSION_UNKNOWN", "/extensions"],
  ["empty session_id", v2, (l) => (l.session_id = ""), "EMPTY_ID", "/session_id"],
  ["empty segment label", v2, (l) => (l.segments[0].label = ""), "EMPTY_ID", "/segments/0/label"],
  ["sample_count not an integer", v2, (l) => (l.sample_count = "six"), "COUNT_NOT_INTEGER", "/sample_count"],
  ["negative sample_count", v2, (l) => (l.sample_count = -1), "COUNT_NOT_INTEGER", "/sample_count"],
  ["sample_count inconsistent", v2, (l) => (l.sample_count = 5), "COUNT_MISMATCH", "/sample_count"],
  ["segment_count inconsistent", v2, (l) => (l.segment_count = 3), "COUNT_MISMATCH", "/segment_count"],
  ["anomaly_count inconsistent", v2, (l) => (l.anomaly_count = 0), "COUNT_MISMATCH", "/anomaly_count"],
  ["score_final inconsistent", v2, (l) => (l.score_final = 80), "SCORE_FINAL_MISMATCH", "/score_final"],
  [
    "t backwards in a segment",
    v2,
    (l) => (l.segments[1].samples[2].t = 0.05),
    "T_NOT_MONOTONIC",
    "/segments/1/samples/2/t",
  ],
  ["t backwards in v1 samples", v1, (l) => (l.samples[1].t = -1), "T_NOT_MONOTONIC", "/samples/1/t"],
  [
    "anomaly outside its segment",
    v2,
    (l) => (l.segments[1].anomalies[0].t = 0.5),
    "ANOMALY_OUT_OF_SEGMENT",
    "/segments/1/anomalies/0/t",
  ],
  [
    "duplicate segment_id",
    v2,
    (l) => (l.segments[1].segment_id = "seg-warmup"),
    "DUPLICATE_SEGMENT_ID",
    "/segments/1/segment_id",
  ],
  [
    "segment label outside the vocabulary",
    v2,
    (l) => (l.segments[0].label = "preheat"),
    "UNKNOWN_SEGMENT_LABEL",
    "/segments/0/label",
  ],
];

describe("the project's rules beyond the seed: warnings with stable codes, errors under strict", () => {
  it.each(projectRules)("%s", (_name, base, edit, code, path) => {
    const log = mutate(base, edit);
    // The premise: the seed's own schema accepts the log.
    expect(seedValid(log), JSON.stringify(seedSchemas.v2.errors ?? seedSchemas.v1.errors)).toBe(true);
    const lax = validateSessionLog(log);
    expect(lax.errors).toEqual([]);
    expect(lax.ok).toBe(true);
    expect(lax.warnings).toContainEqual(expect.objectContaining({ code, path }));
    const strict = validateSessionLog(log, { strict: true });
    expect(strict.ok).toBe(false);
    expect(strict.warnings).toEqual([]);
    expect(strict.errors).toContainEqual(expect.objectContaining({ code, path }));
  });

  it("a time slip is flagged as the taxonomy's RESONANCE_TIME_SLIP with severity 5", () => {
    const log = mutate(v2, (l) => (l.segments[1].samples[2].t = 0.05));
    const [w] = validateSessionLog(log).warnings;
    expect(w).toMatchObject({ code: "T_NOT_MONOTONIC", anomaly: { type: "RESONANCE_TIME_SLIP", severity: 5 } });
    expect(w!.message).toMatch(/RESONANCE_TIME_SLIP, severity 5/);
  });

  it("the seed's schema failures stay errors, strict or not", () => {
    for (const edit of [
      (l: any) => delete l.scores,
      (l: any) => (l.mode = "PLAY"),
      (l: any) => (l.spec_version = "v2x"),
    ]) {
      const log = mutate(v2, edit);
      expect(validateSessionLog(log).ok).toBe(false);
    }
  });
});

describe("spec/VALIDATION.md", () => {
  it("documents every warning code the validator can give", () => {
    const doc = readFileSync(specPath("VALIDATION.md"), "utf8");
    const codes = [...PROFILE_CODES.map(([, c]) => c), PROFILE_FALLBACK_CODE, ...Object.values(SemanticCode)];
    for (const code of codes) expect(doc, code).toMatch(new RegExp(`^\\| \`${code}\` \\|`, "m"));
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ANOMALY_TYPES, anomalyTaxonomy, detectorConfigs, severityOf, specDir } from "@rtt/core";
import { describe, expect, it } from "vitest";

describe("spec/taxonomy/anomalies.json", () => {
  const tax = anomalyTaxonomy();

  it("holds every type of the seed's taxonomy plus CORRELATION_COLLAPSE, each fully described", () => {
    expect(tax.types.map((t) => t.type)).toEqual([...ANOMALY_TYPES]);
    for (const t of tax.types) {
      expect(tax.domains, t.type).toContain(t.domain);
      expect(t.meaning.length).toBeGreaterThan(10);
      expect(t.causes.length).toBeGreaterThan(0);
      expect(t.drills.length).toBeGreaterThan(0);
      expect(["step", "segment", "session", "emit"]).toContain(t.detector.scope);
      expect(t.detector.measure.length).toBeGreaterThan(20);
      expect(Object.keys(t.severity.guidance)).toEqual(["1", "2", "3", "4", "5"]);
      const th = t.severity.thresholds;
      expect(th).toHaveLength(5);
      for (let i = 1; i < 5; i++) expect(th[i], t.type).toBeGreaterThan(th[i - 1]);
    }
  });

  it("keeps the seed's domains and the unified 1–5 rubric", () => {
    expect(tax.domains).toEqual(["Stability", "Control", "Integrity", "Timing", "Network", "Dimensional"]);
    expect(tax.severity_rubric["1"]).toMatch(/informational/);
    expect(tax.severity_rubric["5"]).toMatch(/critical/);
    const domain = (type: string) => tax.types.find((t) => t.type === type)?.domain;
    expect(domain("DECOHERENCE_SPIKE")).toBe("Stability");
    expect(domain("HUNTING_OSCILLATION")).toBe("Control");
    expect(domain("LOG_SCHEMA_VIOLATION")).toBe("Integrity");
    expect(domain("RESONANCE_TIME_SLIP")).toBe("Timing");
    expect(domain("SNR_NODE_DESYNC")).toBe("Network");
    expect(domain("DIMCORE_IMBALANCE")).toBe("Dimensional");
  });

  it("severityOf counts the thresholds reached: 0 below the first, 5 at or past the last", () => {
    const th = [1, 2, 4, 8, 16];
    expect([0.99, 1, 1.5, 2, 4, 7.9, 8, 16, 1e9].map((m) => severityOf(m, th))).toEqual([0, 1, 1, 2, 3, 3, 4, 5, 5]);
  });

  it("scenario overrides replace a type's thresholds and merge its params", () => {
    const c = detectorConfigs({
      OVERSHOOT_EVENT: { thresholds: [1, 2, 3, 4, 5] },
      CORRIDOR_C_DRIFT: { params: { level: 0.5 } },
    });
    expect(c.OVERSHOOT_EVENT.thresholds).toEqual([1, 2, 3, 4, 5]);
    expect(c.CORRIDOR_C_DRIFT.params).toEqual({ level: 0.5, min_duration_s: 5 });
  });

  it("spec/taxonomy/README.md documents every type and the rubric", () => {
    const doc = readFileSync(join(specDir(), "taxonomy", "README.md"), "utf8");
    for (const t of ANOMALY_TYPES) expect(doc, t).toContain(`### ${t}`);
    expect(doc).toMatch(/Severity rubric/);
  });
});

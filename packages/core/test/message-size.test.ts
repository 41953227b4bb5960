import { referenceRunV2, validateSessionLog } from "@rtt/core";
import { describe, expect, it } from "vitest";
import { describeValue } from "../src/describe.js";

// Found by the hostile-input fuzz suite: a batch whose lines carried 2,000,000-character segment labels answered
// 4.2 MB, because the label warnings quoted the labels whole.
describe("validation messages never grow with the input", () => {
  it("cuts every quoted value, whatever field it is in", () => {
    const huge = "😀".repeat(2_000_000);
    const log = JSON.parse(
      JSON.stringify(referenceRunV2({ session_id: "S-1", timestamp: "2026-01-06T00:00:00Z" })),
    ) as Record<string, unknown> & {
      segments: Array<Record<string, unknown>>;
    };
    log.device_type = huge;
    log.operator_id = huge;
    const [first, second] = log.segments;
    if (!first || !second) throw new Error("the reference run has two segments");
    first.label = huge;
    second.segment_id = huge;
    first.segment_id = huge;
    const r = validateSessionLog(log);
    const all = [...r.errors, ...r.warnings];
    expect(all.length).toBeGreaterThan(2);
    for (const issue of all) expect(issue.message.length, issue.message.slice(0, 80)).toBeLessThan(300);
    const bad = validateSessionLog({ ...log, spec_version: huge });
    for (const issue of [...bad.errors, ...bad.warnings]) expect(issue.message.length).toBeLessThan(300);
  });

  it("never cuts between the halves of a surrogate pair", () => {
    for (let pad = 0; pad < 4; pad++) {
      const s = describeValue(`${"x".repeat(pad)}${"😀".repeat(100)}`);
      expect(s).not.toMatch(/\\ud83d"|\\ud83d\.\.\./);
      expect(s.endsWith('..."')).toBe(true);
    }
    expect(describeValue("short")).toBe('"short"');
    expect(describeValue([1])).toBe("an array");
  });
});

import {
  extractInputs,
  getScenario,
  listScenarios,
  type ScenarioDef,
  type SessionLogV2,
  sessionLogChunks,
  simulateScenario,
  simulateSession,
} from "@rtt/core";
import { describe, expect, it } from "vitest";
import { unreadRowsOf } from "../src/sim/columnSegment.js";

/**
 * A simulated log keeps its samples in columns until they are read (columnSegment.ts), and the streaming writer
 * (logWriter.ts) emits its bytes from those columns. Both must be invisible: the same bytes as JSON.stringify of the
 * log, the same sample objects (values and key order) as the log always had.
 */
const text = (log: SessionLogV2, space?: number) => [...sessionLogChunks(log, space)].join("");
const unread = (log: SessionLogV2) => (log.segments ?? []).every((seg) => unreadRowsOf(seg) !== undefined);

function scenario(id: string): ScenarioDef {
  const def = getScenario(id);
  if (!def) throw new Error(`unknown scenario ${id}`);
  return def;
}
const stretched = (def: ScenarioDef, seconds: number): ScenarioDef => ({
  ...def,
  segments: [{ segment_id: "seg-main", label: "main", duration: seconds, dt: 0.001 }],
});

describe("streaming log writer", () => {
  it("writes JSON.stringify's bytes, compact and indented, for every scenario × policy × seed", () => {
    for (const s of listScenarios())
      for (const policy of ["none", "novice", "competent", "expert"])
        for (const seed of [1, 5]) {
          const opts = { scenario: s.id, policy, seed };
          const fresh = simulateSession(opts);
          expect(unread(fresh)).toBe(true);
          const compact = text(fresh);
          const pretty = text(fresh, 2);
          expect(unread(fresh)).toBe(true); // writing built no sample object
          expect(compact).toBe(JSON.stringify(simulateSession(opts)));
          expect(pretty).toBe(JSON.stringify(simulateSession(opts), null, 2));
        }
  });

  it("writes the same bytes for REPLAY, a 1 ms bench-like run and unusual indents", () => {
    const recorded = simulateSession({ scenario: "COMT_STEP_03", policy: "novice", seed: 9 });
    const replay = { scenario: "COMT_STEP_03", mode: "REPLAY" as const, inputs: extractInputs(recorded), seed: 9 };
    expect(text(simulateSession(replay))).toBe(JSON.stringify(simulateSession(replay)));
    const long = stretched(scenario("CLFC_MICROGRID_02"), 20);
    expect(text(simulateScenario(long, { policy: "expert", seed: 3 }))).toBe(
      JSON.stringify(simulateScenario(long, { policy: "expert", seed: 3 })),
    );
    for (const space of [0, 1, 4, 12])
      expect(text(simulateSession({ scenario: "CLFC_GRID_01", seed: 2 }), space)).toBe(
        JSON.stringify(simulateSession({ scenario: "CLFC_GRID_01", seed: 2 }), null, space),
      );
  });

  it("cuts a long log into chunks and follows samples that were read, changed or replaced", () => {
    const long = stretched(scenario("COMT_DRIFT_02"), 30);
    expect([...sessionLogChunks(simulateScenario(long, { policy: "expert" }))].length).toBeGreaterThan(10);

    const log = simulateSession({ scenario: "CTE_HANDOFF_02", policy: "expert", seed: 1 });
    const [first, second] = log.segments ?? [];
    first!.samples[3]!.C = 0.123; // read, then changed: the writer must see the objects, not the columns
    second!.samples = second!.samples.slice(0, 2); // replaced
    expect(unreadRowsOf(first!)).toBeUndefined();
    expect(text(log)).toBe(JSON.stringify(log));
    expect(JSON.parse(text(log)).segments[0].samples[3].C).toBe(0.123);
  });
});

describe("samples materialised on first read", () => {
  it("deep-equal the samples the log has always had, key order included; counts do not build them", () => {
    for (const s of listScenarios())
      for (const policy of ["none", "expert"]) {
        const log = simulateSession({ scenario: s.id, policy, seed: 2 });
        const expected = JSON.parse(JSON.stringify(simulateSession({ scenario: s.id, policy, seed: 2 })));
        expect(unread(log)).toBe(true); // buildSessionV2 counted sample_count from the columns
        expect(log.sample_count).toBe(expected.sample_count);
        for (const [i, seg] of (log.segments ?? []).entries()) {
          const want = expected.segments[i];
          expect(Object.keys(seg)).toEqual(Object.keys(want));
          expect(seg.samples).toStrictEqual(want.samples);
          for (const [j, sample] of seg.samples.entries())
            expect(Object.keys(sample)).toEqual(Object.keys(want.samples[j]));
          expect(seg.samples).toBe(seg.samples); // built once, then an ordinary property
        }
        expect(log).toStrictEqual(expected);
      }
  });
});

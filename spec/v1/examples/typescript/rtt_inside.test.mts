// rtt_inside.test.mts — node --test (after tsc): the engine reproduces spec/v1/reference_samples.json within 1e-9.
// Run from this folder (the reference file is found relative to the working directory).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { makeInitialState, runSimulation, type Sample, update } from "./engine.mjs";
import { buildSessionLog } from "./logger.mjs";

const ref = JSON.parse(readFileSync(resolve("../../reference_samples.json"), "utf8")) as Sample[];
const EPS = 1e-9;
const FIELDS = ["t", "C", "D", "Q", "R"] as const;

test("RTT engine matches reference samples", () => {
  const samples = runSimulation(3, 0.1);
  assert.equal(samples.length, ref.length);
  samples.forEach((s, i) => {
    for (const k of FIELDS) {
      assert.ok(Math.abs(s[k] - ref[i][k]) <= EPS, `sample ${i}, field ${k}: expected ${ref[i][k]}, got ${s[k]}`);
    }
  });
});

test("update leaves Q, R and meta unchanged", () => {
  const s = update(makeInitialState(), 0.1);
  assert.deepEqual([s.Q, s.R, s.meta], [0.5, 0, makeInitialState().meta]);
});

test("session log has the schema's required fields", () => {
  const session = { session_id: "x", timestamp: "2026-01-06T00:00:00Z", device: "COMT", scenario: "S", difficulty: "D" };
  const log = buildSessionLog(session, runSimulation(0, 0.1));
  for (const k of ["session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"]) assert.ok(k in log, k);
  assert.equal(log.samples.length, 1);
});

// rtt_inside.test.js — node --test: the engine reproduces spec/v1/reference_samples.json within 1e-9.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { makeInitialState, runSimulation, update } from "./engine.js";
import { buildSessionLog } from "./logger.js";

const ref = JSON.parse(readFileSync(new URL("../../reference_samples.json", import.meta.url), "utf8"));
const EPS = 1e-9;

test("RTT engine matches reference samples", () => {
  const samples = runSimulation(3, 0.1);
  assert.equal(samples.length, ref.length);
  samples.forEach((s, i) => {
    for (const k of ["t", "C", "D", "Q", "R"]) {
      assert.ok(Math.abs(s[k] - ref[i][k]) <= EPS, `sample ${i}, field ${k}: expected ${ref[i][k]}, got ${s[k]}`);
    }
  });
});

test("update leaves Q, R and meta unchanged", () => {
  const s = update(makeInitialState(), 0.1);
  assert.equal(s.Q, 0.5);
  assert.equal(s.R, 0);
  assert.deepEqual(s.meta, makeInitialState().meta);
});

test("session log has the schema's required fields", () => {
  const log = buildSessionLog({ session_id: "x", timestamp: "2026-01-06T00:00:00Z", device: "COMT", scenario: "S", difficulty: "D" }, runSimulation(0, 0.1));
  for (const k of ["session_id", "timestamp", "device", "scenario", "difficulty", "samples", "scores"]) assert.ok(k in log, k);
  assert.equal(log.samples.length, 1);
});

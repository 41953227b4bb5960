// test_rtt_inside.test.js — the seed's §10.1 test (seed 000, "10.1 JavaScript (Jest)"): node --test test_rtt_inside.test.js
//
// The test body is the seed's. Around it: ESM imports instead of require (this package is ESM), the seed's
// "./rtt_engine" ("if split") is its §9.1 example, reference_samples.json is spec/v1's, and Jest's `expect(…)
// .toBeLessThan(…)` — the one matcher the seed uses — is three lines over node:assert, so it runs on Node alone.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { makeInitialState, update } from "./rtt_inside_example.js";

const ref = JSON.parse(readFileSync(new URL("../../reference_samples.json", import.meta.url), "utf8"));
const expect = (got) => ({
  toBeLessThan: (bound) => assert.ok(got < bound, `expected ${got} to be less than ${bound}`),
});

test("RTT engine matches reference samples", () => {
  const dt = 0.1;
  const steps = 3;
  const samples = [];
  let s = makeInitialState();
  samples.push({ t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R });
  for (let i = 0; i < steps; i++) {
    s = update(s, dt);
    samples.push({ t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R });
  }
  const eps = 1e-9;
  samples.forEach((samp, i) => {
    const r = ref[i];
    ["t", "C", "D", "Q", "R"].forEach((k) => {
      expect(Math.abs(samp[k] - r[k])).toBeLessThan(eps);
    });
  });
});

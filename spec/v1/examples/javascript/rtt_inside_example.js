// rtt_inside_example.js
//
// The seed's §9.1 file (seed 000, "9.1 JavaScript (Node) — rtt_inside_example.js"): `node rtt_inside_example.js`
// writes rtt_js_session.json. The seed writes it as CommonJS (`require("fs")`, `require.main === module`); this
// example package is ESM ("type": "module", as all of RTT), so those two lines are their ESM equivalents and the
// functions are exported for the seed's §10.1 test (test_rtt_inside.test.js), which imports what the seed calls
// "./rtt_engine" ("if split") from here. Everything else is the seed's code.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export function makeInitialState() {
  return {
    t: 0.0,
    C: 0.1,
    D: 1.0,
    Q: 0.5,
    R: 0.0,
    meta: {
      device: "COMT",
      scenario: "COMT_LOCK_01",
      difficulty: "Journeyman",
    },
  };
}

export function update(state, dt) {
  return {
    ...state,
    t: state.t + dt,
    C: state.C + 0.01 * dt,
    D: state.D * (1 - 0.001 * dt),
  };
}

export function runSimulation(steps, dt) {
  const samples = [];
  let s = makeInitialState();
  samples.push(sampleFromState(s));
  for (let i = 0; i < steps; i++) {
    s = update(s, dt);
    samples.push(sampleFromState(s));
  }
  return samples;
}

export function sampleFromState(s) {
  return { t: s.t, C: s.C, D: s.D, Q: s.Q, R: s.R };
}

function main() {
  const dt = 0.1;
  const steps = 3;
  const samples = runSimulation(steps, dt);
  const log = {
    session_id: "RTT-JS-TEST",
    timestamp: new Date().toISOString(),
    device: "COMT",
    scenario: "COMT_LOCK_01",
    difficulty: "Journeyman",
    samples,
    anomalies: [],
    scores: { stability: 0, response: 0, quality: 0, final: 0 },
  };
  fs.writeFileSync("rtt_js_session.json", JSON.stringify(log, null, 2));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) main();

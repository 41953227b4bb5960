#!/usr/bin/env node
// runner.js — file mode: run the reference vector and write a session log;
//             protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
import { createInterface } from "node:readline";
import { makeInitialState, runSimulation } from "./engine.js";
import { buildSegmentedLog, buildSessionLog, emitLine, writeSessionLog } from "./logger.js";

function answer(c) {
  if (c.spec_version === "v1") return buildSessionLog(c.session, runSimulation(c.steps, c.dt, c.initial_state));
  if (c.spec_version === "v2") {
    const segments = c.segments.map((g) => ({
      segment_id: g.segment_id,
      label: g.label,
      samples: runSimulation(g.steps, g.dt, g.initial_state),
    }));
    return buildSegmentedLog(c.session, segments);
  }
  return { id: c.id, skipped: `spec_version ${JSON.stringify(c.spec_version)} not supported` };
}

function protocolMode() {
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  rl.on("line", (line) => {
    let c;
    try {
      c = JSON.parse(line);
      emitLine(answer(c));
    } catch (err) {
      emitLine({ id: c?.id ?? null, errored: String(err?.message ?? err) });
    }
  });
}

function fileMode(out) {
  const s0 = makeInitialState();
  const log = buildSessionLog(
    { session_id: "RTT-JS-TEST", timestamp: new Date().toISOString(), ...s0.meta },
    runSimulation(3, 0.1, s0),
  );
  writeSessionLog(out, log);
  console.log(`wrote ${out}`);
}

const args = process.argv.slice(2);
if (args.includes("--protocol")) protocolMode();
else {
  const i = args.indexOf("--out");
  fileMode(i >= 0 ? args[i + 1] : "rtt_js_session.json");
}

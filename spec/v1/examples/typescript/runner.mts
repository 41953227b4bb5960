// runner.mts — file mode: run the reference vector and write a session log;
//              protocol mode (--protocol): answer conformance cases on stdin/stdout (spec/v1/conformance_protocol.md).
import { createInterface } from "node:readline";
import { type CorridorState, makeInitialState, runSimulation } from "./engine.mjs";
import { buildSegmentedLog, buildSessionLog, emitLine, type Session, writeSessionLog } from "./logger.mjs";

type WireState = Pick<CorridorState, "t" | "C" | "D" | "Q" | "R">;
interface Run {
  initial_state: WireState;
  dt: number;
  steps: number;
}
type Case =
  | ({ id: string; spec_version: "v1"; session: Session } & Run)
  | { id: string; spec_version: "v2"; session: Session; segments: Array<{ segment_id: string; label: string } & Run> }
  | { id: string; spec_version: string; session: Session };

export function answer(c: Case): object {
  if (c.spec_version === "v1" && "dt" in c) {
    return buildSessionLog(c.session, runSimulation(c.steps, c.dt, c.initial_state));
  }
  if (c.spec_version === "v2" && "segments" in c) {
    return buildSegmentedLog(
      c.session,
      c.segments.map((g) => ({
        segment_id: g.segment_id,
        label: g.label,
        samples: runSimulation(g.steps, g.dt, g.initial_state),
      })),
    );
  }
  return { id: c.id, skipped: `spec_version ${JSON.stringify(c.spec_version)} not supported` };
}

function protocolMode(): void {
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  rl.on("line", (line) => {
    let c: Partial<Case> = {};
    try {
      c = JSON.parse(line) as Case;
      emitLine(answer(c as Case));
    } catch (err) {
      emitLine({ id: c.id ?? null, errored: err instanceof Error ? err.message : String(err) });
    }
  });
}

function fileMode(out: string): void {
  const s0 = makeInitialState();
  const session: Session = { session_id: "RTT-TS-TEST", timestamp: new Date().toISOString(), ...s0.meta };
  writeSessionLog(out, buildSessionLog(session, runSimulation(3, 0.1, s0)));
  console.log(`wrote ${out}`);
}

const args = process.argv.slice(2);
if (args.includes("--protocol")) protocolMode();
else {
  const i = args.indexOf("--out");
  fileMode(i >= 0 ? args[i + 1] : "rtt_ts_session.json");
}

// Deterministic synthetic agent traces for the CTF benchmark (uses the built @rtt/ctf runtime,
// so the numbers cover real metric computation, not a hand-rolled writer).
import { closeSync, openSync, writeSync } from "node:fs";
import { createCorridor } from "@rtt/ctf";
import { prng } from "../lib/prng.mjs";

/** Buffers lines and writes them in 1 MiB blocks: generation speed is not what is measured. */
class BufferedFileSink {
  constructor(path) {
    this.fd = openSync(path, "w");
    this.buf = [];
    this.size = 0;
    this.events = 0;
  }
  write(e) {
    const line = `${JSON.stringify(e)}\n`;
    this.buf.push(line);
    this.size += line.length;
    this.events++;
    if (this.size > 1 << 20) this.flush();
  }
  flush() {
    writeSync(this.fd, this.buf.join(""));
    this.buf = [];
    this.size = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
  }
}

const TOOLS = ["search", "browser", "calc", "python", "read_file"];
const WORDS =
  "quantum turbulence vortex energy cascade spectrum kolmogorov scale viscosity reynolds flow eddy superfluid helium".split(
    " ",
  );

/**
 * Writes a trace of about `events` events. With `divergeAtStep`, the run switches to a second random
 * stream at that step, so two traces share an exact prefix and then differ (for diff benchmarks).
 */
export function generateTrace(path, { events, seed = 1, divergeAtStep = Number.POSITIVE_INFINITY, divergeSeed = 99 }) {
  const sink = new BufferedFileSink(path);
  let t = 1736280000;
  const now = () => {
    t += 0.01;
    return Math.round(t * 1000) / 1000;
  };
  const c = createCorridor({
    taskId: `bench-${seed}`,
    spec: {
      max_steps: 1e9,
      max_semantic_drift: 0.8,
      max_tool_entropy: 2.2,
      max_latency_drift: 1.5,
      max_branching_pressure: 64,
      max_retry_ratio: 0.3,
    },
    task: "survey quantum turbulence energy cascade in superfluid helium",
    writer: sink,
    now,
  });
  let rnd = prng(seed);
  let step = 0;
  while (sink.events < events - 4) {
    if (step === divergeAtStep) rnd = prng(divergeSeed);
    const r = rnd();
    if (r < 0.02 && step > 10) {
      c.rewind(c.ancestor(1 + Math.floor(rnd() * 3)));
    } else {
      const tool = TOOLS[Math.floor(rnd() * TOOLS.length)];
      const w1 = WORDS[Math.floor(rnd() * WORDS.length)];
      const w2 = WORDS[Math.floor(rnd() * WORDS.length)];
      c.step({
        action: `${tool}('${w1} ${w2}')`,
        observation: `${tool} returned ${Math.floor(rnd() * 20)} results about ${w1}`,
        tool,
        latencyMs: 50 + Math.floor(rnd() * 400),
      });
    }
    step++;
  }
  c.end();
  return sink.events;
}

/**
 * Valid Corridor Trace Files for the tests, written by the real runtime (createCorridor + MemorySink) with a clock
 * that starts at the same instant and advances 10 ms an event, so a given set of options always gives the same events.
 */
import { type CorridorSpec, type CTFEvent, createCorridor, MemorySink, type StepInput } from "@rtt/ctf";

/** A loose spec: the runs below stay within it. */
export const CORRIDOR_SPEC: CorridorSpec = {
  max_steps: 10_000,
  max_semantic_drift: 0.9,
  max_tool_entropy: 2,
  max_latency_drift: 1.5,
  max_branching_pressure: 8,
  max_retry_ratio: 0.5,
};

/** Step `i` of a search run: seven queries, a browser every third step, 100–140 ms; `observationBytes` pad the hits. */
export const searchStep =
  (observationBytes = 10) =>
  (i: number): StepInput => ({
    action: `search('quantum turbulence ${i % 7}')`,
    observation: `hits ${"x".repeat(observationBytes)}`,
    tool: i % 3 ? "search" : "browser",
    latencyMs: 100 + (i % 5) * 10,
  });

/** Step `i` of a run on one tool at a steady 100 ms; with `observationBytes`, that many bytes pad the observation. */
export const heatStep =
  (observationBytes?: number) =>
  (i: number): StepInput => ({
    action: `heat ${i}`,
    observation: observationBytes === undefined ? "warmer" : `warmer ${"x".repeat(observationBytes)}`,
    tool: "stove",
    latencyMs: 100,
  });

export interface TraceOptions {
  /** Default "live-task". */
  taskId?: string;
  /** Default "search quantum turbulence". */
  task?: string;
  /** Fields that differ from CORRIDOR_SPEC. */
  spec?: Partial<CorridorSpec>;
  /** The input of step `i`; default searchStep() (observations padded with 10 bytes). */
  step?: (i: number) => StepInput;
  /** After step `at`, rewind to step `to`. */
  rewind?: { at: number; to: number };
  /** End the run with a footer; default true. */
  footer?: boolean;
}

/** The events of a run of `steps` steps. */
export function makeTrace(steps: number, opts: TraceOptions = {}): CTFEvent[] {
  const sink = new MemorySink();
  let t = 1736280000;
  const c = createCorridor({
    taskId: opts.taskId ?? "live-task",
    spec: { ...CORRIDOR_SPEC, ...opts.spec },
    writer: sink,
    task: opts.task ?? "search quantum turbulence",
    now: () => (t += 0.01),
  });
  const step = opts.step ?? searchStep();
  for (let i = 0; i < steps; i++) {
    c.step(step(i));
    if (i === opts.rewind?.at) c.rewind(opts.rewind.to);
  }
  if (opts.footer ?? true) c.end();
  return sink.events;
}

/** Events as NDJSON, one line each with its newline. */
export const ndjson = (events: object[]) => events.map((e) => `${JSON.stringify(e)}\n`).join("");

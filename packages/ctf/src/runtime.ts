import { type StatusResult, StepTree } from "./step-tree.js";
import type { Embedder } from "./text.js";
import type { CorridorSpec, CorridorStatus, CTFEvent, QMetrics, StepEvent } from "./types.js";
import type { CTFSink } from "./writer.js";

export interface CorridorOptions {
  taskId: string;
  spec: CorridorSpec;
  writer: CTFSink;
  /** Task text, the reference for semantic_drift; without it the first action is the reference. */
  task?: string;
  /** Replace TF-IDF with another text model (its name goes into the header). */
  embedder?: Embedder;
  /** Unix seconds; inject a fake clock for deterministic traces. */
  now?: () => number;
}

export interface StepInput {
  action: string;
  observation: string;
  tool?: string | null;
  latencyMs: number;
  /** Fork from this step instead of continuing from the head. */
  parentStepId?: number;
}

export interface StepResult extends StatusResult {
  stepId: number;
  q: QMetrics;
}

export interface Corridor {
  readonly taskId: string;
  readonly status: CorridorStatus;
  readonly headStepId: number | null;
  readonly ended: boolean;
  step(input: StepInput): StepResult;
  /** Rolls back to an ancestor of the head; returns the kept step's recomputed metrics. */
  rewind(toStep: number): StepResult;
  /** Writes the footer and closes the writer; returns the final status. */
  end(): CorridorStatus;
  /** Id of the head's n-th ancestor on the current lineage (1 = parent), or null past the root. */
  ancestor(generations: number): number | null;
  /** Step ids of the current lineage, root first. */
  lineage(): number[];
  /** The seed's live-monitor update: `{step, q, status}` of the head. */
  liveUpdate(): { step: number | null; q: QMetrics | null; status: CorridorStatus };
}

/**
 * The corridor runtime: every step is written as `step`, then its `q` and `status`, computed on the
 * current lineage (spec/ctf/v0.1/q_metrics.md). Step ids are never reused, even after a rewind.
 */
export function createCorridor(opts: CorridorOptions): Corridor {
  const now = opts.now ?? (() => Date.now() / 1000);
  const { writer, spec } = opts;
  const state = new StepTree(spec, opts.task, { embedder: opts.embedder });
  let nextId = 0;
  let status: CorridorStatus = "stable";
  let lastQ: QMetrics | null = null;
  let ended = false;

  const emit = (e: CTFEvent) => writer.write(e);
  emit({
    type: "header",
    task_id: opts.taskId,
    timestamp: now(),
    corridor_spec: spec,
    ...(opts.task !== undefined ? { task: opts.task } : {}),
    ...(opts.embedder ? { embedder: opts.embedder.name } : {}),
    ctf_version: "0.1",
  });

  const describeHead = (): StepResult => {
    const head = state.head!;
    const { q, ...s } = state.describeHead();
    emit({ type: "q", step_id: head.id, ...q });
    emit({ type: "status", step_id: head.id, corridor_status: s.corridor_status, violations: s.violations });
    status = s.corridor_status;
    lastQ = q;
    return { stepId: head.id, q, ...s };
  };

  const live = () => {
    if (ended) throw new Error(`corridor ${opts.taskId}: already ended`);
  };

  return {
    taskId: opts.taskId,
    get status() {
      return status;
    },
    get headStepId() {
      return state.head?.id ?? null;
    },
    get ended() {
      return ended;
    },
    step(input) {
      live();
      if (status === "halted")
        throw new Error(`corridor ${opts.taskId}: halted after max_steps=${spec.max_steps} steps`);
      if (!Number.isFinite(input.latencyMs) || input.latencyMs < 0) {
        throw new Error(`corridor ${opts.taskId}: latencyMs must be a finite number >= 0, got ${input.latencyMs}`);
      }
      let parent = state.head;
      if (input.parentStepId !== undefined) {
        const p = state.byId.get(input.parentStepId);
        if (!p?.valid)
          throw new Error(`corridor ${opts.taskId}: parentStepId ${input.parentStepId} is not a valid step`);
        parent = p;
      }
      const event: StepEvent = {
        type: "step",
        step_id: nextId++,
        parent_step_id: parent?.id ?? null,
        timestamp: now(),
        action: input.action,
        observation: input.observation,
        tool: input.tool ?? null,
        latency_ms: input.latencyMs,
      };
      emit(event);
      state.addStep(event, 0, parent);
      return describeHead();
    },
    rewind(toStep) {
      live();
      const head = state.head;
      const to = state.byId.get(toStep);
      if (!head || !to?.valid || !StepTree.isAncestor(to, head)) {
        throw new Error(
          `corridor ${opts.taskId}: cannot rewind to ${toStep}: not an ancestor of the head (${head?.id ?? "none"})`,
        );
      }
      emit({ type: "rewind", from_step: head.id, to_step: toStep, timestamp: now() });
      state.rewind(to);
      return describeHead();
    },
    end() {
      if (ended) return status;
      emit({ type: "footer", timestamp: now(), final_status: status });
      writer.close(status);
      ended = true;
      return status;
    },
    ancestor(generations) {
      let n = state.head;
      for (let i = 0; i < generations && n; i++) n = n.parent;
      return n?.id ?? null;
    },
    lineage() {
      return state.lineage().map((n) => n.id);
    },
    liveUpdate() {
      return { step: state.head?.id ?? null, q: lastQ, status };
    },
  };
}

/**
 * `@rtt/server/api`: the response types of the replay, session, mastery and CTF HTTP API
 * (docs/contracts/internal-contracts.md), for clients such as the web UI. Type-only: importing it loads nothing.
 * Each type is derived from the server code that builds the response, so the two cannot drift apart.
 * The diagnostics API (/api/rtt) has its own public contract in @rtt/sdk.
 */
import type { Anomaly, CurriculumReport as CoreCurriculumReport, Sample, Scores, SessionLogV2 } from "@rtt/core";
import type { CorridorStatus, CTFEvent, CTFIssue, LoadedTrace } from "@rtt/ctf";
import type { DiffAlignedRow, DiffStepRow, TraceDiffView } from "./ctf/diff-view.js";
import type { TraceListing } from "./ctf/store.js";
import type {
  TraceColumns,
  TraceFindResult,
  TraceOverviewRow,
  TraceRewindMark,
  TraceStepRow,
  TraceStepsPage,
  TraceViewFacts,
} from "./ctf/view.js";
import type { listItem, sessionSegments } from "./replay/routes.js";
import type { Facets, MasteryEvent, Note, OperatorRecord, SegmentIndexEntry, SessionColumns } from "./store/types.js";

export type { ErrorBody, ErrorDetail, HttpErrorCode } from "@rtt/http";

// --- Replay: sessions -------------------------------------------------------------------------------------------

/** One row of `GET /replay/sessions` (next page: the `X-Next-Cursor` header). */
export type SessionListItem = ReturnType<typeof listItem>;

/** `GET /replay/facets`. */
export type SessionFacets = Facets;

/** One segment of `GET /replay/{id}` and of `GET /replay/{id}/segments`. */
export type SegmentInfo = SegmentIndexEntry;

/** `GET /replay/{id}/segments`: the seed's `{session_id, segments}`. */
export interface SessionSegments extends Omit<ReturnType<typeof sessionSegments>, "segments"> {
  segments: SegmentInfo[];
}

/** `GET /replay/{id}`. */
export interface SessionDetail extends SessionListItem {
  operator_team: SessionColumns["operator_team"];
  engine_version: SessionColumns["engine_version"];
  /** The log's scores, as ingested (stored as SessionSummaryJson["scores"]). */
  scores: Scores;
  /** The log's triadic block (v1: its root snr and dimcore), or null. */
  triadic: NonNullable<SessionLogV2["triadic"]> | null;
  segments: SegmentInfo[];
}

/** One event of `GET /replay/{id}/segment/{seg}/events` (and the payload of a `sample`/`anomaly` SSE frame). */
export type TimelineEvent =
  | { t: number; kind: "sample"; payload: Sample }
  | { t: number; kind: "anomaly"; payload: Anomaly };

/** `GET /replay/{id}/segment/{seg}/events`. */
export interface EventsPage {
  segment_id: string;
  events: TimelineEvent[];
  truncated: boolean;
}

/** `GET /replay/{id}/segment/{seg}/columns`; `n_total` and `decimated` come only with from_t, to_t or max_points. */
export interface SegmentColumns {
  segment_id: string;
  /** Points returned. */
  n: number;
  /** Samples in range before decimation. */
  n_total?: number;
  decimated?: boolean;
  t: number[];
  C: number[];
  D: number[];
  Q: number[];
  R: number[];
}

/** A note of `GET /replay/{id}/notes`, and the 201 body of `POST /replay/{id}/notes`. */
export type ReplayNote = Note;

/** The body of `POST /replay/{id}/notes`. */
export interface NoteRequest {
  t: number;
  text: string;
  author: string;
  segment_id?: string | null;
}

/** `GET /replay/{id}/curriculum`: @rtt/core's `evaluateCurriculum` report. */
export type CurriculumReport = CoreCurriculumReport;

// --- Operators and mastery --------------------------------------------------------------------------------------

/** One row of `GET /api/operators`. */
export type OperatorRow = OperatorRecord;

/** One entry of `GET /api/operators/{operator_id}/mastery`, in session order. */
export type MasteryPoint = MasteryEvent;

// --- CTF traces ---------------------------------------------------------------------------------------------------

/** One trace of `GET /ctf`. */
export type CtfTraceListing = TraceListing;

/** `GET /ctf`. */
export interface CtfTraceList {
  traces: CtfTraceListing[];
}

/** `POST /ctf`: 201 for a new trace, 200 `{id, created: false}` for a byte-identical re-upload. */
export type CtfUploadResult =
  | {
      id: string;
      created: true;
      task_id: string | undefined;
      steps: number;
      final_status: CorridorStatus | undefined;
      warnings: CTFIssue[];
    }
  | { id: string; created: false };

/**
 * `POST /ctf/{id}/events`. A rejected event is a 400 ErrorBody with `accepted`, `body_line` and `issues`, and with
 * `events` and `complete` as here: the accepted prefix is stored, and may have held the footer.
 */
export interface CtfAppendResult {
  accepted: number;
  events: number;
  complete: boolean;
}

type StepNode = LoadedTrace["steps"][number];

/** One step of `GET /api/corridor/{id}`: the step event plus what the trace says about it. */
export type CorridorStep = StepNode["event"] & {
  valid: StepNode["valid"];
  on_lineage: StepNode["onLineage"];
  /** The step's last q metrics (without `type` and `step_id`): from the file, else computed on read; null only when they cannot be computed (a foreign embedder). */
  q: Omit<NonNullable<StepNode["q"]>, "type" | "step_id"> | null;
  corridor_status: CorridorStatus | null;
  violations: NonNullable<StepNode["violations"]>;
};

/** `GET /api/corridor/{id}`. */
export interface CorridorView {
  id: string;
  header: LoadedTrace["header"];
  footer: LoadedTrace["footer"];
  complete: boolean;
  final_status: LoadedTrace["finalStatus"];
  /** How many steps' `q` (and status, when the file has none) were computed on read rather than read from the file. */
  q_computed: number;
  /** Step ids of the final lineage, root first. */
  lineage: number[];
  steps: CorridorStep[];
  rewinds: LoadedTrace["rewinds"];
  status_timeline: LoadedTrace["statusChanges"];
  events: CTFEvent[];
  issues: CTFIssue[];
}

// --- CTF trace viewer (the web UI's traces list, trace view and step debugger) ---------------------------------

/** One row of `GET /ctf/overview`: a `GET /ctf` listing plus rewinds, violation counts and live state. */
export type CtfTraceOverview = TraceOverviewRow;

/** `GET /ctf/overview`. */
export interface CtfTraceOverviewList {
  traces: CtfTraceOverview[];
}

/** `GET /ctf/{id}/view`. */
export type CtfTraceView = TraceViewFacts;
/** A rewind of `GET /ctf/{id}/view`, placed at the step position where it happened. */
export type CtfRewindMark = TraceRewindMark;
/** `GET /ctf/{id}/columns` (decimated with max_points, min/max per bucket). */
export type CtfColumns = TraceColumns;
/** `GET /ctf/{id}/steps`. */
export type CtfStepsPage = TraceStepsPage;
/** One step of `GET /ctf/{id}/steps`. */
export type CtfStepRow = TraceStepRow;
/** `GET /ctf/{id}/find`. */
export type CtfFindResult = TraceFindResult;

// --- CTF diff view (the web UI's `?view=trace-diff`) --------------------------------------------------------------

/** `GET /ctf/diff?a=&b=`: @rtt/ctf's diff of two traces plus their lineages aligned and the per-metric B − A. */
export type CtfDiffView = TraceDiffView;
/** One aligned lineage index of `GET /ctf/diff`. */
export type CtfDiffRow = DiffAlignedRow;
/** One side's step in a `CtfDiffRow`. */
export type CtfDiffStep = DiffStepRow;

// --- Fabric (issue 17 item 6): the Fabric view's read routes -----------------------------------------------------

export type {
  FabricBreakerState,
  FabricCommit,
  FabricGraph,
  FabricPlans,
  FabricRouteRow,
  FabricSignature,
  FabricSignatureStatus,
  FabricStatus,
  FabricWalEvent,
} from "./fabric/types.js";

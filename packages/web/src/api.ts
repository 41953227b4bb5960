// Client for the replay API (docs/contracts/internal-contracts.md, "Server — replay API").
// Every call goes to the same origin: the server serves this UI at `/` next to `/replay/*` and `/api/*`.

// The wire types are the server's (`@rtt/server/api`, derived from the code that builds each response), imported
// type-only: nothing of the server is bundled. Where the wire type is an open record or a loose union, the UI
// names the shape it reads (Triadic, TimelineEvent).
import type * as Wire from "@rtt/server/api";

export type SessionRow = Wire.SessionListItem;
export type Facets = Wire.SessionFacets;
/** A segment as the replay reads it: one without samples (null bounds on the wire) spans [0, 0]. */
export type SegmentInfo = Omit<Wire.SegmentInfo, "t_min" | "t_max"> & { t_min: number; t_max: number };
export type Columns = Wire.SegmentColumns;
export type Note = Wire.ReplayNote;
export type CurriculumReport = Wire.CurriculumReport;
export type Objective = CurriculumReport["objectives"][number];
export type Evidence = Objective["evidence"][number];
export type OperatorRow = Wire.OperatorRow;
export type MasteryPoint = Wire.MasteryPoint;
export type CtfTraceRow = Wire.CtfTraceOverview;
export type CtfTraceView = Wire.CtfTraceView;
export type CtfRewind = Wire.CtfRewindMark;
export type CtfColumns = Wire.CtfColumns;
export type CtfStepsPage = Wire.CtfStepsPage;
export type CtfStep = Wire.CtfStepRow;
export type CtfFind = Wire.CtfFindResult;
export type CtfDiffView = Wire.CtfDiffView;
export type CtfDiffRow = Wire.CtfDiffRow;
export type CtfDiffStep = Wire.CtfDiffStep;

type Payload = Wire.TimelineEvent["payload"];
export type Sample = Extract<Payload, { C: number }>;
export type Anomaly = Extract<Payload, { type: string }>;
/** An event of a segment: the wire's kind and payload, paired. */
export type TimelineEvent =
  | (Omit<Wire.TimelineEvent, "kind" | "payload"> & { kind: "sample"; payload: Sample })
  | (Omit<Wire.TimelineEvent, "kind" | "payload"> & { kind: "anomaly"; payload: Anomaly });
export type EventsPage = Omit<Wire.EventsPage, "events"> & { events: TimelineEvent[] };

/** The parts of a session's triadic block (an open record on the wire) that the overlays draw. */
export interface SetValues {
  S: number;
  E: number;
  T: number;
}
export interface DimCore {
  model?: string;
  dims: Record<string, number>;
}
export interface SnrNode {
  id: string;
  role?: string;
  neighbors?: string[];
  local_corridor?: { t?: number; C?: number; D?: number; Q?: number; R?: number };
  coupling?: number;
}
export interface Triadic {
  set?: SetValues;
  dimcore?: DimCore;
  snr?: { nodes: SnrNode[] };
}
export type SessionDetail = Omit<Wire.SessionDetail, "triadic" | "segments"> & {
  triadic: Triadic | null;
  segments: SegmentInfo[];
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: { path?: string; line?: number; message: string }[],
  ) {
    super(message);
  }
}

/** Fired on `window` when the server asks for a token (401): the app shows its sign-in form. */
export const AUTH_REQUIRED_EVENT = "rtt:auth-required";

/**
 * Signs this browser in: the server turns a valid token into an HttpOnly cookie, which every later request
 * (fetch, EventSource, WebSocket) carries. The token itself is not kept by the page.
 */
export async function signIn(token: string): Promise<{ access: "read" | "write" }> {
  return (
    await request("/auth/session", { method: "POST", headers: { authorization: `Bearer ${token.trim()}` } })
  ).json();
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { accept: "application/json", ...(init?.headers ?? {}) } });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "Cannot reach the RTT server. Is `rtt serve` running?");
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    let details: ApiError["details"];
    try {
      const body = (await res.json()) as { error?: string; details?: ApiError["details"] };
      if (body.error) message = body.error;
      details = body.details;
    } catch {
      /* body was not JSON */
    }
    if (res.status === 401 && path !== "/auth/session") window.dispatchEvent(new Event(AUTH_REQUIRED_EVENT));
    throw new ApiError(res.status, message, details);
  }
  return res;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request(path, { signal })).json() as Promise<T>;
}

const enc = encodeURIComponent;

/** A segment without samples has null bounds on the wire; the replay reads it as spanning [0, 0]. */
const segmentBounds = (g: Wire.SegmentInfo): SegmentInfo => ({ ...g, t_min: g.t_min ?? 0, t_max: g.t_max ?? 0 });

export interface ColumnsQuery {
  from_t?: number;
  to_t?: number;
  max_points?: number;
}

/**
 * A segment's columns as a query (query.ts): the same key for a prefetch and the view that takes it. A stored
 * segment's samples never change, so its columns are reused for as long as the page lives (`staleMs: Infinity`).
 */
export function columnsQuery(id: string, seg: string, q: ColumnsQuery = {}) {
  return {
    key: ["columns", id, seg, qs({ ...q })] as const,
    fetcher: (signal: AbortSignal) => api.columns(id, seg, q, signal),
    staleMs: Number.POSITIVE_INFINITY,
  };
}

/**
 * Points to ask for when plotting a segment: about 10 per CSS pixel of plot width (a decimation bucket keeps up to
 * 10 samples: its ends and the min and max of C, D, Q, R), rounded up to a multiple of 1000 so small layout changes
 * reuse the server's cached body, within [2000, 20000]. The plots column is the window minus the side panel.
 */
export function plotPointBudget(): number {
  const width = Math.max(320, (typeof window === "undefined" ? 1280 : window.innerWidth) - 360);
  return Math.min(20_000, Math.max(2_000, Math.ceil((10 * width) / 1000) * 1000));
}

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}

export interface SessionQuery {
  operator?: string;
  device_type?: string;
  scenario?: string;
  difficulty?: string;
  level_min?: number;
  level_max?: number;
  has_anomalies?: boolean;
  spec_version?: string;
  from?: string;
  to?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
}

export const api = {
  async sessions(q: SessionQuery, signal?: AbortSignal): Promise<{ rows: SessionRow[]; next: string | null }> {
    const res = await request(`/replay/sessions${qs({ ...q })}`, { signal });
    return { rows: (await res.json()) as SessionRow[], next: res.headers.get("X-Next-Cursor") };
  },
  facets: (signal?: AbortSignal) => getJson<Facets>("/replay/facets", signal),
  async session(id: string, signal?: AbortSignal): Promise<SessionDetail> {
    const d = await getJson<Wire.SessionDetail>(`/replay/${enc(id)}`, signal);
    return { ...d, triadic: d.triadic as Triadic | null, segments: d.segments.map(segmentBounds) };
  },
  /** A session's segment index alone: `GET /replay/{id}/segments`, the seed's `{session_id, segments}`. */
  async segments(id: string, signal?: AbortSignal): Promise<{ session_id: string; segments: SegmentInfo[] }> {
    const d = await getJson<Wire.SessionSegments>(`/replay/${enc(id)}/segments`, signal);
    return { session_id: d.session_id, segments: d.segments.map(segmentBounds) };
  },
  events: (
    id: string,
    seg: string,
    q: { from_t?: number; to_t?: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<EventsPage> => getJson(`/replay/${enc(id)}/segment/${enc(seg)}/events${qs(q)}`, signal),
  /**
   * Plot columns of a segment. With no query: every sample. With max_points (and from_t/to_t): the samples in
   * range, decimated to at most max_points when there are more (see docs/contracts/internal-contracts.md).
   */
  async columns(id: string, seg: string, q: ColumnsQuery = {}, signal?: AbortSignal): Promise<Columns> {
    const url = `/replay/${enc(id)}/segment/${enc(seg)}/columns${qs({ ...q })}`;
    if (q.from_t !== undefined || q.to_t !== undefined) return getJson<Columns>(url, signal);
    // Marks let the bench (bench/replay-ui) split "fetched + parsed" from "drawn" for the segment's first load.
    performance.mark("rtt:columns-start");
    const cols = await getJson<Columns>(url, signal);
    performance.mark("rtt:columns-parsed");
    return cols;
  },
  streamUrl: (id: string, seg: string, q: { speed: number; from_t?: number; to_t?: number }) =>
    `/replay/${enc(id)}/segment/${enc(seg)}/stream${qs({ ...q, overlay: "anomalies" })}`,
  exportUrl: (id: string) => `/replay/${enc(id)}/export`,
  notes: (id: string, signal?: AbortSignal) => getJson<Note[]>(`/replay/${enc(id)}/notes`, signal),
  async addNote(id: string, note: { t: number; text: string; author: string; segment_id?: string }): Promise<Note> {
    const res = await request(`/replay/${enc(id)}/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(note),
    });
    return (await res.json()) as Note;
  },
  curriculum: (id: string, signal?: AbortSignal) => getJson<CurriculumReport>(`/replay/${enc(id)}/curriculum`, signal),
  operators: (signal?: AbortSignal) => getJson<OperatorRow[]>("/api/operators", signal),
  mastery: (op: string, signal?: AbortSignal) => getJson<MasteryPoint[]>(`/api/operators/${enc(op)}/mastery`, signal),
  /** Every stored CTF trace, with rewinds, violations and live state (the traces list). */
  ctfTraces: (signal?: AbortSignal) => getJson<Wire.CtfTraceOverviewList>("/ctf/overview", signal),
  ctfView: (id: string, signal?: AbortSignal) => getJson<CtfTraceView>(`/ctf/${enc(id)}/view`, signal),
  /** A trace's lanes; with max_points, decimated on the server (min/max per bucket). Marks for bench/ctf-ui. */
  async ctfColumns(
    id: string,
    q: { from?: number; to?: number; max_points?: number },
    signal?: AbortSignal,
  ): Promise<CtfColumns> {
    performance.mark("rtt:ctf-columns-start");
    const cols = await getJson<CtfColumns>(`/ctf/${enc(id)}/columns${qs(q)}`, signal);
    performance.mark("rtt:ctf-columns-parsed");
    return cols;
  },
  ctfSteps: (id: string, q: { from: number; to: number }, signal?: AbortSignal) =>
    getJson<CtfStepsPage>(`/ctf/${enc(id)}/steps${qs(q)}`, signal),
  ctfFind: (id: string, q: { from: number; dir: 1 | -1; lineage?: boolean; when?: string }, signal?: AbortSignal) =>
    getJson<CtfFind>(`/ctf/${enc(id)}/find${qs(q)}`, signal),
  ctfRawUrl: (id: string) => `/ctf/${enc(id)}/raw`,
  /** Two traces compared (rtt ctf diff's result), their lineages aligned (rows [from, to)) and B − A per metric. */
  ctfDiff: (a: string, b: string, q: { from?: number; to?: number; max_points?: number }, signal?: AbortSignal) =>
    getJson<CtfDiffView>(`/ctf/diff${qs({ a, b, ...q })}`, signal),
  /** The live WebSocket of a trace (docs/api/ctf.md); `from=end`: only the events appended after it opened. */
  ctfLiveUrl: (id: string, from: "start" | "end") =>
    `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ctf/${enc(id)}/live?from=${from}`,
};

/** All anomalies of one segment, in time order. Pages through the events endpoint when it is truncated. */
export async function segmentAnomalies(
  id: string,
  seg: SegmentInfo,
  signal?: AbortSignal,
): Promise<{ anomalies: Anomaly[]; complete: boolean }> {
  if (!seg.anomaly_count) return { anomalies: [], complete: true };
  const anomalies: Anomaly[] = [];
  const limit = 20_000;
  let from_t: number | undefined;
  for (let page = 0; page < 25; page++) {
    const res = await api.events(id, seg.segment_id, { from_t, limit }, signal);
    for (const e of res.events) {
      if (e.kind !== "anomaly") continue;
      const last = anomalies[anomalies.length - 1];
      if (last && last.t === e.t && last.type === e.payload.type) continue; // page overlap at equal t
      anomalies.push(e.payload);
    }
    if (!res.truncated || res.events.length === 0 || anomalies.length >= seg.anomaly_count) {
      return { anomalies, complete: true };
    }
    const lastT = res.events[res.events.length - 1]!.t; // not empty: returned above
    if (from_t !== undefined && lastT <= from_t) break;
    from_t = lastT;
  }
  return { anomalies, complete: false };
}

export function shortOperator(op?: string | null, display?: string | null): string {
  if (display) return display;
  if (!op) return "—";
  const parts = op.split(":");
  return parts[parts.length - 1] || op;
}

// --- Fabric view (GET /fabric/*: `rtt serve --fabric-root`) -------------------------------------------------------

export type FabricStatus = Wire.FabricStatus;
export type FabricRouteRow = Wire.FabricRouteRow;
export type FabricPlans = Wire.FabricPlans;
export type FabricCommit = Wire.FabricCommit;
export type FabricSignature = Wire.FabricSignature;
export type FabricGraph = Wire.FabricGraph;

export const fabricApi = {
  status: (signal?: AbortSignal) => getJson<FabricStatus>("/fabric/status", signal),
  plans: (limit: number, signal?: AbortSignal) => getJson<FabricPlans>(`/fabric/plans${qs({ limit })}`, signal),
  graph: (signal?: AbortSignal) => getJson<FabricGraph>("/fabric/graph", signal),
};

import type { CTFIssue } from "@rtt/ctf";
import type { SiteSummary } from "@rtt/sdk";
import type { TraceListing } from "../../src/ctf/index.js";
import type { OperatorRecord } from "../../src/store/types.js";

/**
 * A JSON answer's body as the wire shape the test expects. fetch types bodies as `unknown`; naming the shape here
 * keeps the test's property accesses checked (the assertions then check the values).
 */
export async function readJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Every error answer: `{error, code}` plus route-specific fields. */
export interface ErrorBody {
  error: string;
  /** The stable RTT_ERR_* code (packages/http/src/error-codes.ts). */
  code?: string;
  issues?: CTFIssue[];
  accepted?: number;
  body_line?: number;
  /** A refused CTF append: events stored and whether the footer is among them. */
  events?: number;
  complete?: boolean;
}

/** `GET /ctf`. */
export interface TraceList {
  traces: TraceListing[];
}

/** `POST /ctf`. */
export interface CtfUpload {
  id: string;
  created: boolean;
  task_id?: string | null;
  steps?: number;
}

/** `GET /api/corridor/:id` (the fields the tests read). */
export interface CorridorDoc {
  id: string;
  header: { task_id: string } | null;
  steps: Array<{ step_id: number; valid: boolean }>;
  lineage: number[];
  rewinds: unknown[];
  events: unknown[];
  issues: CTFIssue[];
}

/** `POST /sessions` with an NDJSON batch. */
export interface BatchAnswer {
  results: Array<{ status: number }>;
}

/** `GET /api/operators`. */
export type OperatorList = OperatorRecord[];

/** `GET /api/rtt/sites`. */
export interface SiteList {
  sites: SiteSummary[];
}

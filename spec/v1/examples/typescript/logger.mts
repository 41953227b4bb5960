// logger.mts — builds and writes RTT-Inside session logs (v1; v2 with segments).
import { writeFileSync } from "node:fs";
import type { Sample } from "./engine.mjs";

export type Session = Record<string, string>;

export interface Scores {
  stability: number;
  response: number;
  quality: number;
  final: number;
}

export interface Anomaly {
  t: number;
  type: string;
}

export interface SessionLogV1 {
  session_id: string;
  timestamp: string;
  device: string;
  scenario: string;
  difficulty: string;
  samples: Sample[];
  anomalies: Anomaly[];
  scores: Scores;
  [extra: string]: unknown;
}

export interface Segment {
  segment_id: string;
  label: string;
  samples: Sample[];
}

const zeroScores = (): Scores => ({ stability: 0, response: 0, quality: 0, final: 0 });

export function buildSessionLog(session: Session, samples: Sample[], anomalies: Anomaly[] = []): SessionLogV1 {
  return { ...(session as Pick<SessionLogV1, "session_id" | "timestamp" | "device" | "scenario" | "difficulty">), samples, anomalies, scores: zeroScores() };
}

export function buildSegmentedLog(session: Session, segments: Segment[]) {
  return { spec_version: "v2" as const, ...session, segments, anomalies: [] as Anomaly[], scores: zeroScores() };
}

export function writeSessionLog(path: string, log: object): void {
  writeFileSync(path, `${JSON.stringify(log, null, 2)}\n`);
}

/** One object as one line on stdout (protocol mode). */
export function emitLine(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// logger.js — builds and writes RTT-Inside session logs (v1 schema; v2 with segments).
import { writeFileSync } from "node:fs";

const zeroScores = () => ({ stability: 0, response: 0, quality: 0, final: 0 });

/** A v1 session log: the session metadata at the root, then samples, anomalies and scores. */
export function buildSessionLog(session, samples, anomalies = []) {
  return { ...session, samples, anomalies, scores: zeroScores() };
}

/** A v2 session log: spec_version "v2" and segments of { segment_id, label, samples }. */
export function buildSegmentedLog(session, segments) {
  return { spec_version: "v2", ...session, segments, anomalies: [], scores: zeroScores() };
}

export function writeSessionLog(path, log) {
  writeFileSync(path, `${JSON.stringify(log, null, 2)}\n`);
}

/** One log as one line (protocol mode). */
export function emitLine(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { SessionEmitter } from "../src/emit.js";
import type { PreparedSession } from "../src/ingest/prepare.js";
import { prepareSession } from "../src/ingest/prepare.js";
import { Metrics } from "../src/metrics.js";
import { json, makeV2 } from "./support/fixtures.js";

const prepared = (id: string): PreparedSession => {
  const r = prepareSession(Buffer.from(json(makeV2(id, { samples: 200 }))));
  if (!r.ok) throw new Error(r.error);
  return r.session;
};

/** A reader that stalls: every write waits until `release` is called. */
function stalledOutput() {
  const waiting: Array<() => void> = [];
  const lines: string[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      waiting.push(done);
    },
  });
  const release = () => {
    for (const done of waiting.splice(0)) done();
  };
  return { out, lines, release };
}

describe("the Loki feed when its reader stalls", () => {
  it("holds at most maxBuffered bytes, drops and counts whole sessions, and says when it falls behind and catches up", async () => {
    const { out, lines, release } = stalledOutput();
    const reports: string[] = [];
    const cap = 100 * 1024;
    const emitter = new SessionEmitter(out, (m) => reports.push(m), cap);
    const sessions = Array.from({ length: 40 }, (_, i) => prepared(`feed-${i}`));
    const lineBytes = Buffer.byteLength(sessions[0].raw) + 1;
    for (const s of sessions) emitter.accepted(s);

    expect(out.writableLength).toBeLessThanOrEqual(cap + lineBytes);
    expect(emitter.dropped).toBeGreaterThan(0);
    expect(emitter.dropped).toBeLessThan(40);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/behind; dropping lines until it catches up/);

    // The reader wakes up: the stream hands over its queued lines one by one.
    for (let i = 0; i < 100 && out.writableLength > 0; i++) {
      release();
      await new Promise((r) => setImmediate(r));
    }
    expect(out.writableLength).toBe(0);
    const before = lines.length;
    emitter.accepted(prepared("after"));
    release();
    expect(reports[1]).toBe(`session log output caught up; lines of ${emitter.dropped} sessions were dropped`);
    expect(lines.slice(before).join("")).toContain('"session_id":"after"');
  });

  it("reports the drops as rtt_session_log_dropped_total", async () => {
    const m = new Metrics();
    let dropped = 0;
    m.watchSessionLog(() => dropped);
    expect(await m.registry.getSingleMetricAsString("rtt_session_log_dropped_total")).toMatch(
      /rtt_session_log_dropped_total 0$/m,
    );
    dropped = 7;
    expect(await m.registry.getSingleMetricAsString("rtt_session_log_dropped_total")).toMatch(
      /rtt_session_log_dropped_total 7$/m,
    );
    dropped = 9;
    expect(await m.registry.getSingleMetricAsString("rtt_session_log_dropped_total")).toMatch(
      /rtt_session_log_dropped_total 9$/m,
    );
  });
});

describe("the Loki feed's lines", () => {
  /** Everything the emitter writes for one accepted session, as text. */
  function emitted(body: Buffer | string) {
    const r = prepareSession(Buffer.from(body));
    if (!r.ok) throw new Error(r.error);
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    new SessionEmitter(out).accepted(r.session, { state: { operator_id: "o", level: 3, xp: 1 }, delta: 1, reason: "" });
    return Buffer.concat(chunks).toString().split("\n");
  }
  const log = makeV2("LINE-1", { anomalies: [[0.5, "DECOHERENCE_SPIKE", 3]] });
  const compact = json(log);

  it("keeps a compact document's bytes, with the fields it lacked spliced in, then one line per anomaly", () => {
    const [line, anomaly, end] = emitted(compact);
    expect(line!.startsWith('{"mastery_level":3,')).toBe(true);
    expect(line!.endsWith(`,${compact.slice(1)}`)).toBe(true);
    expect(JSON.parse(line!)).toMatchObject({ ...log, mastery_level: 3 });
    expect(JSON.parse(anomaly!)).toMatchObject({ event: "anomaly", session_id: "LINE-1", type: "DECOHERENCE_SPIKE" });
    expect(end).toBe("");
  });

  it("writes the same line for the same document with a byte order mark and blanks around it, or pretty-printed", () => {
    const [line] = emitted(compact);
    expect(emitted(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(` \t${compact}\t `)]))[0]).toBe(line);
    expect(JSON.parse(emitted(JSON.stringify(log, null, 2))[0]!)).toEqual(JSON.parse(line!));
  });
});

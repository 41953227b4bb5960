// A development stand-in for the replay API (docs/contracts/internal-contracts.md), serving packages/web/dist.
// Only for working on the UI without the real server: the e2e tests and the bench use `rtt serve`.
//   node packages/web/dev/mock-server.mjs [--port 5199] [--big 1000000]
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1]) || 5199;
const big = args.includes("--big") ? Number(args[args.indexOf("--big") + 1]) : 0;

let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const OPS = ["alice.smith", "bob.jones", "carol.wu", "dan.okafor"];
const SCEN = [
  ["COMT_LOCK_01", "COMT", "Journeyman"],
  ["CTE_DRIFT_02", "CTE", "Apprentice"],
  ["CLFC_HANDOFF_03", "CLFC", "Expert"],
];
const TYPES = ["DECOHERENCE_SPIKE", "CORRIDOR_C_DRIFT", "OVERSHOOT_EVENT", "HUNTING_OSCILLATION", "SNR_NODE_DESYNC"];

function makeSegment(id, label, n, dt, anomalies) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = Number((i * dt).toFixed(6));
    samples.push({
      t,
      C: 0.1 + 0.02 * Math.sin(i / 15) + 0.004 * rnd(),
      D: 1 - 0.0004 * i * (label === "main" ? 1 : 0.3) - 0.01 * rnd() * (i % 97 === 0 ? 5 : 0.1),
      Q: 0.5 + 0.1 * Math.cos(i / 40),
      R: 0.05 * Math.sin(i / 7) ** 2,
      ...(i % 50 === 0 ? { triadic: { set: { S: 0.5 + rnd() / 2, E: 0.4 + rnd() / 3, T: 0.7 } } } : {}),
    });
  }
  return { segment_id: id, label, samples, anomalies };
}

const sessions = [];
for (let k = 0; k < 36; k++) {
  const op = OPS[k % OPS.length];
  const [scenario, device_type, difficulty] = SCEN[k % SCEN.length];
  const nA = k % 3 === 0 ? 0 : 1 + (k % 4);
  const mainN = 120 + (k % 5) * 40;
  const anoms = [];
  for (let a = 0; a < nA; a++)
    anoms.push({
      t: Number(((mainN * 0.05 * (a + 1)) / (nA + 1)).toFixed(2)),
      type: TYPES[(k + a) % TYPES.length],
      severity: 1 + ((k + a) % 5),
    });
  const segs = [
    makeSegment(
      "seg-warmup",
      "warmup",
      40,
      0.05,
      k % 4 === 1 ? [{ t: 1, type: "SEGMENT_BOUNDARY_GLITCH", severity: 2 }] : [],
    ),
    makeSegment("seg-main", "main", mainN, 0.05, anoms),
    makeSegment("seg-cooldown", "cooldown", 30, 0.05, []),
  ];
  const id = `RTT-2026-01-${String(1 + Math.floor(k / 4)).padStart(2, "0")}-${String(k).padStart(3, "0")}`;
  sessions.push({
    spec_version: k % 7 === 3 ? "v1" : "v2",
    session_id: id,
    operator_id: `urn:operator:triadic:${op}`,
    operator_team: "blue",
    mastery_level: Math.min(30, 2 + Math.floor(k / 4) + (k % 4)),
    timestamp: new Date(Date.UTC(2026, 0, 1 + Math.floor(k / 4), 9 + (k % 4) * 3, 10)).toISOString(),
    device: `${device_type}-01`,
    device_type,
    scenario,
    difficulty,
    mode: "TRAINING",
    engine_version: "RTT-2.0.0",
    segments: segs,
    score_final: Math.round(60 + 35 * rnd()),
    triadic:
      k % 2 === 0
        ? {
            set: { S: 0.8, E: 0.6, T: 0.9 },
            dimcore: {
              model: "RTT-9",
              dims: Object.fromEntries([...Array(9)].map((_, i) => [`d${i}`, 0.05 + rnd() * 0.2])),
            },
            snr: {
              nodes: ["n1", "n2", "n3", "n4", "n5"].map((n, i, all) => ({
                id: n,
                role: i === 0 ? "hub" : "leaf",
                neighbors: i === 0 ? all.slice(1) : ["n1", all[(i % 4) + 1]],
                local_corridor: { t: 1, C: 0.1 + i * 0.01, D: 1 - i * 0.03, Q: 0.5, R: 0.01 * i },
              })),
            },
          }
        : undefined,
  });
}
if (big) {
  sessions.push({
    spec_version: "v2",
    session_id: "RTT-BIG-1M",
    operator_id: "urn:operator:triadic:bench",
    mastery_level: 12,
    timestamp: "2026-02-01T00:00:00Z",
    device: "COMT-01",
    device_type: "COMT",
    scenario: "COMT_LOCK_01",
    difficulty: "Journeyman",
    mode: "TRAINING",
    segments: [makeSegment("seg-main", "main", big, 0.001, [{ t: 500, type: "DECOHERENCE_SPIKE", severity: 4 }])],
    score_final: 80,
  });
}
const notes = new Map();
const summary = (s) => {
  const all = s.segments.flatMap((g) => g.anomalies);
  return {
    session_id: s.session_id,
    operator_id: s.operator_id,
    operator_display: s.operator_id.split(":").pop(),
    mastery_level: s.mastery_level,
    timestamp: s.timestamp,
    device: s.device,
    device_type: s.device_type,
    scenario: s.scenario,
    difficulty: s.difficulty,
    mode: s.mode,
    spec_version: s.spec_version,
    segment_count: s.segments.length,
    sample_count: s.segments.reduce((a, g) => a + g.samples.length, 0),
    anomaly_count: all.length,
    max_severity: all.length ? Math.max(...all.map((a) => a.severity)) : null,
    score_final: s.score_final,
  };
};
const segInfo = (g) => ({
  segment_id: g.segment_id,
  label: g.label,
  sample_count: g.samples.length,
  anomaly_count: g.anomalies.length,
  t_min: g.samples[0]?.t ?? 0,
  t_max: g.samples.at(-1)?.t ?? 0,
  duration: (g.samples.at(-1)?.t ?? 0) - (g.samples[0]?.t ?? 0),
  max_severity: g.anomalies.length ? Math.max(...g.anomalies.map((a) => a.severity)) : null,
});
const events = (g) => {
  const ev = [
    ...g.samples.map((s) => ({ t: s.t, kind: "sample", payload: s })),
    ...g.anomalies.map((a) => ({ t: a.t, kind: "anomaly", payload: a })),
  ];
  return ev.sort((a, b) => a.t - b.t || (a.kind === "sample" ? -1 : 1));
};

const send = (res, code, body, headers = {}) => {
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const q = url.searchParams;
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === "replay" && parts[1] === "sessions") {
      let rows = sessions.map(summary);
      if (q.get("operator")) rows = rows.filter((r) => r.operator_id === q.get("operator"));
      for (const k of ["device_type", "scenario", "difficulty", "spec_version"])
        if (q.get(k)) rows = rows.filter((r) => r[k] === q.get(k));
      if (q.get("level_min")) rows = rows.filter((r) => r.mastery_level >= Number(q.get("level_min")));
      if (q.get("level_max")) rows = rows.filter((r) => r.mastery_level <= Number(q.get("level_max")));
      if (q.get("has_anomalies") === "true") rows = rows.filter((r) => r.anomaly_count > 0);
      if (q.get("from")) rows = rows.filter((r) => r.timestamp >= q.get("from"));
      if (q.get("to")) rows = rows.filter((r) => r.timestamp <= q.get("to"));
      const sort = q.get("sort") ?? "-timestamp";
      const f = sort.replace("-", "");
      rows.sort((a, b) => (a[f] < b[f] ? -1 : a[f] > b[f] ? 1 : 0) * (sort.startsWith("-") ? -1 : 1));
      const limit = Number(q.get("limit") ?? 50);
      const off = Number(q.get("cursor") ?? 0);
      const page = rows.slice(off, off + limit);
      return send(res, 200, page, off + limit < rows.length ? { "X-Next-Cursor": String(off + limit) } : {});
    }
    if (parts[0] === "replay" && parts[1] === "facets") {
      return send(res, 200, {
        operators: OPS.map((o) => ({ operator_id: `urn:operator:triadic:${o}`, operator_display: o })),
        device_types: ["CLFC", "COMT", "CTE"],
        scenarios: SCEN.map((s) => s[0]),
        difficulties: ["Apprentice", "Expert", "Journeyman"],
      });
    }
    if (parts[0] === "api" && parts[1] === "operators") {
      if (parts.length === 2)
        return send(
          res,
          200,
          OPS.map((o) => ({
            operator_id: `urn:operator:triadic:${o}`,
            operator_display: o,
            operator_team: "blue",
            level: 5,
            xp: 0.3,
            sessions: 9,
          })),
        );
      const mine = sessions.filter((s) => s.operator_id === parts[2]).map(summary);
      return send(
        res,
        200,
        mine
          .sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))
          .map((s, i) => ({
            session_id: s.session_id,
            timestamp: s.timestamp,
            level: 1 + Math.floor(i / 2),
            xp: 0.5,
            delta: 0.4,
            reason: "score 0.8 + complexity 0.08",
            score_final: s.score_final,
            anomaly_count: s.anomaly_count,
            max_severity: s.max_severity,
          })),
      );
    }
    if (parts[0] === "replay" && parts[1]) {
      const s = sessions.find((x) => x.session_id === parts[1]);
      if (!s) return send(res, 404, { error: `session "${parts[1]}" not found` });
      if (parts.length === 2)
        return send(res, 200, { ...summary(s), triadic: s.triadic ?? null, segments: s.segments.map(segInfo) });
      if (parts[2] === "export")
        return send(res, 200, s, { "content-disposition": `attachment; filename="${s.session_id}.json"` });
      if (parts[2] === "notes") {
        const list = notes.get(s.session_id) ?? [];
        if (req.method === "POST") {
          let body = "";
          req.on("data", (c) => {
            body += c;
          });
          req.on("end", () => {
            const n = { id: list.length + 1, ...JSON.parse(body), created_at: new Date().toISOString() };
            list.push(n);
            notes.set(s.session_id, list);
            send(res, 201, n);
          });
          return;
        }
        return send(res, 200, list);
      }
      if (parts[2] === "curriculum") {
        const all = s.segments.flatMap((g) => g.anomalies.map((a) => ({ ...a, seg: g.segment_id })));
        return send(res, 200, {
          scenario: s.scenario,
          difficulty: s.difficulty,
          objectives: [
            {
              id: "d",
              text: "Maintain D above 0.95 for 5s",
              passed: true,
              evidence: [{ segment_id: "seg-main", t_from: 0, t_to: 5, note: "D ≥ 0.95 held 0–5 s" }],
            },
            {
              id: "sev",
              text: "Avoid severity 4+ anomalies",
              passed: !all.some((a) => a.severity >= 4),
              evidence: all
                .filter((a) => a.severity >= 4)
                .map((a) => ({ segment_id: a.seg, t_from: a.t, t_to: a.t, note: `${a.type} severity ${a.severity}` })),
            },
            { id: "score", text: "Achieve score_final >= 80", passed: s.score_final >= 80, evidence: [] },
          ],
          drills: all.slice(0, 2).map((a) => ({
            anomaly_type: a.type,
            drill: "Stability under step input",
            reason: `severity ${a.severity} at t=${a.t}`,
          })),
        });
      }
      const g = s.segments.find((x) => x.segment_id === parts[3]);
      if (!g) return send(res, 404, { error: `segment "${parts[3]}" not found` });
      if (parts[4] === "columns") {
        const col = (k) => `[${g.samples.map((x) => x[k]).join(",")}]`;
        return send(
          res,
          200,
          `{"segment_id":"${g.segment_id}","n":${g.samples.length},"t":${col("t")},"C":${col("C")},"D":${col("D")},"Q":${col("Q")},"R":${col("R")}}`,
        );
      }
      const from = q.get("from_t") ? Number(q.get("from_t")) : -Infinity;
      const to = q.get("to_t") ? Number(q.get("to_t")) : Infinity;
      const ev = events(g).filter((e) => e.t >= from && e.t <= to);
      if (parts[4] === "events") {
        const limit = Number(q.get("limit") ?? 10000);
        return send(res, 200, { segment_id: g.segment_id, events: ev.slice(0, limit), truncated: ev.length > limit });
      }
      if (parts[4] === "stream") {
        const speed = Number(q.get("speed") ?? 1);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        let i = 0;
        const t0 = Date.now();
        const tick = () => {
          while (i < ev.length && (ev[i].t - ev[0].t) / speed <= (Date.now() - t0) / 1000) {
            res.write(`event: ${ev[i].kind}\nid: ${i}\ndata: ${JSON.stringify(ev[i].payload)}\n\n`);
            i++;
          }
          if (i >= ev.length) {
            res.end("event: end\ndata: {}\n\n");
            return;
          }
          timer = setTimeout(tick, 10);
        };
        let timer = setTimeout(tick, 0);
        req.on("close", () => clearTimeout(timer));
        return;
      }
    }
    // static + SPA fallback
    const file = join(dist, url.pathname === "/" ? "index.html" : url.pathname);
    const path = existsSync(file) && !file.endsWith("/") ? file : join(dist, "index.html");
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  } catch (e) {
    send(res, 500, { error: String(e) });
  }
}).listen(port, "127.0.0.1", () => console.log(`mock replay API on http://127.0.0.1:${port}/`));

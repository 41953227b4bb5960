import { existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { Registry } from "prom-client";
import { FabricError } from "../errors.js";
import { PlanLog } from "../wal/plan-log.js";
import { BREAKER_STATES, CAPS } from "./breaker.js";
import { type FlightSnapshot, latencyValue } from "./recorder.js";

/**
 * The fabric's Prometheus metrics (spec/fabric/flight.md, "Metrics"): a prom-client Registry whose metrics are read
 * from the daemon's recorder at scrape time — nothing is observed twice on the call path. Names `rtt_fabric_*`,
 * counters end in `_total`, units in the name; `promtool check metrics` is clean (tested).
 */

/** Upper bounds (seconds) of the latency histogram: 10 µs … 10 s. */
export const LATENCY_BUCKETS_S = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];

export interface MetricsSource {
  /** The recorder's cumulative state now (the daemon's `flight` snapshot). */
  snapshot(): FlightSnapshot;
  /** The plan WAL (`.rtt/wal/fabric.wal`), for the plan epoch and the WAL size; absent: those metrics are not shown. */
  walPath?: string;
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric computed at scrape time (prom-client reads `get()`). */
class Collected {
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    private readonly values: () => Sample[],
  ) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
  reset(): void {}
}

/** The plan epoch (commits in the WAL) and its records, re-read only when the file changed. */
export class WalGauge {
  private key = "";
  private cached = { bytes: 0, records: 0, epoch: 0, plan_id: null as string | null };
  constructor(readonly path: string) {}
  read(): { bytes: number; records: number; epoch: number; plan_id: string | null } | null {
    if (!existsSync(this.path)) return null;
    const st = statSync(this.path);
    const key = `${st.size}:${st.mtimeMs}`;
    if (key !== this.key) {
      const log = PlanLog.open(this.path, { readOnly: true });
      try {
        this.cached = {
          bytes: st.size,
          records: log.wal.size,
          epoch: log.state.commits.length,
          plan_id: log.state.current,
        };
      } finally {
        log.close();
      }
      this.key = key;
    }
    return this.cached;
  }
}

/** A Registry exposing the fabric's metrics from `src`. */
export function fabricRegistry(src: MetricsSource): Registry {
  const reg = new Registry();
  let snap: FlightSnapshot | undefined;
  let snapAt = -1;
  // One snapshot per scrape: every metric below reads the same one (taken by the first metric collected).
  const s = (): FlightSnapshot => {
    const now = performance.now();
    if (!snap || now - snapAt > 50) {
      snap = src.snapshot();
      snapAt = now;
    }
    return snap;
  };
  const wal = src.walPath ? new WalGauge(src.walPath) : undefined;
  const rl = (r: { route_id: number; from: string; to: string; lane: string }): Labels => ({
    route_id: r.route_id,
    from: r.from,
    to: r.to,
    lane: r.lane,
  });
  const add = (name: string, help: string, type: "counter" | "gauge" | "histogram", values: () => Sample[]) =>
    reg.registerMetric(new Collected(name, help, type, values) as never);

  add(
    "rtt_fabric_route_latency_seconds",
    "Latency of calls through the fabric daemon per route (dispatch to answer), from the flight recorder's HDR histogram (±1 %)",
    "histogram",
    () =>
      s().routes.flatMap((r) => {
        const labels = rl(r);
        const out: Sample[] = [];
        let i = 0;
        let acc = 0;
        let sum = 0;
        const b = r.latency;
        for (const le of LATENCY_BUCKETS_S) {
          const ns = le * 1e9;
          while (i < b.length && latencyValue((b[i] as [number, number])[0]) <= ns) {
            const [idx, c] = b[i] as [number, number];
            acc += c;
            sum += c * latencyValue(idx);
            i++;
          }
          out.push({ metricName: "rtt_fabric_route_latency_seconds_bucket", labels: { ...labels, le }, value: acc });
        }
        for (; i < b.length; i++) {
          const [idx, c] = b[i] as [number, number];
          acc += c;
          sum += c * latencyValue(idx);
        }
        out.push({
          metricName: "rtt_fabric_route_latency_seconds_bucket",
          labels: { ...labels, le: "+Inf" },
          value: acc,
        });
        out.push({ metricName: "rtt_fabric_route_latency_seconds_sum", labels, value: sum / 1e9 });
        out.push({ metricName: "rtt_fabric_route_latency_seconds_count", labels, value: acc });
        return out;
      }),
  );
  add("rtt_fabric_route_calls_total", "Calls per route that reached its endpoint (answered or failed)", "counter", () =>
    s().routes.map((r) => ({ labels: rl(r), value: r.calls })),
  );
  add("rtt_fabric_route_errors_total", "Failed calls per route, by error code", "counter", () =>
    s().routes.flatMap((r) =>
      Object.entries(r.errors_by_code).map(([code, v]) => ({ labels: { ...rl(r), code }, value: v })),
    ),
  );
  add(
    "rtt_fabric_drops_total",
    "Calls and frames refused or dropped, by reason: per route (breaker caps, ejection, endpoint back-pressure) and per lane (route_id none)",
    "counter",
    () => {
      const snap = s();
      const out: Sample[] = [];
      for (const r of snap.routes)
        for (const [reason, v] of Object.entries(r.drops))
          out.push({ labels: { lane: r.lane, route_id: r.route_id, reason }, value: v });
      for (const [lane, d] of Object.entries(snap.lane_drops))
        for (const [reason, v] of Object.entries(d)) out.push({ labels: { lane, route_id: "none", reason }, value: v });
      return out;
    },
  );
  add("rtt_fabric_route_inflight", "Calls per route in flight now", "gauge", () =>
    s().routes.map((r) => ({ labels: rl(r), value: r.inflight })),
  );
  add("rtt_fabric_route_queue_depth", "Calls per route waiting for their endpoint now", "gauge", () =>
    s().routes.map((r) => ({ labels: rl(r), value: r.queued })),
  );
  add(
    "rtt_fabric_breaker_state",
    "Breaker state per route: 1 for the state it is in (closed, open = ejected, half-open = probing), 0 for the others",
    "gauge",
    () =>
      s().routes.flatMap((r) =>
        r.breaker
          ? BREAKER_STATES.map((state) => ({
              labels: { ...rl(r), state },
              value: r.breaker?.state === state ? 1 : 0,
            }))
          : [],
      ),
  );
  add(
    "rtt_fabric_breaker_cap_open",
    "1 when a route's cap is at its limit (Envoy's cx_open, rq_pending_open, rq_open, rq_retry_open)",
    "gauge",
    () =>
      s().routes.flatMap((r) =>
        r.breaker
          ? CAPS.map((cap) => ({
              labels: { route_id: r.route_id, from: r.from, to: r.to, cap },
              value: r.breaker?.caps_open.includes(cap) ? 1 : 0,
            }))
          : [],
      ),
  );
  add("rtt_fabric_breaker_ejections_total", "Outlier ejections per route", "counter", () =>
    s().routes.flatMap((r) =>
      r.breaker ? [{ labels: { route_id: r.route_id, from: r.from, to: r.to }, value: r.breaker.ejections_total }] : [],
    ),
  );
  add(
    "rtt_fabric_process_syscalls_total",
    "Read- and write-like system calls of the daemon (/proc/self/io syscr, syscw)",
    "counter",
    () => {
      const p = s().process;
      return p
        ? [
            { labels: { op: "read" }, value: p.syscr },
            { labels: { op: "write" }, value: p.syscw },
          ]
        : [];
    },
  );
  add(
    "rtt_fabric_process_context_switches_total",
    "Context switches of the daemon (/proc/self/status)",
    "counter",
    () => {
      const p = s().process;
      return p
        ? [
            { labels: { kind: "voluntary" }, value: p.voluntary_ctxt_switches },
            { labels: { kind: "involuntary" }, value: p.nonvoluntary_ctxt_switches },
          ]
        : [];
    },
  );
  add("rtt_fabric_plan_info", "The plan the daemon serves (value 1)", "gauge", () => [
    { labels: { plan_id: s().plan_id ?? "none" }, value: 1 },
  ]);
  if (wal) {
    add("rtt_fabric_plan_epoch", "Plans committed in the WAL (the plan epoch)", "gauge", () => {
      const w = wal.read();
      return w ? [{ labels: {}, value: w.epoch }] : [];
    });
    add("rtt_fabric_wal_size_bytes", "Size of the plan WAL", "gauge", () => {
      const w = wal.read();
      return w ? [{ labels: {}, value: w.bytes }] : [];
    });
    add("rtt_fabric_wal_records", "Records in the plan WAL", "gauge", () => {
      const w = wal.read();
      return w ? [{ labels: {}, value: w.records }] : [];
    });
  }
  return reg;
}

export interface MetricsServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (and nothing else) for `reg` on host:port (port 0: any free one). */
export async function serveMetrics(reg: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    reg.metrics().then(
      (text) => res.writeHead(200, { "content-type": reg.contentType }).end(text),
      (e: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) =>
      reject(new FabricError("RTT_FABRIC_DAEMON", `metrics: cannot listen on ${host}:${port} (${e.message})`)),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const p = a && typeof a === "object" ? a.port : port;
  return {
    server,
    host,
    port: p,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${p}/metrics`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

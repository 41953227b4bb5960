import { mkdirSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type TunedStatus, tunedDaemonOptions } from "../autotune/profile.js";
import { FabricError, isFabricError } from "../errors.js";
import { FLAG_CONTROL, FLAG_ERROR, FLAG_RESPONSE, type Frame } from "../lanes/frame.js";
import { ShmRing } from "../lanes/shm-ring.js";
import { FrameSocket } from "../lanes/stream.js";
import { listenTcp } from "../lanes/tcp.js";
import { listenUds, socketAlive } from "../lanes/uds.js";
import { McpPool, type UpstreamOptions } from "../mcp/upstream.js";
import { fabricPaths } from "../paths.js";
import type { PlanRoute } from "../planner/types.js";
import {
  type ParticipantState,
  readTable,
  type Transition,
  tableProblem,
  type Vote,
} from "../reconcile/participant.js";
import { reconcilePaths } from "../reconcile/paths.js";
import { readPlanInForce } from "../reconcile/status.js";
import { DaemonTelemetry } from "../telemetry/daemon-hooks.js";
import { type MetricsServer, serveMetrics } from "../telemetry/metrics.js";
import { type AuthMode, RouteAuth, type RouteAuthOptions } from "./auth.js";
import {
  type CommandDriverOptions,
  type DriverTable,
  type Endpoint,
  makeEndpoint,
  readDrivers,
  specKey,
} from "./endpoints.js";
import {
  CONTROL_OPS,
  type ControlRequest,
  jsonBytes,
  PROTOCOL_VERSION,
  parseJsonBytes,
  type ResolvedRoute,
  type ShmLaneInfo,
  UDS_ONLY_OPS,
  wireError,
} from "./protocol.js";
import { ShmLaneServer, type ShmServeMode, workerAvailable } from "./shm-lane.js";
import { addCounts, RouteStats } from "./stats.js";
import { RoutingTable } from "./table.js";

export interface DaemonOptions {
  /** Fabric root (`.rtt`): routes.json, drivers.json, the socket. */
  root?: string;
  /** Control socket; default `<root>/fabric.sock`. */
  socket?: string;
  /** Serve the TCP lane too (off by default). */
  tcp?: { host: string; port: number };
  /** How SHM lanes wait for requests (default `worker` when the built worker is there, else `loop`). */
  shmMode?: ShmServeMode;
  /** Spin budget before parking on a ring, µs (default 50). */
  spinMicros?: number;
  /** Calls in flight per connection or SHM lane before the daemon stops reading it (default 256). */
  maxInflightPerConnection?: number;
  /** Deadline for draining in-flight calls: of an endpoint a plan retires, and at shutdown (default 5000 ms). */
  drainMs?: number;
  /** Data bytes of each SHM ring (default 1 MiB). */
  shmCapacity?: number;
  /** SHM lanes open at once (default 16). */
  maxShmLanes?: number;
  /** Serve Prometheus metrics on http://host:port/metrics (telemetry/metrics.ts; off by default). */
  metrics?: { host: string; port: number };
  /**
   * `tokens` (default): every route operation needs a capability token (spec/fabric/daemon.md, "Capability
   * tokens"); `none`: local development only, logged at start (`rtt fabric up --no-auth`).
   */
  auth?: AuthMode;
  /** Trust store, clock, replay cache size for the token checks. */
  authOptions?: RouteAuthOptions;
  /** MCP servers behind `rtt://mcp/…` routes: start-up bound (initialize + tools/list, default 10 s), back-off. */
  mcp?: UpstreamOptions;
  /** Sandbox and back-off options of command drivers (spec/fabric/sandbox.md); `log` defaults to the daemon's. */
  driverOptions?: CommandDriverOptions;
  log?: (line: string) => void;
}

type LaneKind = "uds" | "tcp" | "shm";

interface Conn {
  lane: "uds" | "tcp";
  fs: FrameSocket;
  inflight: number;
  shm: Set<string>;
  /** Routes this connection may call: route_id → calls left (Infinity after `open`, n after n `tx` tokens). */
  grants: Map<number, number>;
}

/**
 * The fabric daemon (seed 004 layer 3; spec/fabric/daemon.md): serves the control plane and the UDS lane on
 * `.rtt/fabric.sock`, optionally TCP, SHM lanes on request; holds the routing table and is a 2PC participant for
 * it (prepare/commit/abort over the control socket); routes each call to the endpoint (driver) of its route.
 */
export class FabricDaemon {
  readonly root: string;
  readonly socketPath: string;
  private servers: Server[] = [];
  private conns = new Set<Conn>();
  private table: RoutingTable;
  private endpoints = new Map<string, Endpoint>();
  private staged: { t: Transition; drivers: DriverTable; endpoints: Map<string, Endpoint> } | undefined;
  private retiring = new Set<Promise<void>>();
  private shmLanes = new Map<string, { server: ShmLaneServer; conn: Conn; routeId: number }>();
  private shmSeq = 0;
  private inflight = 0;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private twoPc: Promise<unknown> = Promise.resolve();
  private readonly routeStats = new Map<number, RouteStats>();
  readonly startedAt = new Date();
  tcpAddress: { host: string; port: number } | undefined;
  readonly shmMode: ShmServeMode;
  /** Flight recorder and breakers (telemetry/daemon-hooks.ts): the hooks below are its only entry points. */
  readonly telemetry: DaemonTelemetry;
  metricsServer: MetricsServer | undefined;
  /** What start did with `<root>/tuned/profile.json` (rtt autotune; spec/fabric/autotune.md). */
  tuned: TunedStatus | undefined;
  private readonly o: Required<
    Omit<
      DaemonOptions,
      "tcp" | "socket" | "root" | "shmMode" | "metrics" | "auth" | "authOptions" | "driverOptions" | "mcp"
    >
  >;
  /** The token gate: one check per route operation (open, tx, shm_open), never per frame. */
  readonly auth: RouteAuth;
  private readonly driverOpts: CommandDriverOptions;
  /** MCP servers behind routes to `rtt://mcp/<server>/<tool>`, one per server. */
  private readonly mcp: McpPool;
  /** Drops by lane and reason (frame reader drops of closed connections are folded in at close). */
  private readonly drops: Record<LaneKind | "daemon", Record<string, number>> = {
    uds: {},
    tcp: {},
    shm: {},
    daemon: {},
  };
  private readonly laneCounts = {
    uds: { connections: 0, open: 0, frames_in: 0, frames_out: 0 },
    tcp: { connections: 0, open: 0, frames_in: 0, frames_out: 0 },
    shm: { lanes: 0, open: 0, frames_in: 0, frames_out: 0 },
  };

  private constructor(
    opts: DaemonOptions,
    private readonly drivers: () => DriverTable,
  ) {
    const p = fabricPaths(opts.root ?? ".rtt");
    this.root = p.root;
    this.socketPath = opts.socket ?? p.socket;
    this.shmMode = opts.shmMode ?? (workerAvailable() ? "worker" : "loop");
    this.o = {
      spinMicros: opts.spinMicros ?? 50,
      maxInflightPerConnection: opts.maxInflightPerConnection ?? 256,
      drainMs: opts.drainMs ?? 5000,
      shmCapacity: opts.shmCapacity ?? 1 << 20,
      maxShmLanes: opts.maxShmLanes ?? 16,
      log: opts.log ?? (() => {}),
    };
    this.table = new RoutingTable(null, []);
    this.telemetry = new DaemonTelemetry(p.policy);
    this.auth = new RouteAuth(opts.auth ?? "tokens", p.registry, opts.authOptions);
    this.mcp = new McpPool(p.root, { log: this.o.log, cwd: dirname(p.root), ...opts.mcp });
    this.driverOpts = { log: this.o.log, mcp: this.mcp, ...opts.driverOptions };
  }

  /** Loads the table in force, starts its endpoints, listens. Refuses when another daemon serves the socket. */
  static async start(opts: DaemonOptions = {}): Promise<FabricDaemon> {
    const paths = fabricPaths(opts.root ?? ".rtt");
    const tuned = tunedDaemonOptions(opts); // the tuned profile's spin and ring size, unless given; refused → defaults
    const d = new FabricDaemon(tuned.opts, () => readDrivers(paths.drivers));
    d.tuned = tuned.tuned;
    const initial = initialTable(opts.root ?? ".rtt");
    d.table = new RoutingTable(initial.plan_id, initial.routes);
    d.telemetry.onTable(d.table.routes);
    if (await socketAlive(d.socketPath))
      throw new FabricError("RTT_FABRIC_DAEMON", "another fabric daemon is serving this socket", d.socketPath);
    d.installEndpoints(d.drivers(), new Map());
    try {
      mkdirSync(dirname(d.socketPath), { recursive: true });
      d.servers.push(await listenUds(d.socketPath, (s) => d.accept("uds", s)));
      if (opts.tcp) {
        const srv = await listenTcp(opts.tcp.host, opts.tcp.port, (s) => d.accept("tcp", s));
        d.servers.push(srv);
        const a = srv.address();
        if (a && typeof a === "object") d.tcpAddress = { host: a.address, port: a.port };
      }
      if (opts.metrics) d.metricsServer = await serveMetrics(d.metricsRegistry(), opts.metrics.host, opts.metrics.port);
    } catch (e) {
      for (const s of d.servers) s.close();
      await Promise.all([...d.endpoints.values()].map((x) => x.close(0)));
      throw e;
    }
    if (!d.auth.required)
      d.o.log("fabric: AUTH DISABLED (auth: none) — route operations need no capability token; local development only");
    d.o.log(
      `fabric: serving ${d.table.routes.length} routes of ${d.table.planId ?? "no plan"} on ${d.socketPath}${d.tcpAddress ? ` and tcp ${d.tcpAddress.host}:${d.tcpAddress.port}` : ""} (shm: ${d.shmMode})`,
    );
    return d;
  }

  // ---- connections --------------------------------------------------------------------------------------------

  private accept(lane: "uds" | "tcp", socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const conn: Conn = {
      lane,
      inflight: 0,
      shm: new Set(),
      grants: new Map(),
      fs: new FrameSocket(socket, {
        onFrame: (f) => this.onFrame(conn, f),
        onClose: () => this.onClose(conn),
      }),
    };
    this.conns.add(conn);
    this.laneCounts[lane].connections++;
    this.laneCounts[lane].open++;
  }

  private onClose(conn: Conn): void {
    this.conns.delete(conn);
    const c = this.laneCounts[conn.lane];
    c.open--;
    c.frames_in += conn.fs.framesIn;
    c.frames_out += conn.fs.framesOut;
    addCounts(this.drops[conn.lane], conn.fs.reader.drops);
    for (const lane of conn.shm) void this.closeShm(lane);
  }

  private count(lane: LaneKind | "daemon", reason: string): void {
    const d = this.drops[lane];
    d[reason] = (d[reason] ?? 0) + 1;
  }

  private onFrame(conn: Conn, f: Frame): void {
    if (f.flags & FLAG_RESPONSE) {
      this.count(conn.lane, "unexpected_response");
      return;
    }
    if (f.flags & FLAG_CONTROL) {
      void this.control(conn, f.payload).then(
        (r) => conn.fs.send(FLAG_CONTROL | FLAG_RESPONSE, 0, f.frameId, jsonBytes(r ?? null)),
        (e) => {
          if (!isFabricError(e)) this.o.log(`fabric: control ${e instanceof Error ? e.stack : e}`);
          conn.fs.send(FLAG_CONTROL | FLAG_RESPONSE | FLAG_ERROR, 0, f.frameId, wireError(e));
        },
      );
      return;
    }
    if (this.auth.required && !spendGrant(conn.grants, f.routeId)) {
      this.count(conn.lane, "unauthorized");
      conn.fs.send(
        FLAG_RESPONSE | FLAG_ERROR,
        f.routeId,
        f.frameId,
        wireError(
          new FabricError(
            "RTT_FABRIC_UNAUTHORIZED",
            `route_id ${f.routeId} is not open on this connection: send {op: "open"|"tx", symbol, token} first`,
          ),
        ),
      );
      return;
    }
    conn.inflight++;
    if (conn.inflight >= this.o.maxInflightPerConnection) conn.fs.pauseReading("inflight");
    void this.call(conn.lane, f.routeId, f.payload).then(
      (body) => this.reply(conn, f, FLAG_RESPONSE, body),
      (e) => this.reply(conn, f, FLAG_RESPONSE | FLAG_ERROR, wireError(e)),
    );
  }

  private reply(conn: Conn, f: Frame, flags: number, body: Uint8Array): void {
    conn.inflight--;
    conn.fs.send(flags, f.routeId, f.frameId, body);
    if (!conn.fs.writable) {
      conn.fs.pauseReading("write");
      void conn.fs.drained().then(() => conn.fs.resumeReading("write"));
    }
    if (conn.inflight < this.o.maxInflightPerConnection) conn.fs.resumeReading("inflight");
  }

  // ---- the call path ------------------------------------------------------------------------------------------

  /** One call: the route in force for `routeId` now, its endpoint, the answer bytes. */
  async call(lane: LaneKind, routeId: number, payload: Uint8Array): Promise<Uint8Array> {
    if (this.stopping) throw new FabricError("RTT_FABRIC_DAEMON", "the daemon is shutting down");
    const d = this.table.dispatch(routeId);
    if (!d) {
      this.count(lane, "no_route");
      throw new FabricError(
        "RTT_FABRIC_NO_ROUTE",
        `route_id ${routeId} is not in ${this.table.planId ?? "the empty table"}`,
      );
    }
    const ep = this.endpoints.get(d.route.to);
    if (!ep) throw new FabricError("RTT_FABRIC_DRIVER", `no endpoint for ${d.route.to}`);
    this.telemetry.admit(d.route.route_id);
    const st = this.stats(d.route.route_id);
    st.calls++;
    st.inflight++;
    if (d.rerouted) st.rerouted++;
    this.inflight++;
    const t0 = process.hrtime.bigint();
    let dequeue: (() => void) | undefined;
    try {
      if (ep.limiter.policy === "block" && ep.limiter.inflight >= ep.limiter.max)
        dequeue = this.telemetry.queue(d.route.route_id);
      const out = await ep.call(d.route.route_id, payload, dequeue);
      const ns = Number(process.hrtime.bigint() - t0);
      st.done(t0, undefined, ns);
      this.telemetry.done(d.route.route_id, ns);
      return out;
    } catch (e) {
      const code = isFabricError(e) ? e.code : "RTT_FABRIC_DRIVER";
      const ns = Number(process.hrtime.bigint() - t0);
      st.done(t0, code, ns);
      this.telemetry.done(d.route.route_id, ns, code);
      if (code === "RTT_FABRIC_OVERLOAD") this.count(lane, "overload");
      throw e;
    } finally {
      dequeue?.();
      this.inflight--;
    }
  }

  private stats(routeId: number): RouteStats {
    let s = this.routeStats.get(routeId);
    if (!s) {
      s = new RouteStats();
      this.routeStats.set(routeId, s);
    }
    return s;
  }

  // ---- control ------------------------------------------------------------------------------------------------

  private async control(conn: Conn, payload: Uint8Array): Promise<unknown> {
    let req: ControlRequest;
    try {
      req = parseJsonBytes(payload) as ControlRequest;
      if (typeof req !== "object" || req === null || !CONTROL_OPS.has(req.op)) throw new Error("unknown op");
    } catch (e) {
      this.count("daemon", "bad_control");
      throw new FabricError("RTT_FABRIC_INVALID", `not a control request: ${(e as Error).message}`);
    }
    if (conn.lane !== "uds" && UDS_ONLY_OPS.has(req.op))
      throw new FabricError("RTT_FABRIC_UNAUTHORIZED", `${req.op} is served on the control socket only, not over TCP`);
    switch (req.op) {
      case "hello":
        return { daemon: "rtt-fabric", protocol: PROTOCOL_VERSION, pid: process.pid, plan_id: this.table.planId };
      case "resolve":
        return this.table.resolve(String(req.symbol));
      case "status":
        return this.status();
      case "flight":
        return this.flight();
      case "state":
        return this.state();
      case "prepare":
        return this.serial(() => this.prepare(checkTransition(req.transition)));
      case "commit":
        return this.serial(() => this.commit(checkTransition(req.transition)));
      case "abort":
        return this.serial(() => this.abort());
      case "open":
      case "tx":
        return this.grant(conn, req.op, req.symbol, req.token);
      case "shm_open":
        return this.openShm(conn, req);
      case "shm_close":
        await this.closeShm(String(req.lane));
        return {};
    }
  }

  /**
   * `open` / `tx`: checks the token for the symbol's route (verb, and the scopes drivers.json asks of its endpoint)
   * and lets this connection call it — for the connection's life (`open`) or once (`tx`). The one token check of
   * the operation: frames afterwards cost a map lookup. With auth none, the route without a check.
   */
  private grant(conn: Conn, verb: "open" | "tx", symbol: unknown, token: unknown): ResolvedRoute & { grant: string } {
    if (typeof symbol !== "string") throw new FabricError("RTT_FABRIC_INVALID", `${verb} needs {symbol, token}`);
    const route = this.table.resolve(symbol);
    if (this.auth.required) this.checkRouteToken(token, symbol, verb, route.to);
    const left = conn.grants.get(route.route_id) ?? 0;
    conn.grants.set(route.route_id, verb === "open" ? Number.POSITIVE_INFINITY : left + 1);
    return { ...route, grant: verb === "open" || left === Number.POSITIVE_INFINITY ? "open" : `${left + 1} calls` };
  }

  private checkRouteToken(token: unknown, symbol: string, verb: "open" | "tx", to: string): void {
    const scopes = this.endpoints.get(to)?.spec?.scopes;
    this.auth.check(token, { saddr: symbol, verb, ...(scopes ? { scope: scopes } : {}) });
  }

  /** 2PC operations one at a time (the reconciler holds the apply lock; this guards against a second client). */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.twoPc.then(f, f);
    this.twoPc = run.catch(() => {});
    return run;
  }

  state(): ParticipantState {
    return { plan_id: this.table.planId, routes: [...this.table.routes] };
  }

  /** Stages `t`: checks the table, reads drivers.json, starts endpoints the table will need. Nothing served changes. */
  async prepare(t: Transition): Promise<Vote> {
    const problem = tableProblem(t.routes);
    if (problem) return { ok: false, reason: `fabric daemon: ${problem}` };
    let drivers: DriverTable;
    try {
      drivers = this.drivers();
    } catch (e) {
      return { ok: false, reason: `fabric daemon: ${(e as Error).message}` };
    }
    await this.abort();
    const fresh = new Map<string, Endpoint>();
    for (const r of t.routes) {
      if (fresh.has(r.to)) continue;
      const cur = this.endpoints.get(r.to);
      if (cur && specKey(cur.spec) === specKey(drivers[r.to])) continue;
      fresh.set(r.to, makeEndpoint(r.to, drivers[r.to], dirname(this.root), this.driverOpts));
    }
    this.staged = { t, drivers, endpoints: fresh };
    this.o.log(
      `fabric: prepared ${t.plan_id ?? "no plan"} (${t.routes.length} routes, ${fresh.size} endpoints started)`,
    );
    return { ok: true };
  }

  /** Switches to `t`: new calls take the new table at once; endpoints it no longer uses drain, then stop. */
  async commit(t: Transition): Promise<void> {
    const staged = this.staged && sameTransition(this.staged.t, t) ? this.staged : undefined;
    this.staged = undefined;
    const drivers = staged?.drivers ?? this.drivers();
    this.table = this.table.next(t.plan_id, t.routes);
    this.telemetry.onTable(this.table.routes);
    this.installEndpoints(drivers, staged?.endpoints ?? new Map());
    this.o.log(`fabric: committed ${t.plan_id ?? "no plan"} (${t.routes.length} routes)`);
  }

  async abort(): Promise<void> {
    const s = this.staged;
    this.staged = undefined;
    if (s) await Promise.all([...s.endpoints.values()].map((e) => e.close(0)));
  }

  /** Endpoints for the table in force: kept when their driver spec is unchanged, else the prepared or a new one. */
  private installEndpoints(drivers: DriverTable, prepared: Map<string, Endpoint>): void {
    const next = new Map<string, Endpoint>();
    for (const sym of this.table.endpoints()) {
      const cur = this.endpoints.get(sym);
      const keep = cur && specKey(cur.spec) === specKey(drivers[sym]) ? cur : undefined;
      next.set(sym, keep ?? prepared.get(sym) ?? makeEndpoint(sym, drivers[sym], dirname(this.root), this.driverOpts));
      prepared.delete(sym);
    }
    const old = [...this.endpoints.values()].filter((e) => ![...next.values()].includes(e));
    this.endpoints = next;
    for (const e of [...old, ...prepared.values()]) {
      const p = e.close(this.o.drainMs).finally(() => this.retiring.delete(p));
      this.retiring.add(p);
    }
  }

  // ---- SHM lanes ----------------------------------------------------------------------------------------------

  /** Opens an SHM lane for the connection `conn` (closed with it). */
  private openShm(conn: Conn, req: Extract<ControlRequest, { op: "shm_open" }>): ShmLaneInfo {
    if (this.shmLanes.size >= this.o.maxShmLanes)
      throw new FabricError("RTT_FABRIC_OVERLOAD", `${this.o.maxShmLanes} SHM lanes are open`);
    let routeId: number;
    if (this.auth.required) {
      if (typeof req.symbol !== "string")
        throw new FabricError(
          "RTT_FABRIC_UNAUTHORIZED",
          "shm_open needs {symbol, token} (an open token for the symbol)",
        );
      const r = this.table.resolve(req.symbol);
      this.checkRouteToken(req.token, req.symbol, "open", r.to);
      routeId = r.route_id;
    } else routeId = typeof req.route_id === "number" ? req.route_id : this.table.resolve(String(req.symbol)).route_id;
    if (!this.table.dispatch(routeId))
      throw new FabricError("RTT_FABRIC_NO_ROUTE", `route_id ${routeId} is not in force`);
    this.telemetry.connect(routeId);
    const capacity = req.capacity ?? this.o.shmCapacity;
    const base = `/rtt-${process.pid}-${routeId}-${++this.shmSeq}`;
    let reqRing: ShmRing;
    let respRing: ShmRing;
    try {
      reqRing = ShmRing.create(`${base}-req`, capacity);
    } catch (e) {
      this.telemetry.disconnect(routeId);
      throw e;
    }
    try {
      respRing = ShmRing.create(`${base}-resp`, capacity);
    } catch (e) {
      reqRing.unlink();
      this.telemetry.disconnect(routeId);
      throw e;
    }
    const server = new ShmLaneServer(reqRing, respRing, {
      mode: this.shmMode,
      spinMicros: this.o.spinMicros,
      maxInflight: this.o.maxInflightPerConnection,
      blockMs: this.o.drainMs,
      onFrame: (rid, _fid, flags, payload, reply) => {
        if (this.auth.required && rid !== routeId) {
          // The lane's token opened one route: a frame naming another is refused (an integer compare per frame).
          this.count("shm", "unauthorized");
          reply(
            FLAG_RESPONSE | FLAG_ERROR,
            wireError(new FabricError("RTT_FABRIC_UNAUTHORIZED", `this SHM lane carries route_id ${routeId} only`)),
          );
          return;
        }
        if (flags & (FLAG_RESPONSE | FLAG_CONTROL)) {
          this.count("shm", "unexpected_flags");
          reply(
            FLAG_RESPONSE | FLAG_ERROR,
            wireError(new FabricError("RTT_FABRIC_INVALID", "a data lane carries calls only")),
          );
          return;
        }
        void this.call("shm", rid, payload).then(
          (b) => reply(FLAG_RESPONSE, b),
          (e) => reply(FLAG_RESPONSE | FLAG_ERROR, wireError(e)),
        );
      },
      onBroken: (why) => {
        this.o.log(`fabric: shm lane ${base} broken (${why}); closed`);
        this.count("shm", "lane_broken");
        void this.closeShm(base);
      },
    });
    this.shmLanes.set(base, { server, conn, routeId });
    conn.shm.add(base);
    this.laneCounts.shm.lanes++;
    this.laneCounts.shm.open++;
    return { lane: base, route_id: routeId, req: reqRing.name, resp: respRing.name, capacity };
  }

  private async closeShm(lane: string): Promise<void> {
    const l = this.shmLanes.get(lane);
    if (!l) return;
    this.shmLanes.delete(lane);
    this.telemetry.disconnect(l.routeId);
    l.conn.shm.delete(lane);
    this.laneCounts.shm.open--;
    this.laneCounts.shm.frames_in += l.server.counters.frames_in;
    this.laneCounts.shm.frames_out += l.server.counters.frames_out;
    addCounts(this.drops.shm, l.server.drops);
    addCounts(this.drops.shm, { ring_full: l.server.counters.ring_full_drops });
    await l.server.close();
  }

  // ---- status and shutdown ------------------------------------------------------------------------------------

  /** The flight recorder's cumulative snapshot (`{op: "flight"}`; `rtt tap --flight`, SLO gates, /metrics). */
  flight() {
    const laneDrops = structuredClone(this.drops) as Record<string, Record<string, number>>;
    for (const c of this.conns) addCounts(laneDrops[c.lane] as Record<string, number>, c.fs.reader.drops);
    for (const l of this.shmLanes.values()) {
      addCounts(laneDrops.shm as Record<string, number>, l.server.drops);
      addCounts(laneDrops.shm as Record<string, number>, { ring_full: l.server.counters.ring_full_drops });
    }
    return this.telemetry.snapshot(this.table.routes, this.table.planId, laneDrops);
  }

  /** The Prometheus registry of this daemon (served by `metrics` in DaemonOptions). */
  metricsRegistry() {
    return this.telemetry.registry(() => this.flight(), reconcilePaths(this.root).wal);
  }

  status() {
    const lanes = structuredClone(this.laneCounts);
    const drops = structuredClone(this.drops);
    for (const c of this.conns) {
      lanes[c.lane].frames_in += c.fs.framesIn;
      lanes[c.lane].frames_out += c.fs.framesOut;
      addCounts(drops[c.lane], c.fs.reader.drops);
    }
    const shmOpen = [];
    for (const [name, l] of this.shmLanes) {
      lanes.shm.frames_in += l.server.counters.frames_in;
      lanes.shm.frames_out += l.server.counters.frames_out;
      addCounts(drops.shm, l.server.drops);
      addCounts(drops.shm, { ring_full: l.server.counters.ring_full_drops });
      shmOpen.push({ lane: name, route_id: l.routeId, mode: l.server.mode, ...l.server.counters });
    }
    const endpoints = [...this.endpoints.values()].map((e) => e.info());
    const health = new Map(endpoints.map((e) => [e.symbol, e.healthy]));
    const total: Record<string, number> = {};
    for (const d of Object.values(drops)) addCounts(total, d);
    return {
      daemon: {
        pid: process.pid,
        root: this.root,
        socket: this.socketPath,
        tcp: this.tcpAddress ?? null,
        started: this.startedAt.toISOString(),
        inflight: this.inflight,
        shm_mode: this.shmMode,
      },
      tuned: this.tuned,
      plan_id: this.table.planId,
      staged: this.staged?.t.plan_id ?? null,
      auth: this.auth.snapshot(),
      routes: this.table.routes.map((r) => ({
        ...r,
        healthy: health.get(r.to) ?? false,
        ...(this.routeStats.get(r.route_id)?.toJSON() ?? new RouteStats().toJSON()),
      })),
      lanes: { ...lanes, shm_open: shmOpen },
      drops: { total, ...drops },
      drivers: endpoints,
      retiring: this.retiring.size,
    };
  }

  /** Graceful stop: refuse new work, drain calls in flight (up to drainMs), close lanes and drivers, unlink. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    this.o.log(`fabric: stopping, draining ${this.inflight} calls in flight`);
    for (const s of this.servers) s.close();
    const until = Date.now() + this.o.drainMs;
    while (this.inflight > 0 && Date.now() < until) await sleep(5);
    await Promise.all([...this.shmLanes.keys()].map((l) => this.closeShm(l)));
    for (const c of this.conns) c.fs.close();
    await this.abort();
    await Promise.all([...this.endpoints.values()].map((e) => e.close(0)));
    await Promise.all(this.retiring);
    await this.mcp.closeAll();
    for (const c of this.conns) c.fs.destroy();
    await this.metricsServer?.close();
    rmSync(this.socketPath, { force: true });
    this.o.log("fabric: stopped");
  }
}

function checkTransition(t: unknown): Transition {
  const v = t as Transition;
  if (
    typeof v !== "object" ||
    v === null ||
    !Array.isArray(v.routes) ||
    (v.plan_id !== null && typeof v.plan_id !== "string")
  )
    throw new FabricError("RTT_FABRIC_INVALID", "transition must be {kind, plan_id, from, routes}");
  return v;
}

/** Spends one call of `routeId`'s grant on a connection: false when it has none left. */
function spendGrant(grants: Map<number, number>, routeId: number): boolean {
  const left = grants.get(routeId);
  if (left === undefined) return false;
  if (left === Number.POSITIVE_INFINITY) return true;
  if (left <= 1) grants.delete(routeId);
  else grants.set(routeId, left - 1);
  return true;
}

const sameTransition = (a: Transition, b: Transition) =>
  a.plan_id === b.plan_id && JSON.stringify(a.routes) === JSON.stringify(b.routes);

/** The table at start: `.rtt/fabric/routes.json` (the local participant's), else the WAL's plan in force. */
function initialTable(root: string): { plan_id: string | null; routes: PlanRoute[] } {
  const paths = reconcilePaths(root);
  const t = readTable(paths.table);
  if (t && !t.problem) return { plan_id: t.plan_id, routes: t.routes };
  try {
    const f = readPlanInForce(paths);
    if (f.plan) return { plan_id: f.plan_id, routes: f.plan.routes };
  } catch {
    // no WAL or unreadable: start empty; the reconciler re-drives us
  }
  return { plan_id: null, routes: [] };
}

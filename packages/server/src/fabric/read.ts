import { existsSync } from "node:fs";
import type * as FabricModule from "@rtt/fabric";
import type {
  FabricBreakerState,
  FabricCommit,
  FabricGraph,
  FabricPlans,
  FabricRouteRow,
  FabricSignature,
  FabricStatus,
  FabricWalEvent,
} from "./types.js";

/** @rtt/fabric, loaded on the first /fabric request (importing it costs 0.3–0.5 s that `rtt serve` must not pay). */
export type Fabric = typeof FabricModule;
type Plan = FabricModule.Plan;

/** The parts of the daemon's `status` answer read here (spec/fabric/daemon.md, "Control protocol"). */
interface DaemonStatusDoc {
  daemon: {
    pid: number;
    socket: string;
    tcp: { host: string; port: number } | string | null;
    started?: string;
    inflight: number;
  };
  plan_id: string | null;
  auth?: { mode?: string } | null;
  routes: Array<{
    route_id: number;
    from: string;
    to: string;
    lane: string;
    healthy?: boolean;
    calls?: number;
    ok?: number;
    errors?: number;
    inflight?: number;
    p50_us?: number | null;
    p99_us?: number | null;
  }>;
  drops?: Record<string, Record<string, number>>;
  retiring?: number;
}

/** The parts of the daemon's `flight` answer read here (spec/fabric/flight.md). */
interface FlightDoc {
  routes: Array<{
    route_id: number;
    drops?: Record<string, number>;
    breaker?: { state: FabricBreakerState; caps_open?: string[] } | null;
  }>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function tcpText(tcp: DaemonStatusDoc["daemon"]["tcp"]): string | null {
  if (tcp === null || tcp === undefined) return null;
  return typeof tcp === "string" ? tcp : `${tcp.host}:${tcp.port}`;
}

/** Asks the daemon on `socket` for `status` and `flight` (an older daemon without `flight`: breakers unknown). */
async function askDaemon(
  f: Fabric,
  socket: string,
  timeoutMs: number,
): Promise<{ status: DaemonStatusDoc; flight: FlightDoc | null }> {
  const connect = f.FabricClient.uds(socket);
  const c = await Promise.race([
    connect,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer on ${socket} in ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]).catch((e: unknown) => {
    connect.then((late) => late.destroy()).catch(() => {});
    throw e;
  });
  try {
    const status = await c.control<DaemonStatusDoc>("status", {}, { timeoutMs });
    const flight = await c.control<FlightDoc>("flight", {}, { timeoutMs }).catch(() => null);
    return { status, flight };
  } finally {
    c.close();
  }
}

/** The plan in force by the WAL, and stored plans by id (placement of the table served). */
function planReader(f: Fabric, root: string) {
  const paths = f.reconcilePaths(root);
  const loaded = new Map<string, Plan | null>();
  return {
    paths,
    inForce(problems: string[]): string | null {
      try {
        return f.PlanLog.inForce(paths.wal);
      } catch (e) {
        problems.push(message(e));
        return null;
      }
    },
    plan(planId: string | null, problems: string[]): Plan | null {
      if (planId === null) return null;
      let p = loaded.get(planId);
      if (p === undefined) {
        try {
          p = f.loadPlan(paths.plans, planId);
        } catch (e) {
          problems.push(message(e));
          p = null;
        }
        loaded.set(planId, p);
      }
      return p;
    },
  };
}

/** `GET /fabric/status`: the daemon's routes with their numbers, placed by the plan; the plan's table without one. */
export async function readStatus(f: Fabric, root: string, timeoutMs = 2000): Promise<FabricStatus> {
  const problems: string[] = [];
  const plans = planReader(f, root);
  const socket = f.fabricPaths(root).socket;
  const planInForce = plans.inForce(problems);
  let daemon: Awaited<ReturnType<typeof askDaemon>> | null = null;
  let daemonError: string | null = null;
  if (!existsSync(socket)) daemonError = `no daemon: ${socket} does not exist (start one with rtt fabric up)`;
  else
    try {
      daemon = await askDaemon(f, socket, timeoutMs);
    } catch (e) {
      daemonError = `the daemon on ${socket} does not answer: ${message(e)}`;
    }

  const planId = daemon ? daemon.status.plan_id : planInForce;
  const plan = plans.plan(planId, problems);
  const placed = (symbol: string) => plan?.placement[symbol] ?? null;
  const flightOf = new Map((daemon?.flight?.routes ?? []).map((r) => [r.route_id, r]));
  let routes: FabricRouteRow[];
  if (daemon)
    routes = daemon.status.routes.map((r) => {
      const fl = flightOf.get(r.route_id);
      return {
        route_id: r.route_id,
        from: r.from,
        to: r.to,
        lane: r.lane,
        placement: { from: placed(r.from), to: placed(r.to) },
        calls: r.calls ?? 0,
        ok: r.ok ?? 0,
        errors: r.errors ?? 0,
        inflight: r.inflight ?? 0,
        p50_us: r.p50_us ?? null,
        p99_us: r.p99_us ?? null,
        healthy: r.healthy ?? null,
        breaker: fl?.breaker?.state ?? null,
        caps_open: fl?.breaker?.caps_open ?? [],
        drops: fl?.drops ?? {},
      };
    });
  else
    routes = (plan?.routes ?? []).map((r) => ({
      route_id: r.route_id,
      from: r.from,
      to: r.to,
      lane: r.lane,
      placement: { from: placed(r.from), to: placed(r.to) },
      calls: null,
      ok: null,
      errors: null,
      inflight: null,
      p50_us: null,
      p99_us: null,
      healthy: null,
      breaker: null,
      caps_open: [],
      drops: {},
    }));
  const d = daemon?.status;
  return {
    root: plans.paths.root,
    t: Date.now(),
    daemon: d
      ? {
          pid: d.daemon.pid,
          started: d.daemon.started ?? null,
          socket: d.daemon.socket,
          tcp: tcpText(d.daemon.tcp),
          auth: d.auth?.mode ?? null,
          inflight: d.daemon.inflight,
          retiring: d.retiring ?? 0,
        }
      : null,
    daemon_error: daemonError,
    plan_id: planId,
    plan_in_force: planInForce,
    routes,
    drops: d?.drops ?? {},
    problems,
  };
}

/** `GET /fabric/graph`: the symbols of the table served (grouped by placement) and its routes. */
export async function readGraph(f: Fabric, root: string, status?: FabricStatus): Promise<FabricGraph> {
  const s = status ?? (await readStatus(f, root));
  const plan = planReader(f, root).plan(s.plan_id, []);
  const role = new Map<string, FabricGraph["symbols"][number]["role"]>();
  const mark = (sym: string, as: "from" | "to") => {
    const r = role.get(sym);
    role.set(sym, r === undefined || r === "none" || r === as ? as : "both");
  };
  for (const sym of Object.keys(plan?.placement ?? {})) role.set(sym, "none");
  for (const r of s.routes) {
    mark(r.from, "from");
    mark(r.to, "to");
  }
  const symbols = [...role]
    .map(([id, r]) => ({ id, placement: plan?.placement[id] ?? "unplaced", role: r }))
    .sort((a, b) => (a.placement === b.placement ? (a.id < b.id ? -1 : 1) : a.placement < b.placement ? -1 : 1));
  const placements = [...new Set(symbols.map((x) => x.placement))].sort((a, b) =>
    a === "unplaced" ? 1 : b === "unplaced" ? -1 : a < b ? -1 : 1,
  );
  return {
    plan_id: s.plan_id,
    placements,
    symbols,
    routes: s.routes.map((r) => ({
      route_id: r.route_id,
      from: r.from,
      to: r.to,
      lane: r.lane,
      breaker: r.breaker,
      healthy: r.healthy,
    })),
  };
}

/** `GET /fabric/plans`: the plan in force, its history of commits with signatures and inclusion proofs. */
export function readPlans(f: Fabric, root: string, limit = 50): FabricPlans {
  const reader = planReader(f, root);
  const { paths } = reader;
  const out: FabricPlans = {
    wal: paths.wal,
    exists: existsSync(paths.wal),
    current: null,
    pending: null,
    records: 0,
    commits: 0,
    checkpoints: [],
    plan: null,
    history: [],
    events: [],
    problems: [],
  };
  if (!out.exists) return out;
  const trust = f.loadTrustStore(paths.registry);
  const sig = (doc: unknown): FabricSignature => {
    const r = f.verifyDocument(doc, trust);
    const key = (doc as { sign?: { key_id?: unknown } }).sign?.key_id;
    return {
      status: r.status,
      key_id: r.key_id ?? (typeof key === "string" ? key : null),
      ...(r.status === "valid" ? {} : { reason: r.reason }),
    };
  };
  let log: FabricModule.PlanLog;
  try {
    log = f.PlanLog.open(paths.wal, { readOnly: true });
  } catch (e) {
    out.problems.push(message(e));
    return out;
  }
  try {
    const s = log.state;
    out.current = s.current;
    out.pending = s.pending?.plan_id ?? null;
    out.records = log.wal.size;
    out.commits = s.commits.length;
    out.problems.push(...log.verifyCheckpoints((c) => (c.sign === undefined ? undefined : undefinedIfValid(sig(c)))));

    const commits: FabricModule.WalRecord[] = [];
    const prepared = new Map<string, Record<string, unknown>>();
    const entries: Array<{ rec: FabricModule.WalRecord; prepare: Record<string, unknown> | undefined }> = [];
    const events: FabricWalEvent[] = [];
    const checkpointSeq = new Map<string, number>();
    for (const rec of log.wal.records()) {
      const p = rec.payload;
      const planId = typeof p.plan_id === "string" ? p.plan_id : null;
      if (rec.type === "prepare" && planId) prepared.set(planId, p);
      if (rec.type === "commit" && planId) {
        commits.push(rec);
        entries.push({ rec, prepare: prepared.get(planId) });
        continue;
      }
      if (rec.type === "commit") continue;
      if (rec.type === "checkpoint") checkpointSeq.set(`${p.tree_size}:${p.root}`, rec.seq);
      // A prepare is an event only while undecided; decided ones show as their commit or abort.
      if (rec.type === "prepare" && !(s.pending && s.pending.seq === rec.seq)) continue;
      events.push({
        seq: rec.seq,
        type: rec.type,
        plan_id: planId,
        ...(p.to !== undefined ? { to: typeof p.to === "string" ? p.to : null } : {}),
        ...(typeof p.reason === "string" ? { reason: p.reason } : {}),
        ...(typeof p.tree_size === "number" ? { tree_size: p.tree_size } : {}),
      });
    }
    const leaves = commits.map((r) => f.leafHash(r.body));
    for (const rec of log.wal.records("checkpoint")) {
      const c = rec.payload as unknown as FabricModule.Checkpoint;
      const rootOk =
        Number.isInteger(c.tree_size) &&
        c.tree_size <= leaves.length &&
        f.treeRoot(leaves, c.tree_size).toString("hex") === c.root;
      out.checkpoints.push({ seq: rec.seq, tree_size: c.tree_size, root: c.root, root_ok: rootOk, signature: sig(c) });
    }
    out.checkpoints.reverse();
    out.events = events.reverse().slice(0, limit);

    let lastInForce = -1;
    for (let i = commits.length - 1; i >= 0 && lastInForce < 0; i--)
      if (commits[i]?.payload.plan_id === s.current) lastInForce = i;
    const num = (v: unknown) => (typeof v === "number" ? v : null);
    for (let i = entries.length - 1; i >= 0 && out.history.length < limit; i--) {
      const entry = entries[i];
      if (!entry) continue;
      const planId = entry.rec.payload.plan_id as string;
      const problems: string[] = [];
      const plan = reader.plan(planId, problems);
      let proof: FabricCommit["proof"] = null;
      try {
        const p = log.commitProof(i, commits);
        proof = {
          ok: f.verifyProof(p),
          leaf_index: p.leaf_index,
          tree_size: p.tree_size,
          audit_path: p.audit_path.length,
          root: p.root,
          checkpoint: p.checkpoint
            ? {
                seq: checkpointSeq.get(`${p.checkpoint.tree_size}:${p.checkpoint.root}`) ?? null,
                tree_size: p.checkpoint.tree_size,
                signature: sig(p.checkpoint),
              }
            : null,
        };
      } catch (e) {
        problems.push(message(e));
      }
      const prep = entry.prepare ?? {};
      out.history.push({
        index: i,
        seq: entry.rec.seq,
        plan_id: planId,
        in_force: i === lastInForce,
        base: typeof prep.base === "string" ? prep.base : null,
        routes: num(prep.routes) ?? plan?.routes.length ?? null,
        add: num(prep.add) ?? plan?.routes_add.length ?? null,
        remove: num(prep.remove) ?? plan?.routes_remove.length ?? null,
        signature: plan ? sig(plan) : null,
        proof,
        ...(problems.length ? { problem: problems.join("; ") } : {}),
      });
    }

    if (s.current !== null) {
      const plan = reader.plan(s.current, out.problems);
      if (plan)
        out.plan = {
          plan_id: plan.plan_id,
          base: plan.inputs.base,
          inputs_hash: plan.inputs.hash ?? null,
          routes: plan.routes.map(({ route_id, from, to, lane }) => ({ route_id, from, to, lane })),
          placement: plan.placement,
          rejected: (plan.rejected ?? []).map(({ from, to, code, reason }) => ({ from, to, code, reason })),
          signature: sig(plan),
        };
    }
  } finally {
    log.close();
  }
  return out;
}

function undefinedIfValid(s: FabricSignature): string | undefined {
  return s.status === "valid" ? undefined : `checkpoint signature ${s.status}: ${s.reason ?? ""}`;
}

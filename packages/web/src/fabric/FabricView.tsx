import { useEffect, useState } from "react";
import {
  ApiError,
  type FabricCommit,
  type FabricPlans,
  type FabricRouteRow,
  type FabricSignature,
  type FabricStatus,
  fabricApi,
} from "../api.js";
import { useQuery } from "../query.js";
import { type Params, useTitle } from "../route.js";
import { Empty, ErrorBox, Loading } from "../util.js";
import { FabricGraphView } from "./FabricGraph.js";

/** How often the routes table asks again (ms): the daemon's counters, p50/p99 and breakers are live. */
export const LIVE_MS = 2000;
/** Plan history is re-read every this many live ticks (and whenever the plan served changes). */
const PLAN_EVERY = 5;

/** A counter that goes up every `ms` while the page is visible. */
export function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const id = window.setInterval(() => {
      if (document.visibilityState !== "hidden") setTick((t) => t + 1);
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return tick;
}

export const shortId = (id: string | null | undefined, n = 12): string =>
  id ? (id.startsWith("sha256:") ? `${id.slice(7, 7 + n)}…` : id) : "none";

function fmtUs(v: number | null): string {
  if (v === null) return "—";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${Number(v.toFixed(1))} µs`;
}

/** `?view=fabric`: the connection fabric behind `rtt serve --fabric-root` — routes live, plans, symbols graph. */
export function FabricView({ params: _params }: { params: Params }) {
  useTitle("Fabric");
  const tick = useTick(LIVE_MS);
  const status = useQuery(["fabric-status", tick], (s) => fabricApi.status(s), { keepPrevious: true });
  const data = status.data;
  if (!data) {
    if (status.state === "error") {
      if (status.error instanceof ApiError && status.error.status === 404)
        return (
          <Empty testid="fabric-off">
            <strong>The Fabric view is off on this server.</strong>
            <p>
              Start it with <code>rtt serve --fabric-root DIR</code> (the folder holding <code>fabric.sock</code> and{" "}
              <code>wal/fabric.wal</code>; <code>.rtt</code> is used by itself when either exists there).
            </p>
          </Empty>
        );
      return <ErrorBox error={status.error} what="the fabric's status" retry={status.refetch} />;
    }
    return <Loading what="the fabric" testid="fabric-loading" />;
  }
  return (
    <div className="fabric" data-testid="fabric-view">
      <DaemonLine s={data} stale={status.state === "error" ? status.error : undefined} />
      <section aria-labelledby="fabric-routes-h">
        <h2 id="fabric-routes-h" className="small-title">
          Routes <span className="muted">({data.routes.length})</span>
        </h2>
        <RoutesTable s={data} />
      </section>
      <div className="fabric-cols">
        <PlansPanel planId={data.plan_in_force} tick={Math.floor(tick / PLAN_EVERY)} />
        <section aria-labelledby="fabric-graph-h" className="fabric-graph-panel">
          <h2 id="fabric-graph-h" className="small-title">
            Symbols and routes <span className="muted">by placement</span>
          </h2>
          <FabricGraphView planId={data.plan_id} routes={data.routes} />
        </section>
      </div>
    </div>
  );
}

function DaemonLine({ s, stale }: { s: FabricStatus; stale?: Error }) {
  const d = s.daemon;
  const total = Object.values(s.drops.total ?? {}).reduce((a, b) => a + b, 0);
  return (
    <section className="fabric-head" aria-label="Fabric daemon">
      <span className={`fabric-dot ${d ? "up" : "down"}`} aria-hidden="true" />
      <span data-testid="fabric-daemon" data-state={d ? "up" : "down"}>
        {d ? (
          <>
            daemon pid <b>{d.pid}</b> on <code>{d.socket}</code>
            {d.tcp ? <> · tcp {d.tcp}</> : null} · auth {d.auth ?? "?"} · {d.inflight} in flight
            {d.retiring ? ` · ${d.retiring} retiring` : ""}
          </>
        ) : (
          <>no daemon — {s.daemon_error}</>
        )}
      </span>
      <span className="muted">
        serving{" "}
        <code title={s.plan_id ?? ""} data-testid="fabric-serving">
          {shortId(s.plan_id)}
        </code>
        {s.plan_in_force !== s.plan_id ? (
          <span className="error-text"> (WAL in force: {shortId(s.plan_in_force)})</span>
        ) : null}
      </span>
      <span className="muted" data-testid="fabric-drops-total">
        lane drops {total}
      </span>
      <span className="muted tiny" data-testid="fabric-updated" data-t={s.t}>
        {stale ? `not updated: ${stale.message}` : `live · ${new Date(s.t).toLocaleTimeString()}`}
      </span>
      {s.problems.length ? (
        <ul className="error-text" data-testid="fabric-problems">
          {s.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

export function BreakerBadge({ state }: { state: FabricRouteRow["breaker"] }) {
  return (
    <span className={`breaker ${state ?? "unknown"}`} data-testid="route-breaker" data-state={state ?? "unknown"}>
      {state ?? "—"}
    </span>
  );
}

function dropsText(d: Record<string, number>): string {
  const parts = Object.entries(d).filter(([, n]) => n > 0);
  return parts.length ? parts.map(([k, n]) => `${k} ${n}`).join(", ") : "0";
}

function RoutesTable({ s }: { s: FabricStatus }) {
  if (s.routes.length === 0)
    return (
      <Empty testid="fabric-no-routes">
        <strong>No routes are served.</strong>{" "}
        <p>
          Build and apply a plan: <code>rtt plan build --out plan.json</code>, <code>rtt plan apply plan.json</code>.
        </p>
      </Empty>
    );
  return (
    <table className="grid compact fabric-routes" data-testid="fabric-routes">
      <thead>
        <tr>
          <th className="num">id</th>
          <th>from</th>
          <th>to</th>
          <th>lane</th>
          <th>placement</th>
          <th className="num">calls</th>
          <th className="num">errors</th>
          <th className="num">p50</th>
          <th className="num">p99</th>
          <th>breaker</th>
          <th>drops</th>
          <th>health</th>
        </tr>
      </thead>
      <tbody>
        {s.routes.map((r) => (
          <tr key={r.route_id} data-testid="fabric-route-row" data-route={r.route_id}>
            <td className="num">{r.route_id}</td>
            <td className="mono" data-testid="route-from">
              {r.from}
            </td>
            <td className="mono" data-testid="route-to">
              {r.to}
            </td>
            <td data-testid="route-lane">{r.lane}</td>
            <td data-testid="route-placement">
              {r.placement.from ?? "?"} → {r.placement.to ?? "?"}
            </td>
            <td className="num" data-testid="route-calls">
              {r.calls ?? "—"}
            </td>
            <td className="num">{r.errors ?? "—"}</td>
            <td className="num" data-testid="route-p50">
              {fmtUs(r.p50_us)}
            </td>
            <td className="num" data-testid="route-p99">
              {fmtUs(r.p99_us)}
            </td>
            <td>
              <BreakerBadge state={r.breaker} />
              {r.caps_open.length ? <span className="muted tiny"> {r.caps_open.join(", ")}</span> : null}
            </td>
            <td data-testid="route-drops">{dropsText(r.drops)}</td>
            <td data-testid="route-health">{r.healthy === null ? "—" : r.healthy ? "healthy" : "unhealthy"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SignatureBadge({ sig, testid }: { sig: FabricSignature | null; testid: string }) {
  const status = sig?.status ?? "missing";
  const label =
    status === "valid"
      ? "signed ✓"
      : status === "unsigned"
        ? "unsigned"
        : status === "missing"
          ? "no plan file"
          : status;
  return (
    <span
      className={`sig ${status}`}
      data-testid={testid}
      data-status={status}
      title={sig ? `${sig.key_id ?? "no key"}${sig.reason ? `: ${sig.reason}` : ""}` : "the stored plan is missing"}
    >
      {label}
    </span>
  );
}

function ProofBadge({ c }: { c: FabricCommit }) {
  const p = c.proof;
  if (!p)
    return (
      <span className="sig bad_signature" data-testid="commit-proof" data-ok="false" title={c.problem}>
        no proof
      </span>
    );
  const cp = p.checkpoint;
  const under = cp
    ? `checkpoint${cp.seq !== null ? ` #${cp.seq}` : ""} (${cp.tree_size} commits, ${cp.signature.status})`
    : `the whole tree (${p.tree_size} commits, no checkpoint yet)`;
  return (
    <span
      className={`sig ${p.ok ? "valid" : "bad_signature"}`}
      data-testid="commit-proof"
      data-ok={String(p.ok)}
      data-checkpoint-signature={cp?.signature.status ?? "none"}
      title={`leaf ${p.leaf_index} of ${p.tree_size}, ${p.audit_path} hashes to root ${p.root} under ${under}`}
    >
      {p.ok ? "proof ✓" : "proof ✗"} <span className="muted tiny">{under}</span>
    </span>
  );
}

function PlansPanel({ planId, tick }: { planId: string | null; tick: number }) {
  const q = useQuery(["fabric-plans", planId, tick], (s) => fabricApi.plans(50, s), { keepPrevious: true });
  return (
    <section aria-labelledby="fabric-plans-h" className="fabric-plans">
      <h2 id="fabric-plans-h" className="small-title">
        Plan in force and history
      </h2>
      {q.data ? (
        <Plans p={q.data} />
      ) : q.state === "error" ? (
        <ErrorBox error={q.error} what="the plan history" retry={q.refetch} />
      ) : (
        <Loading what="the plan history" testid="fabric-plans-loading" />
      )}
    </section>
  );
}

function Plans({ p }: { p: FabricPlans }) {
  if (!p.exists)
    return (
      <Empty testid="fabric-no-wal">
        <strong>No plan was ever applied here</strong> <p>({p.wal} does not exist).</p>
      </Empty>
    );
  return (
    <>
      {p.plan ? (
        <dl className="kv" data-testid="fabric-plan" data-plan={p.plan.plan_id}>
          <dt>plan</dt>
          <dd className="mono" title={p.plan.plan_id}>
            {shortId(p.plan.plan_id, 16)} <SignatureBadge sig={p.plan.signature} testid="plan-signature" />
          </dd>
          <dt>base</dt>
          <dd className="mono">{shortId(p.plan.base, 16)}</dd>
          <dt>routes</dt>
          <dd>
            {p.plan.routes.length}
            {p.plan.rejected.length ? <span className="error-text"> · {p.plan.rejected.length} rejected</span> : null}
          </dd>
          <dt>WAL</dt>
          <dd>
            {p.records} records, {p.commits} commits, {p.checkpoints.length} checkpoints
            {p.pending ? <span className="error-text"> · undecided: {shortId(p.pending)}</span> : null}
          </dd>
        </dl>
      ) : (
        <p className="muted">No plan in force (rolled back to none).</p>
      )}
      {p.problems.length ? (
        <ul className="error-text" data-testid="fabric-wal-problems">
          {p.problems.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      ) : null}
      <table className="grid compact" data-testid="fabric-history">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>plan</th>
            <th className="num">routes</th>
            <th>signature</th>
            <th>inclusion proof</th>
          </tr>
        </thead>
        <tbody>
          {p.history.map((c) => (
            <tr
              key={c.seq}
              data-testid="fabric-commit"
              data-plan={c.plan_id}
              data-in-force={String(c.in_force)}
              aria-selected={c.in_force}
            >
              <td className="num" title={`WAL record ${c.seq}`}>
                {c.index + 1}
              </td>
              <td className="mono" title={c.plan_id}>
                {shortId(c.plan_id)} {c.in_force ? <b className="in-force">in force</b> : null}
              </td>
              <td className="num">
                {c.routes ?? "?"}
                <span className="muted tiny">
                  {" "}
                  +{c.add ?? "?"} −{c.remove ?? "?"}
                </span>
              </td>
              <td>
                <SignatureBadge sig={c.signature} testid="commit-signature" />
              </td>
              <td>
                <ProofBadge c={c} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.events.length ? (
        <ul className="fabric-events small" data-testid="fabric-events">
          {p.events.slice(0, 10).map((e) => (
            <li key={e.seq}>
              #{e.seq} {e.type} {e.plan_id ? <code>{shortId(e.plan_id)}</code> : null}
              {e.to !== undefined ? <> → {shortId(e.to)}</> : null}
              {e.tree_size !== undefined ? <> ({e.tree_size} commits)</> : null}
              {e.reason ? <span className="muted"> — {e.reason}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

import { linkHorizontal } from "d3";
import { useMemo } from "react";
import { type FabricGraph, type FabricRouteRow, fabricApi } from "../api.js";
import { useQuery } from "../query.js";
import { Empty, ErrorBox, Loading } from "../util.js";

const COL_W = 300;
const ROW_H = 46;
const PAD = 16;
const HEAD = 34;
const R = 7;
/** Nodes sit this far into their column: a route within one placement loops out on the left. */
const INSET = 44;

export const LANE_COLORS: Record<string, string> = { shm: "#15803d", uds: "#1d4ed8", tcp: "#7c3aed" };

interface Placed {
  id: string;
  placement: string;
  role: FabricGraph["symbols"][number]["role"];
  x: number;
  y: number;
}

/**
 * Symbols in one column per placement (topology node), in the server's order, each column's symbols stacked; routes
 * are edges between them. Deterministic: the same graph draws the same picture.
 */
export function layoutGraph(g: FabricGraph): { nodes: Map<string, Placed>; width: number; height: number } {
  const nodes = new Map<string, Placed>();
  const rows = new Map<string, number>();
  for (const s of g.symbols) {
    const col = Math.max(0, g.placements.indexOf(s.placement));
    const row = rows.get(s.placement) ?? 0;
    rows.set(s.placement, row + 1);
    nodes.set(s.id, { ...s, x: PAD + INSET + col * COL_W, y: PAD + HEAD + row * ROW_H });
  }
  const maxRows = Math.max(1, ...rows.values());
  return {
    nodes,
    width: PAD * 2 + Math.max(1, g.placements.length) * COL_W,
    height: PAD * 2 + HEAD + maxRows * ROW_H,
  };
}

const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();

function edgePath(a: Placed, b: Placed): string {
  if (a.x === b.x) {
    // Same placement: a loop out on the left of the column (labels are on the right).
    const bulge = Math.min(INSET - R, 18 + Math.abs(b.y - a.y) / 3);
    return `M${a.x - R},${a.y} C${a.x - R - bulge},${a.y} ${b.x - R - bulge},${b.y} ${b.x - R},${b.y}`;
  }
  const dir = b.x > a.x ? 1 : -1;
  return link({ source: [a.x + dir * R, a.y], target: [b.x - dir * R, b.y] }) ?? "";
}

const label = (symbol: string) => symbol.replace(/^rtt:\/\//, "");

/** The d3 graph of the table served: `GET /fabric/graph` per plan, breaker and health live from the routes table. */
export function FabricGraphView({ planId, routes }: { planId: string | null; routes: FabricRouteRow[] }) {
  const q = useQuery(["fabric-graph", planId], (s) => fabricApi.graph(s), { keepPrevious: true });
  const live = useMemo(() => new Map(routes.map((r) => [r.route_id, r])), [routes]);
  const g = q.data;
  const layout = useMemo(() => (g ? layoutGraph(g) : null), [g]);
  if (!g || !layout) {
    if (q.state === "error") return <ErrorBox error={q.error} what="the symbols graph" retry={q.refetch} />;
    return <Loading what="the symbols graph" testid="fabric-graph-loading" />;
  }
  if (g.symbols.length === 0) return <Empty testid="fabric-graph-empty">No symbols: no plan is served.</Empty>;
  return (
    <div className="fabric-graph">
      <svg
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label={`${g.symbols.length} symbols on ${g.placements.length} placements, ${g.routes.length} routes`}
        data-testid="fabric-graph"
        data-drawn="true"
        data-plan={g.plan_id ?? ""}
      >
        <defs>
          {Object.entries(LANE_COLORS).map(([lane, color]) => (
            <marker
              key={lane}
              id={`fabric-arrow-${lane}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="6"
              markerHeight="6"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" fill={color} />
            </marker>
          ))}
        </defs>
        {g.placements.map((p, i) => (
          <g key={p} data-testid="graph-placement" data-placement={p}>
            <rect
              className="fabric-col"
              x={PAD / 2 + i * COL_W}
              y={PAD / 2}
              width={COL_W - PAD}
              height={layout.height - PAD}
              rx={6}
            />
            <text className="fabric-col-label" x={PAD + i * COL_W} y={PAD + 12}>
              {p}
            </text>
          </g>
        ))}
        {g.routes.map((r) => {
          const a = layout.nodes.get(r.from);
          const b = layout.nodes.get(r.to);
          if (!a || !b) return null;
          const now = live.get(r.route_id);
          const breaker = now?.breaker ?? r.breaker;
          const healthy = now ? now.healthy : r.healthy;
          const color = healthy === false || breaker === "open" ? "#b91c1c" : (LANE_COLORS[r.lane] ?? "#526077");
          return (
            <path
              key={r.route_id}
              d={edgePath(a, b)}
              className="fabric-edge"
              stroke={color}
              strokeDasharray={breaker === "open" || breaker === "half-open" ? "5 4" : undefined}
              markerEnd={`url(#fabric-arrow-${LANE_COLORS[r.lane] ? r.lane : "uds"})`}
              data-testid="graph-edge"
              data-route={r.route_id}
              data-lane={r.lane}
              data-breaker={breaker ?? "unknown"}
            >
              <title>
                route {r.route_id}: {r.from} → {r.to} ({r.lane}; breaker {breaker ?? "unknown"}
                {healthy === false ? "; unhealthy" : ""})
              </title>
            </path>
          );
        })}
        {[...layout.nodes.values()].map((n) => (
          <g
            key={n.id}
            transform={`translate(${n.x},${n.y})`}
            data-testid="graph-node"
            data-symbol={n.id}
            data-placement={n.placement}
            data-role={n.role}
          >
            <circle r={R} className={`fabric-node ${n.role}`} />
            <text x={R + 5} y={4} className="fabric-node-label">
              {label(n.id)}
            </text>
            <title>
              {n.id} on {n.placement} (
              {n.role === "none"
                ? "no route"
                : n.role === "both"
                  ? "calls and is called"
                  : n.role === "from"
                    ? "calls"
                    : "is called"}
              )
            </title>
          </g>
        ))}
      </svg>
      <p className="muted tiny fabric-legend">
        {Object.entries(LANE_COLORS).map(([lane, color]) => (
          <span key={lane}>
            <span className="swatch" style={{ background: color }} /> {lane}{" "}
          </span>
        ))}
        · dashed: breaker open or half-open · red: unhealthy or open
      </p>
    </div>
  );
}

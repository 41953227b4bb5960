import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation, type SimulationNodeDatum } from "d3";
import { useMemo } from "react";
import type { DimCore, SetValues, SnrNode } from "../api.js";
import { fmtNum } from "../util.js";

/** SET overlay: S, E, T as horizontal bars (values are shown as numbers too). */
export function SetView({ set }: { set: SetValues }) {
  const max = Math.max(1, ...[set.S, set.E, set.T].map((v) => Math.abs(v)));
  return (
    <div className="overlay-card" data-testid="overlay-set">
      <h4>SET</h4>
      {(["S", "E", "T"] as const).map((k) => (
        <div className="bar-row" key={k}>
          <span className="bar-key">{k}</span>
          <span className="bar">
            <span style={{ width: `${(Math.abs(set[k]) / max) * 100}%` }} />
          </span>
          <span className="mono">{fmtNum(set[k], 4)}</span>
        </div>
      ))}
    </div>
  );
}

/** DimCore overlay: the dimensional weights d0…dn as bars. */
export function DimCoreView({ dimcore }: { dimcore: DimCore }) {
  const dims = Object.entries(dimcore.dims).sort((a, b) => Number(a[0].slice(1)) - Number(b[0].slice(1)));
  const max = Math.max(1e-9, ...dims.map(([, v]) => Math.abs(v)));
  const w = 300;
  const h = 80;
  const bw = w / Math.max(dims.length, 1);
  return (
    <div className="overlay-card" data-testid="overlay-dimcore">
      <h4>DimCore {dimcore.model ? <span className="muted">{dimcore.model}</span> : null}</h4>
      <svg width="100%" viewBox={`0 0 ${w} ${h + 14}`} role="img" aria-label="DimCore weights">
        {dims.map(([k, v], i) => {
          const bh = (Math.abs(v) / max) * h;
          return (
            <g key={k}>
              <rect x={i * bw + 1} y={h - bh} width={Math.max(bw - 2, 1)} height={bh} fill="#6366f1">
                <title>{`${k} = ${fmtNum(v, 4)}`}</title>
              </rect>
              {dims.length <= 16 ? (
                <text x={i * bw + bw / 2} y={h + 11} textAnchor="middle" className="tiny">
                  {k}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

interface GNode extends SimulationNodeDatum {
  id: string;
  node: SnrNode;
}

/** SNR overlay: the node graph (force layout, computed once, deterministic) with each node's local corridor. */
export function SnrGraph({ nodes }: { nodes: SnrNode[] }) {
  const W = 320;
  const H = 220;
  const layout = useMemo(() => {
    const gnodes: GNode[] = nodes.map((n, i) => ({
      id: n.id,
      node: n,
      x: W / 2 + 80 * Math.cos((2 * Math.PI * i) / nodes.length),
      y: H / 2 + 70 * Math.sin((2 * Math.PI * i) / nodes.length),
    }));
    const ids = new Set(nodes.map((n) => n.id));
    const seen = new Set<string>();
    const links: { source: string; target: string }[] = [];
    for (const n of nodes)
      for (const m of n.neighbors ?? []) {
        const k = [n.id, m].sort().join("\u0000");
        if (ids.has(m) && !seen.has(k)) {
          seen.add(k);
          links.push({ source: n.id, target: m });
        }
      }
    const sim = forceSimulation(gnodes)
      .force(
        "link",
        forceLink<GNode, { source: string | GNode; target: string | GNode }>(links.map((l) => ({ ...l })))
          .id((d) => d.id)
          .distance(70),
      )
      .force("charge", forceManyBody().strength(-220))
      .force("center", forceCenter(W / 2, H / 2))
      .force("collide", forceCollide(24))
      .stop();
    for (let i = 0; i < 200; i++) sim.tick();
    for (const g of gnodes) {
      g.x = Math.min(W - 26, Math.max(26, g.x ?? 0));
      g.y = Math.min(H - 26, Math.max(16, g.y ?? 0));
    }
    const pos = new Map(gnodes.map((g) => [g.id, g]));
    return { gnodes, links: links.map((l) => ({ a: pos.get(l.source)!, b: pos.get(l.target)! })) };
  }, [nodes]);

  const color = (n: SnrNode) => {
    const d = n.local_corridor?.D;
    if (d === undefined) return "#94a3b8";
    // D near 1 = coherent (green), lower = drifting (amber → red).
    if (d >= 0.98) return "#16a34a";
    if (d >= 0.9) return "#ca8a04";
    return "#dc2626";
  };

  return (
    <div className="overlay-card" data-testid="overlay-snr">
      <h4>SNR nodes</h4>
      <svg width="100%" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="SNR node graph">
        {layout.links.map((l) => (
          <line
            key={`${l.a.id}-${l.b.id}`}
            x1={l.a.x}
            y1={l.a.y}
            x2={l.b.x}
            y2={l.b.y}
            stroke="#94a3b8"
            strokeWidth={1.5}
          />
        ))}
        {layout.gnodes.map((g) => {
          const lc = g.node.local_corridor;
          return (
            <g key={g.id} transform={`translate(${g.x},${g.y})`} data-testid="snr-node">
              <circle r={13} fill={color(g.node)} stroke="#0f172a" strokeWidth={1} />
              <text y={4} textAnchor="middle" className="node-id">
                {g.id.length > 4 ? g.id.slice(0, 4) : g.id}
              </text>
              <text y={26} textAnchor="middle" className="tiny">
                {lc ? `C ${fmtNum(lc.C, 3)} D ${fmtNum(lc.D, 3)}` : "no corridor"}
              </text>
              <title>
                {`${g.id}${g.node.role ? ` (${g.node.role})` : ""}\nlocal corridor: ${
                  lc
                    ? ["t", "C", "D", "Q", "R"].map((k) => `${k}=${fmtNum(lc[k as keyof typeof lc], 4)}`).join(" ")
                    : "—"
                }${g.node.coupling !== undefined ? `\ncoupling ${fmtNum(g.node.coupling, 3)}` : ""}`}
              </title>
            </g>
          );
        })}
      </svg>
      <table className="mini">
        <thead>
          <tr>
            <th>node</th>
            <th>role</th>
            <th>C</th>
            <th>D</th>
            <th>Q</th>
            <th>R</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id}>
              <td className="mono">{n.id}</td>
              <td>{n.role ?? "—"}</td>
              <td>{fmtNum(n.local_corridor?.C, 3)}</td>
              <td>{fmtNum(n.local_corridor?.D, 3)}</td>
              <td>{fmtNum(n.local_corridor?.Q, 3)}</td>
              <td>{fmtNum(n.local_corridor?.R, 3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

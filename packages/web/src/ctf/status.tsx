/** Status codes of the columns endpoint (0 stable … 3 halted). */
export const STATUS_BY_CODE = ["stable", "warning", "critical", "halted"] as const;
/** Corridor status colours: the status lane, badges and the step graph use these. */
const CORRIDOR_STATUS_COLORS: Record<(typeof STATUS_BY_CODE)[number], string> = {
  stable: "#16a34a",
  warning: "#eab308",
  critical: "#dc2626",
  halted: "#475569",
};
/** The same by any status name a trace carries: undefined for one it does not know. */
export const STATUS_COLORS: Partial<Record<string, string>> = CORRIDOR_STATUS_COLORS;
/** The colour of each of STATUS_BY_CODE. */
export const STATUS_CODE_COLORS = STATUS_BY_CODE.map((s) => CORRIDOR_STATUS_COLORS[s]);

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? "unknown";
  return (
    <span
      className="status-badge"
      data-status={s}
      data-testid="status-badge"
      style={{ background: STATUS_COLORS[s] ?? "#94a3b8" }}
    >
      {s}
    </span>
  );
}

/** The five Q-metrics, in the spec's order, with the corridor_spec key of each threshold. */
export const Q_LANES = [
  { key: "semantic_drift", label: "semantic drift", spec: "max_semantic_drift", color: "#2563eb" },
  { key: "tool_entropy", label: "tool entropy", spec: "max_tool_entropy", color: "#7c3aed" },
  { key: "latency_drift", label: "latency drift", spec: "max_latency_drift", color: "#c2410c" },
  { key: "branching_pressure", label: "branching pressure", spec: "max_branching_pressure", color: "#0f766e" },
  { key: "retry_ratio", label: "retry ratio", spec: "max_retry_ratio", color: "#be185d" },
] as const;
export type QKey = (typeof Q_LANES)[number]["key"];

/** A categorical colour per tool index (a non-negative integer). */
const TOOL_COLORS = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"];
export const toolColor = (i: number): string => TOOL_COLORS[i % TOOL_COLORS.length]!;

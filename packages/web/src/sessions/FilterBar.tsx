import { api, shortOperator } from "../api.js";
import { useQuery } from "../query.js";
import { navigate, type Params } from "../route.js";
import { RANGES, type SetFilter } from "./filters.js";

/** The filters above the session list, with the choices the stored sessions offer (GET /replay/facets). */
export function FilterBar({ params, filtered, set }: { params: Params; filtered: boolean; set: SetFilter }) {
  const facets = useQuery(["facets"], (s) => api.facets(s));
  const f = facets.data;
  return (
    <section className="filters" aria-label="Filters" data-testid="filters">
      <Select
        label="Operator"
        testid="filter-operator"
        value={params.operator}
        onChange={(v) => set("operator", v)}
        options={(f?.operators ?? []).map((o) => [o.operator_id, shortOperator(o.operator_id, o.operator_display)])}
      />
      <Select
        label="Device"
        testid="filter-device"
        value={params.device_type}
        onChange={(v) => set("device_type", v)}
        options={(f?.device_types ?? []).map((d) => [d, d])}
      />
      <Select
        label="Scenario"
        testid="filter-scenario"
        value={params.scenario}
        onChange={(v) => set("scenario", v)}
        options={(f?.scenarios ?? []).map((d) => [d, d])}
      />
      <Select
        label="Difficulty"
        testid="filter-difficulty"
        value={params.difficulty}
        onChange={(v) => set("difficulty", v)}
        options={(f?.difficulties ?? []).map((d) => [d, d])}
      />
      <fieldset className="level">
        <legend>Level</legend>
        <input
          type="number"
          min={0}
          max={30}
          aria-label="Minimum level"
          data-testid="filter-level-min"
          value={params.level_min ?? "0"}
          onChange={(e) => set("level_min", clampLevel(e.target.value, "0"))}
        />
        <span aria-hidden="true">–</span>
        <input
          type="number"
          min={0}
          max={30}
          aria-label="Maximum level"
          data-testid="filter-level-max"
          value={params.level_max ?? "30"}
          onChange={(e) => set("level_max", clampLevel(e.target.value, "30"))}
        />
      </fieldset>
      <label className="check">
        <input
          type="checkbox"
          data-testid="filter-has-anomalies"
          checked={params.anom === "1"}
          onChange={(e) => set("anom", e.target.checked ? "1" : undefined)}
        />
        Has anomalies
      </label>
      <label className="check">
        <input
          type="checkbox"
          data-testid="filter-spec-v2"
          checked={params.v2 === "1"}
          onChange={(e) => set("v2", e.target.checked ? "1" : undefined)}
        />
        Spec v2
      </label>
      <Select
        label="Time range"
        testid="filter-range"
        value={params.range}
        allLabel={RANGES[""].label}
        onChange={(v) => set("range", v)}
        options={Object.entries(RANGES)
          .filter(([k]) => k)
          .map(([k, r]) => [k, r.label])}
      />
      {params.range === "custom" ? (
        <>
          <label>
            From
            <input type="date" value={params.from ?? ""} onChange={(e) => set("from", e.target.value)} />
          </label>
          <label>
            To
            <input type="date" value={params.to ?? ""} onChange={(e) => set("to", e.target.value)} />
          </label>
        </>
      ) : null}
      {filtered ? (
        <button
          type="button"
          className="secondary"
          data-testid="clear-filters"
          onClick={() => navigate(params.sort ? { sort: params.sort } : {}, { replace: true })}
        >
          Clear filters
        </button>
      ) : null}
      {facets.state === "error" ? (
        <span className="muted" role="status">
          Filter choices unavailable ({facets.error.message}).{" "}
          <button type="button" className="linklike" onClick={facets.refetch}>
            Retry
          </button>
        </span>
      ) : null}
    </section>
  );
}

function clampLevel(v: string, dflt: string): string | undefined {
  if (v === "") return undefined;
  const n = Math.max(0, Math.min(30, Math.round(Number(v))));
  return Number.isFinite(n) && String(n) !== dflt ? String(n) : undefined;
}

function Select(props: {
  label: string;
  testid: string;
  value?: string;
  options: [string, string][];
  onChange: (v: string | undefined) => void;
  allLabel?: string;
}) {
  return (
    <label>
      {props.label}
      <select
        data-testid={props.testid}
        value={props.value ?? ""}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">{props.allLabel ?? "All"}</option>
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
        {props.value && !props.options.some(([v]) => v === props.value) ? (
          <option value={props.value}>{props.value}</option>
        ) : null}
      </select>
    </label>
  );
}

import { api, shortOperator } from "../api.js";
import { useQuery } from "../query.js";
import { navigate, type Params } from "../route.js";
import { ANY_TIME, RANGES, type SetFilter } from "./filters.js";

/** The filters above the session list, with the choices the stored sessions offer (GET /replay/facets). */
export function FilterBar({ params, filtered, set }: { params: Params; filtered: boolean; set: SetFilter }) {
  const facets = useQuery(["facets"], (s) => api.facets(s));
  const f = facets.data;
  const same = (v: string): [string, string] => [v, v];
  // label, test id, URL parameter, [value, text] of each choice
  const choices: [string, string, string, [string, string][]][] = [
    [
      "Operator",
      "filter-operator",
      "operator",
      (f?.operators ?? []).map((o) => [o.operator_id, shortOperator(o.operator_id, o.operator_display)]),
    ],
    ["Device", "filter-device", "device_type", (f?.device_types ?? []).map(same)],
    ["Scenario", "filter-scenario", "scenario", (f?.scenarios ?? []).map(same)],
    ["Difficulty", "filter-difficulty", "difficulty", (f?.difficulties ?? []).map(same)],
  ];
  return (
    <section className="filters" aria-label="Filters" data-testid="filters">
      {choices.map(([label, testid, param, options]) => (
        <Select
          key={param}
          label={label}
          testid={testid}
          value={params[param]}
          onChange={(v) => set(param, v)}
          options={options}
        />
      ))}
      <fieldset className="level">
        <legend>Level</legend>
        <Level label="Minimum level" testid="filter-level-min" param="level_min" dflt="0" params={params} set={set} />
        <span aria-hidden="true">–</span>
        <Level label="Maximum level" testid="filter-level-max" param="level_max" dflt="30" params={params} set={set} />
      </fieldset>
      <Check label="Has anomalies" testid="filter-has-anomalies" param="anom" params={params} set={set} />
      <Check label="Spec v2" testid="filter-spec-v2" param="v2" params={params} set={set} />
      <Select
        label="Time range"
        testid="filter-range"
        value={params.range}
        allLabel={ANY_TIME.label}
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

interface FilterProps {
  label: string;
  testid: string;
  param: string;
  params: Params;
  set: SetFilter;
}

/** A level bound (0–30); its default value is left out of the URL. */
function Level({ label, testid, param, dflt, params, set }: FilterProps & { dflt: string }) {
  return (
    <input
      type="number"
      min={0}
      max={30}
      aria-label={label}
      data-testid={testid}
      value={params[param] ?? dflt}
      onChange={(e) => set(param, clampLevel(e.target.value, dflt))}
    />
  );
}

/** A yes/no filter: `param=1` when checked. */
function Check({ label, testid, param, params, set }: FilterProps) {
  return (
    <label className="check">
      <input
        type="checkbox"
        data-testid={testid}
        checked={params[param] === "1"}
        onChange={(e) => set(param, e.target.checked ? "1" : undefined)}
      />
      {label}
    </label>
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

import { type Params, update, useTitle } from "../route.js";
import { FilterBar } from "./FilterBar.js";
import { FILTER_KEYS } from "./filters.js";
import { SessionSummary } from "./SessionSummary.js";
import { SessionTable } from "./SessionTable.js";

/** The sessions view (`/`): a filter bar, the session list and the selected session's summary; state in the URL. */
export function SessionsView({ params }: { params: Params }) {
  useTitle("Sessions");
  const filtered = FILTER_KEYS.some((k) => params[k]);
  const set = (k: string, v: string | undefined) => update({ [k]: v, sel: undefined }, { replace: true });
  return (
    <div className="browser">
      <FilterBar params={params} filtered={filtered} set={set} />
      <div className="browser-body">
        <SessionTable params={params} filtered={filtered} set={set} />
        <SessionSummary selected={params.sel} />
      </div>
    </div>
  );
}

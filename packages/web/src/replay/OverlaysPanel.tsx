import type { Sample, Triadic } from "../api.js";
import { update } from "../route.js";
import { DimCoreView, SetView, SnrGraph } from "./Triadic.js";

const OVERLAYS = [
  ["anomalies", "Anomalies"],
  ["boundaries", "Segment boundaries"],
  ["set", "SET"],
  ["dimcore", "DimCore"],
  ["snr", "SNR nodes"],
] as const;
export type OverlayKey = (typeof OVERLAYS)[number][0];

const DEFAULT_OVERLAYS = "anomalies,boundaries";

/** The overlays switched on by the `ov` URL parameter (kept in the URL so a shared link shows the same picture). */
export function readOverlays(param: string | undefined): Set<OverlayKey> {
  return new Set<OverlayKey>(
    (param ?? DEFAULT_OVERLAYS).split(",").filter((x): x is OverlayKey => OVERLAYS.some(([k]) => k === x)),
  );
}

function toggleOverlay(on: Set<OverlayKey>, k: OverlayKey) {
  const next = new Set(on);
  if (next.has(k)) next.delete(k);
  else next.add(k);
  const v = [...next].join(",");
  update({ ov: v === DEFAULT_OVERLAYS ? undefined : v || "none" }, { replace: true });
}

/**
 * Overlay switches, and the triadic views (SET, DimCore, SNR nodes) that are switched on. SET and DimCore follow the
 * current sample when it carries them, else the session's values; an overlay the session lacks is disabled.
 */
export function OverlaysPanel({
  on,
  triadic,
  fullSample,
}: {
  on: Set<OverlayKey>;
  triadic: Triadic | null;
  fullSample: Sample | null;
}) {
  const setVals = fullSample?.triadic?.set ?? fullSample?.SET ?? triadic?.set;
  const dimcore = fullSample?.triadic?.dimcore ?? triadic?.dimcore;
  const snr = triadic?.snr?.nodes;
  return (
    <section className="overlays" aria-label="Overlays" data-testid="overlays">
      <h3>Overlays</h3>
      {OVERLAYS.map(([k, label]) => {
        const avail =
          k === "anomalies" ||
          k === "boundaries" ||
          (k === "set" ? !!setVals : k === "dimcore" ? !!dimcore : !!snr?.length);
        return (
          <label key={k} className={`check ${avail ? "" : "unavailable"}`}>
            <input
              type="checkbox"
              checked={avail && on.has(k)}
              disabled={!avail}
              onChange={() => toggleOverlay(on, k)}
              data-testid={`overlay-${k}-toggle`}
            />
            {label}
            {!avail ? <span className="muted small"> (not in this session)</span> : null}
          </label>
        );
      })}
      {on.has("set") && setVals ? <SetView set={setVals} /> : null}
      {on.has("dimcore") && dimcore ? <DimCoreView dimcore={dimcore} /> : null}
      {on.has("snr") && snr?.length ? <SnrGraph nodes={snr} /> : null}
    </section>
  );
}

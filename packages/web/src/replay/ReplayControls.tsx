import { useEffect, useState } from "react";
import type { SegmentInfo } from "../api.js";
import { update } from "../route.js";
import { fmtT } from "../util.js";
import { SPEEDS } from "./usePlayback.js";
import type { SessionAnomaly } from "./useSessionAnomalies.js";

export function ReplayControls(props: {
  seg: SegmentInfo;
  t: number;
  playing: boolean;
  onTogglePlay: () => void;
  onStep: (dir: number) => void;
  speed: number;
  onSpeed: (speed: number) => void;
  loop: boolean;
  onLoop: (on: boolean) => void;
  fromT?: number;
  toT?: number;
  anomalies: SessionAnomaly[];
  onSeek: (segmentId: string, t: number) => void;
}) {
  const { seg, t, playing, onTogglePlay, onStep, speed, onSpeed, loop, onLoop, fromT, toT, anomalies, onSeek } = props;
  return (
    <div className="controls" data-testid="controls">
      <button
        type="button"
        className="primary play"
        onClick={onTogglePlay}
        data-testid="play"
        aria-pressed={playing}
        aria-keyshortcuts="Space"
      >
        {playing ? "❚❚ Pause" : "▶ Play"}
      </button>
      <button type="button" onClick={() => onStep(-1)} data-testid="step-back" aria-keyshortcuts="ArrowLeft">
        ◀ Step
      </button>
      <button type="button" onClick={() => onStep(1)} data-testid="step-forward" aria-keyshortcuts="ArrowRight">
        Step ▶
      </button>
      <label>
        Speed
        <select value={speed} data-testid="speed" onChange={(e) => onSpeed(Number(e.target.value))}>
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              {s}×
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={loop} data-testid="loop" onChange={(e) => onLoop(e.target.checked)} />
        Loop
      </label>
      <RangeInput label="From t" value={fromT} param="from_t" seg={seg} />
      <RangeInput label="To t" value={toT} param="to_t" seg={seg} />
      <label>
        Jump to anomaly
        <select
          data-testid="jump-anomaly"
          value=""
          disabled={!anomalies.length}
          onChange={(e) => {
            const hit = anomalies.find((x) => x.key === e.target.value);
            if (hit) onSeek(hit.seg.segment_id, hit.a.t);
          }}
        >
          <option value="">{anomalies.length ? `${anomalies.length} anomalies…` : "no anomalies"}</option>
          {anomalies.map((x) => (
            <option key={x.key} value={x.key}>
              {`${x.seg.label} ${fmtT(x.a.t)} · ${x.a.type} · sev ${x.a.severity ?? "?"}`}
            </option>
          ))}
        </select>
      </label>
      <span className="time mono" data-testid="current-t" aria-live="off">
        {seg.label} t={fmtT(t, 4)}
      </span>
    </div>
  );
}

/** A from/to bound of playback, written to the URL (clamped to the segment) on blur or Enter. */
function RangeInput({ label, value, param, seg }: { label: string; value?: number; param: string; seg: SegmentInfo }) {
  const [text, setText] = useState(value === undefined ? "" : String(value));
  useEffect(() => setText(value === undefined ? "" : String(value)), [value]);
  const commit = () => {
    const v = text.trim();
    if (v === "" || !Number.isFinite(Number(v))) update({ [param]: undefined }, { replace: true });
    else update({ [param]: String(Math.min(seg.t_max, Math.max(seg.t_min, Number(v)))) }, { replace: true });
  };
  return (
    <label>
      {label}
      <input
        className="t-input"
        type="number"
        step="any"
        inputMode="decimal"
        placeholder={String(Number((param === "from_t" ? seg.t_min : seg.t_max).toFixed(3)))}
        value={text}
        data-testid={param.replace("_", "-")}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === "Enter" && commit()}
      />
    </label>
  );
}

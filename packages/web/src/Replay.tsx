import { useCallback, useMemo } from "react";
import { type Anomaly, api, columnsQuery, plotPointBudget, type SegmentInfo, type SessionDetail } from "./api.js";
import { prefetch, useQuery } from "./query.js";
import { CurriculumPanel } from "./replay/CurriculumPanel.js";
import { curriculumBands } from "./replay/curriculumBands.js";
import { EventInspector } from "./replay/EventInspector.js";
import { NotesPanel, useNotes } from "./replay/NotesPanel.js";
import { OverlaysPanel, readOverlays } from "./replay/OverlaysPanel.js";
import { ReplayControls } from "./replay/ReplayControls.js";
import { ReplayHeader } from "./replay/ReplayHeader.js";
import { SegmentPlots } from "./replay/SegmentPlots.js";
import { SegmentTabs } from "./replay/SegmentTabs.js";
import { Timeline } from "./replay/Timeline.js";
import { useInspectedSample } from "./replay/useInspectedSample.js";
import { usePlayback } from "./replay/usePlayback.js";
import { useReplayKeys } from "./replay/useReplayKeys.js";
import { useReplayTime } from "./replay/useReplayTime.js";
import { useSegmentSamples } from "./replay/useSegmentSamples.js";
import { adjacentAnomaly, useSessionAnomalies } from "./replay/useSessionAnomalies.js";
import { href, onLinkClick, type Params, useTitle } from "./route.js";
import { Empty, ErrorBox, Loading } from "./util.js";

const NO_ANOMALIES: Anomaly[] = [];

/** `?view=replay&session=ID` (or `view=curriculum`); App renders it only with a session id. */
export function Replay({ id, params, curriculum }: { id: string; params: Params; curriculum: boolean }) {
  const detail = useQuery(["session", id], (s) => {
    // A deep link names its segment: start loading its plot data before the session metadata arrives.
    if (params.segment) {
      const cols = columnsQuery(id, params.segment, { max_points: plotPointBudget() });
      prefetch(cols.key, cols.fetcher);
    }
    return api.session(id, s);
  });
  useTitle(curriculum ? `Curriculum ${id}` : `Replay ${id}`);
  if (detail.state === "loading") return <Loading what="the session" testid="replay-loading" />;
  if (detail.state === "error")
    return (
      <div className="page-msg">
        <ErrorBox error={detail.error} what={`session ${id}`} retry={detail.refetch} />
        <a href={href({})} onClick={(e) => onLinkClick(e, {})}>
          ← Back to sessions
        </a>
      </div>
    );
  if (!detail.data.segments?.length)
    return (
      <Empty testid="replay-empty">
        <strong>This session has no segments or samples to replay.</strong>
        <p>
          It was stored without samples. <a href={api.exportUrl(id)}>Export the JSON</a> to inspect it, or pick another
          session.
        </p>
      </Empty>
    );
  return <ReplayLoaded detail={detail.data} params={params} curriculum={curriculum} />;
}

/** The replay (or curriculum) page of a session that has segments; the hooks under ./replay hold its state. */
function ReplayLoaded({ detail, params, curriculum }: { detail: SessionDetail; params: Params; curriculum: boolean }) {
  const id = detail.session_id;
  const segments = detail.segments;
  // Replay renders this only for a session with segments; an unknown ?segment= shows the first.
  const seg: SegmentInfo = segments.find((s) => s.segment_id === params.segment) ?? segments[0]!;
  const segIndex = segments.indexOf(seg);

  const { t, setT, tRef, goTo } = useReplayTime(params, seg);
  const playback = usePlayback({ id, seg, params, tRef, setT });
  const { playing, stop, fromT, toT } = playback;
  const seek = useCallback(
    (segmentId: string, tt: number) => {
      stop();
      goTo(segmentId, tt);
    },
    [stop, goTo],
  );
  const samples = useSegmentSamples({ id, seg, t, tRef, setT, playing, urlZoom: params.zoom });
  const { cols, hit } = samples;
  const step = (dir: number) => {
    stop();
    samples.step(dir);
  };
  const { anoms, allAnoms } = useSessionAnomalies(id, segments, cols.state !== "loading");
  const jumpAnomaly = (dir: 1 | -1) => {
    const target = adjacentAnomaly(allAnoms, segments, segIndex, tRef.current, dir);
    if (target) seek(target.seg.segment_id, target.a.t);
  };
  const notes = useNotes(id);
  const report = useQuery(["curriculum", id], (s) => api.curriculum(id, s), { enabled: curriculum });
  useReplayKeys({ togglePlay: playback.togglePlay, step, jumpAnomaly, seek, segments, seg });

  const { cur, sampleT, fullSample } = useInspectedSample({ id, seg, t, hit, live: playback.live, playing });
  const segAnoms = anoms?.bySeg[seg.segment_id] ?? NO_ANOMALIES;
  // "At this t" means within half a sample spacing: stepping lands on samples, rarely exactly on an anomaly's t.
  const near = hit?.cols.t;
  const spacing = near && near.length > 1 ? (near[near.length - 1]! - near[0]!) / (near.length - 1) : samples.dtEst;
  const hereAnoms = segAnoms.filter((a) => Math.abs(a.t - t) <= Math.max(spacing / 2, 1e-9));

  const ov = readOverlays(params.ov);
  const bands = curriculumBands((curriculum && report.data?.objectives) || [], segments, seg.segment_id);
  const segNotes = notes.notes.filter((n) => !n.segment_id || n.segment_id === seg.segment_id);
  const showAnoms = ov.has("anomalies");
  const notesKey = JSON.stringify(segNotes);
  const bandsKey = JSON.stringify(bands.plot);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by content, not identity
  const overlays = useMemo(
    () => ({
      anomalies: segAnoms,
      showAnomalies: showAnoms,
      notes: segNotes,
      bands: bands.plot,
      range: { from: fromT, to: toT },
    }),
    [segAnoms, showAnoms, notesKey, bandsKey, fromT, toT],
  );

  const notesPanel = (
    <NotesPanel
      id={id}
      notes={notes.notes}
      error={notes.error}
      seg={seg}
      t={sampleT ?? t}
      segments={segments}
      onAdded={notes.added}
      onSeek={seek}
    />
  );

  return (
    <div className="replay" data-testid={curriculum ? "curriculum-view" : "replay-view"}>
      <ReplayHeader detail={detail} params={params} curriculum={curriculum} />
      {curriculum ? <CurriculumPanel report={report} onSeek={seek} segments={segments} /> : null}
      <SegmentTabs segments={segments} current={seg} onSeek={seek} />
      <Timeline
        segments={segments}
        current={{ segment_id: seg.segment_id, t }}
        anomalies={anoms?.bySeg ?? {}}
        notes={notes.notes}
        bands={bands.timeline}
        showAnomalies={showAnoms}
        showBoundaries={ov.has("boundaries")}
        onSeek={seek}
      />
      {anoms && !anoms.complete ? (
        <p className="muted small" role="status">
          Some anomaly markers could not be loaded (very large session).
        </p>
      ) : null}

      <ReplayControls
        seg={seg}
        t={t}
        playing={playing}
        onTogglePlay={playback.togglePlay}
        onStep={step}
        speed={playback.speed}
        onSpeed={playback.changeSpeed}
        loop={playback.loop}
        onLoop={playback.changeLoop}
        fromT={fromT}
        toT={toT}
        anomalies={allAnoms}
        onSeek={seek}
      />
      {playback.streamErr ? (
        <p className="error-text" role="alert">
          {playback.streamErr}
        </p>
      ) : null}

      <div className="replay-body">
        <section className="plots-col" aria-label="Plots">
          <SegmentPlots
            seg={seg}
            cols={cols}
            nTotal={samples.nTotal}
            overlays={overlays}
            t={t}
            onSeek={(tt) => seek(seg.segment_id, tt)}
            detail={samples.zoomDetail}
            onZoom={samples.onZoom}
            initialZoom={samples.initialZoom}
          />
          <p className="muted small keys">
            Keys: <kbd>Space</kbd> play/pause · <kbd>←</kbd>/<kbd>→</kbd> step (<kbd>Shift</kbd> ×10) · <kbd>[</kbd>/
            <kbd>]</kbd> previous/next anomaly · <kbd>1</kbd>–<kbd>9</kbd> segment · <kbd>Home</kbd>/<kbd>End</kbd>
          </p>
          {curriculum ? notesPanel : null}
        </section>

        <aside className="side" aria-label="Inspector and overlays">
          <EventInspector t={t} seg={seg} anomalies={hereAnoms} sample={cur} fullSample={fullSample} />
          <OverlaysPanel on={ov} triadic={detail.triadic ?? null} fullSample={fullSample} />
          {!curriculum ? notesPanel : null}
        </aside>
      </div>
    </div>
  );
}

import { type RefObject, useCallback, useEffect, useRef, useState } from "react";
import { api, type Sample, type SegmentInfo } from "../api.js";
import { type Params, update } from "../route.js";

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];

/** The latest sample received from the replay stream (anomalies at t come from the loaded markers). */
export interface LiveEvents {
  sample?: Sample;
}

/**
 * Playback over the server's SSE replay stream: play/pause, speed, loop and the from/to range (all but
 * play/pause kept in the URL). While playing, the stream drives t.
 */
export function usePlayback(opts: {
  id: string;
  seg: SegmentInfo;
  params: Params;
  tRef: RefObject<number>;
  setT: (t: number) => void;
}) {
  const { id, seg, params, tRef, setT } = opts;
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(() => (SPEEDS.includes(Number(params.speed)) ? Number(params.speed) : 1));
  const [loop, setLoop] = useState(params.loop === "1");
  const fromT = params.from_t !== undefined && params.from_t !== "" ? Number(params.from_t) : undefined;
  const toT = params.to_t !== undefined && params.to_t !== "" ? Number(params.to_t) : undefined;
  const [streamErr, setStreamErr] = useState<string | null>(null);
  const [live, setLive] = useState<LiveEvents | null>(null);

  const togglePlay = useCallback(() => setPlaying((p) => !p), []);
  /** Pause and drop the streamed sample: any move by hand leaves the stream behind. */
  const stop = useCallback(() => {
    setPlaying(false);
    setLive(null);
  }, []);
  const changeSpeed = (s: number) => {
    setSpeed(s);
    update({ speed: s === 1 ? undefined : String(s) }, { replace: true });
  };
  const changeLoop = (on: boolean) => {
    setLoop(on);
    update({ loop: on ? "1" : undefined }, { replace: true });
  };

  // A new EventSource whenever play starts, the speed changes or the segment changes.
  const [playNonce, setPlayNonce] = useState(0);
  const loopRef = useRef(loop);
  loopRef.current = loop;
  // biome-ignore lint/correctness/useExhaustiveDependencies: restarts on play/speed/segment/loop restart only
  useEffect(() => {
    if (!playing) return;
    const end = toT ?? seg.t_max;
    const start = fromT ?? seg.t_min;
    let from = tRef.current;
    if (from >= end - 1e-12 || from < start) from = start;
    setStreamErr(null);
    const es = new EventSource(api.streamUrl(id, seg.segment_id, { speed, from_t: from, to_t: toT }));
    // Samples can arrive faster than frames: render only the latest one per animation frame.
    let raf = 0;
    let pending: Sample | undefined;
    const flush = () => {
      raf = 0;
      if (pending) {
        const s = pending;
        pending = undefined;
        setT(s.t);
        setLive((l) => ({ ...l, sample: s }));
      }
    };
    es.addEventListener("sample", (e) => {
      pending = JSON.parse((e as MessageEvent).data) as Sample;
      if (!raf) raf = requestAnimationFrame(flush);
    });
    es.addEventListener("end", () => {
      es.close();
      cancelAnimationFrame(raf);
      flush();
      if (loopRef.current) {
        tRef.current = start;
        setT(start);
        setPlayNonce((n) => n + 1);
      } else setPlaying(false);
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        setStreamErr("The replay stream closed unexpectedly. Press play to retry.");
        setPlaying(false);
      }
    };
    return () => {
      es.close();
      cancelAnimationFrame(raf);
    };
  }, [playing, speed, seg.segment_id, playNonce]);

  return { playing, togglePlay, stop, speed, changeSpeed, loop, changeLoop, fromT, toT, streamErr, live };
}

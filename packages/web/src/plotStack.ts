import type uPlot from "uplot";

/**
 * What every stack of synced uPlot lanes in the UI (replay plots, CTF lanes, diff lanes, live monitor) shares: the
 * width a lane takes in its host, keeping the lanes that wide as the host resizes, one playhead, and a teardown that
 * leaves the host empty and the sync group without dangling members.
 */

/** A lane's width in its host: the host's width less its padding, never narrower than an axis and a few points. */
export const laneWidth = (host: HTMLElement): number => Math.max(320, host.clientWidth - 8);

/**
 * Resizes `lanes()` to the host's width whenever it changes (each keeps its own height unless `heightOf` says
 * otherwise), and returns the teardown for the effect that built them: stop observing, leave the sync group,
 * destroy every lane and empty the host. `lanes` is read at each call so a caller may keep them in a Map.
 */
export function mountLaneStack(
  host: HTMLElement,
  sync: uPlot.SyncPubSub,
  lanes: () => Iterable<uPlot>,
  heightOf: (u: uPlot, i: number) => number = (u) => u.height,
): () => void {
  const ro = new ResizeObserver(() => {
    const width = laneWidth(host);
    let i = 0;
    for (const u of lanes()) {
      if (Math.abs(u.width - width) > 1) u.setSize({ width, height: heightOf(u, i) });
      i++;
    }
  });
  ro.observe(host);
  return () => {
    ro.disconnect();
    for (const u of lanes()) {
      sync.unsub(u);
      u.destroy();
    }
    host.replaceChildren();
  };
}

/** Moves a lane's playhead line to x (in data units), hidden while x is outside the visible range. */
export function placeHead(u: uPlot, head: HTMLDivElement | undefined, x: number): void {
  if (!head) return;
  const px = u.valToPos(x, "x");
  head.style.transform = `translateX(${px}px)`;
  head.style.display = Number.isFinite(px) && px >= 0 && px <= u.over.clientWidth ? "block" : "none";
}

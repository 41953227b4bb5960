import { parentPort, workerData } from "node:worker_threads";
import { FLAG_RESPONSE } from "../lanes/frame.js";
import { ShmRing } from "../lanes/shm-ring.js";

/**
 * The far side of an autotune trial (trial.ts): an echo server on its own thread, the shape of the daemon's SHM lane
 * in worker mode — waits on the request ring with the trial's spin budget (waitForDataSync: spin, then futex), answers
 * every frame it finds on the response ring with one publish per wake. Between trials it waits for the next one's
 * rings; `stop` (word 0 of the shared array) ends a trial, `exit` (word 1) the worker.
 */
const { sab } = workerData as { sab: SharedArrayBuffer };
const shared = new Int32Array(sab);
const port = parentPort as NonNullable<typeof parentPort>;

interface TrialMsg {
  req: string;
  resp: string;
  spin: number;
}

function serve(m: TrialMsg): { frames: number; wakes: number } {
  const req = ShmRing.open(m.req);
  const resp = ShmRing.open(m.resp);
  let frames = 0;
  let wakes = 0;
  const out: Array<{ h: { flags: number; routeId: number; frameId: number }; payload: Uint8Array }> = [];
  port.postMessage({ t: "ready" });
  while (Atomics.load(shared, 0) === 0) {
    if (!req.waitForDataSync(m.spin, 20_000)) continue;
    wakes++;
    for (let f = req.tryRead(); f; f = req.tryRead()) {
      out.push({ h: { flags: FLAG_RESPONSE, routeId: f.routeId, frameId: f.frameId }, payload: f.payload.slice() });
      req.release();
    }
    let i = 0;
    while (i < out.length && Atomics.load(shared, 0) === 0) {
      const n = resp.tryWriteMany(i === 0 ? out : out.slice(i));
      i += n;
      if (i < out.length) resp.waitForSpaceSync(1000);
    }
    frames += out.length;
    out.length = 0;
  }
  return { frames, wakes };
}

port.on("message", (m: TrialMsg | { t: "exit" }) => {
  if ("t" in m) {
    port.close();
    return;
  }
  const r = serve(m);
  port.postMessage({ t: "done", ...r });
});

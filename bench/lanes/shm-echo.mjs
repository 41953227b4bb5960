// The far end of bench/lanes/shm.mjs, in its own process: echo every request frame on `<name>-req` back on
// `<name>-resp`, parking on the futex between bursts (blocking: this process does nothing else).
import { ShmRing } from "@rtt/fabric";

const name = process.argv[2];
const spinMicros = Number(process.argv[3] ?? 50);
const req = ShmRing.open(`${name}-req`);
const resp = ShmRing.open(`${name}-resp`);
process.send?.("ready");
for (;;) {
  if (!req.waitForDataSync(spinMicros, 1_000_000)) continue;
  const f = req.tryRead();
  if (!f) continue;
  if (f.frameId === 0xffffffff) break;
  while (!resp.tryWrite({ flags: 1, routeId: f.routeId, frameId: f.frameId }, f.payload)) {}
  req.release();
}
process.exit(0);

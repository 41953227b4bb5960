// Baseline far end for bench/lanes/run.mjs: a raw node:net echo server on a Unix socket (no frames parsed, no CRC,
// no routing) — what a UDS round trip costs before the fabric adds anything.
import { createServer } from "node:net";

const path = process.argv[2];
createServer((s) => {
  s.setNoDelay?.(true);
  s.on("data", (c) => s.write(c));
}).listen(path, () => process.send?.("ready"));

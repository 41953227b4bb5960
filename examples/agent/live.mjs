#!/usr/bin/env node
// Streams a run of the example agent into a running `rtt serve`, event by event at the pace of the run's own clock,
// so the web UI's live monitor has something to watch:
//   node examples/agent/live.mjs [--url http://127.0.0.1:8080] [--scenario flaky] [--speed 1] [--id ID]
// Needs `npm run build` (for @rtt/ctf). With a server token, set RTT_TOKEN (the write token).
import { parseArgs } from "node:util";
import { MemorySink } from "@rtt/ctf";
import { runAgent } from "./agent.mjs";

const { values: o } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8080" },
    scenario: { type: "string", default: "flaky" },
    speed: { type: "string", default: "1" },
    id: { type: "string" },
  },
});
const base = o.url.replace(/\/$/, "");
const speed = Math.max(0.01, Number(o.speed) || 1);
const id = o.id ?? `boiling-point-${o.scenario}-live-${Date.now()}`;

const sink = new MemorySink();
runAgent({ writer: sink, scenario: o.scenario });
const lines = sink.text().trimEnd().split("\n");
const headers = { "content-type": "application/x-ndjson" };
if (process.env.RTT_TOKEN) headers.authorization = `Bearer ${process.env.RTT_TOKEN}`;

console.log(`streaming ${lines.length} events to ${base}/ctf/${id}/events`);
console.log(`watch it: ${base}/?view=trace-live&trace=${id}`);
let prev = null;
for (const line of lines) {
  const t = JSON.parse(line).timestamp;
  // Wait as long as the run's clock advanced (at most 3 s a step), divided by --speed; q and status follow at once.
  if (typeof t === "number" && prev !== null)
    await new Promise((r) => setTimeout(r, (Math.min(3, t - prev) * 1000) / speed));
  if (typeof t === "number") prev = t;
  const res = await fetch(`${base}/ctf/${id}/events`, { method: "POST", headers, body: `${line}\n` });
  if (!res.ok) {
    console.error(`append refused: ${res.status} ${await res.text()}`);
    process.exit(1);
  }
}
console.log("done: the footer is written");

import type { FabricClient, FlightSnapshot } from "@rtt/fabric";
import { type Command, Option } from "commander";
import { CliExit } from "../lib/exit.js";

/**
 * `rtt tap --flight 5s > flight.ndjson`: the fabric daemon's flight recorder over a window, as NDJSON
 * (spec/fabric/flight.md): a header, every interval one line per route and a process line, a footer.
 */
export function register(program: Command): void {
  program
    .command("tap")
    .description(
      "Capture the fabric daemon's flight recorder over a window as NDJSON on stdout (spec/fabric/flight.md)",
    )
    .requiredOption("--flight <window>", "how long to record: 5s, 500ms, 2m … at most 1h")
    .option("--interval <duration>", "one line per route per interval", "1s")
    .addOption(new Option("--root <dir>", "fabric root").default(".rtt"))
    .addOption(new Option("--socket <path>", "control socket (default <root>/fabric.sock)"))
    .addHelpText(
      "after",
      `
Example:
  rtt tap --flight 5s > flight.ndjson
  jq -c 'select(.type=="route") | {seq, route_id, calls, p99: .latency_us.p99, breaker: .breaker.state}' flight.ndjson

Exit codes: 0 captured; 1 a bad window (0 s, longer than 1 h, not a duration) or no daemon answering; 2 the daemon
went away mid-window (the lines so far are kept, the footer says why).`,
    )
    .action(async (opts: { flight: string; interval: string; root: string; socket?: string }) => {
      // loaded here, not at the top: `rtt --help` and every other command must not pay for @rtt/fabric
      const f = await import("@rtt/fabric");
      const { captureFlight, fabricPaths, isFabricError, MAX_FLIGHT_WINDOW_MS, parseDuration } = f;
      let windowMs: number;
      let intervalMs: number;
      let c: FabricClient;
      try {
        windowMs = parseDuration(opts.flight, "--flight", MAX_FLIGHT_WINDOW_MS);
        intervalMs = parseDuration(opts.interval, "--interval", MAX_FLIGHT_WINDOW_MS, 50);
        c = await f.FabricClient.uds(opts.socket ?? fabricPaths(opts.root).socket);
      } catch (e) {
        if (isFabricError(e)) throw new CliExit(e.exitCode, e.message);
        throw e;
      }
      const socket = opts.socket ?? fabricPaths(opts.root).socket;
      try {
        const footer = await captureFlight({
          windowMs,
          intervalMs,
          source: { socket },
          snapshot: () => c.control<FlightSnapshot>("flight", {}, { timeoutMs: 10_000 }),
          write: (line) => {
            const text = `${JSON.stringify(line)}\n`;
            if (!process.stdout.write(text)) return new Promise<void>((r) => process.stdout.once("drain", () => r()));
          },
        });
        if (footer.error) throw new CliExit(2, `tap: the capture ended early: ${footer.error}`);
      } finally {
        c.close();
      }
    });
}

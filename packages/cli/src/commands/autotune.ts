import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import type { AutotuneResult, LoadSpec, Measured } from "@rtt/fabric";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { CliExit } from "../lib/exit.js";
import { loadFabric } from "../lib/fabric.js";

/**
 * `rtt autotune [--trials N] [--from flight.ndjson] [--apply]`: the seed's autotune process on this machine
 * (spec/fabric/autotune.md) — a live load (synthetic, or a flight recording's rates and sizes) through an SHM ring
 * pair, a hill-climb over ring size, batch window and spin budget, confirmed against the daemon's defaults in the
 * same run; `--apply` writes `<root>/tuned/profile.json`, which `rtt fabric up` loads at start.
 */
interface Opts {
  trials: string;
  repeats: string;
  confirm: string;
  from?: string;
  rate?: string;
  payload?: string;
  seed: string;
  root: string;
  apply?: boolean;
  json?: boolean;
}

const int = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliExit(1, `${name} must be an integer ≥ ${min}, not ${v}`);
  return n;
};

const us = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} µs` : "missed the floor");

export function register(program: Command): void {
  program
    .command("autotune")
    .description("Tune the fabric's SHM lanes for this machine: ring size, batch window, spin budget (seed 004)")
    .option("--trials <n>", "trials in all (each a short run of the load; the climb and the confirmation)", "48")
    .option("--repeats <n>", "trials per evaluated setting (the median p99 is the objective)", "3")
    .option("--confirm <n>", "alternating defaults/tuned trial pairs at the end", "5")
    .option("--from <flight.ndjson>", "replay a flight recording's per-route rates and sizes (rtt tap --flight 5s)")
    .option("--rate <hz>", "synthetic load: frames per second (default 10000)")
    .option("--payload <bytes>", "synthetic load: payload bytes (default 256)")
    .option("--seed <n>", "seed of the arrivals and the climb's tie-breaks", "4")
    .option("--root <dir>", "the fabric's root folder", ".rtt")
    .option("--apply", "write <root>/tuned/profile.json (the daemon loads it at its next start)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Examples:
  rtt autotune                              # 48 trials of a synthetic 10k frames/s, 256 B load; prints the gain
  rtt tap --flight 5s > flight.ndjson && rtt autotune --from flight.ndjson --apply
  rtt autotune --trials 24 --repeats 2 --confirm 3 --json

Exit codes: 0 done; 1 bad options or an unreadable recording; 2 a recording that is not rtt-flight/1.`,
    )
    .action(async (opts: Opts) => {
      const f = await loadFabric();
      const repeats = int("--repeats", opts.repeats, 1);
      const confirm = int("--confirm", opts.confirm, 1);
      const trials = int("--trials", opts.trials, 1);
      if (trials < f.minTrials(repeats, confirm))
        throw new CliExit(
          1,
          `--trials must be at least ${f.minTrials(repeats, confirm)} (--repeats ${repeats} for one setting + --confirm ${confirm} pairs)`,
        );
      let load: LoadSpec;
      const notes: string[] = [];
      try {
        if (opts.from) {
          if (opts.rate || opts.payload) throw new CliExit(1, "--from replays the recording: no --rate/--payload");
          let text: string;
          try {
            text = readFileSync(opts.from, "utf8");
          } catch (e) {
            throw new CliExit(1, `--from ${opts.from}: ${(e as Error).message}`);
          }
          const r = f.loadFromFlight(text, opts.from);
          load = r.load;
          notes.push(...r.notes);
        } else
          load = f.syntheticLoad({
            ...(opts.rate ? { rate: Number(opts.rate) } : {}),
            ...(opts.payload ? { payload: int("--payload", opts.payload, 0) } : {}),
          });
      } catch (e) {
        if (f.isFabricError(e)) throw new CliExit(e.exitCode, e.message);
        throw e;
      }
      const machine = f.readMachine();
      const pinning = f.suggestPinning(machine);
      const progress = progressBar(trials);
      let result: AutotuneResult;
      try {
        result = await f.runAutotune({
          load,
          trials,
          repeats,
          confirm,
          seed: int("--seed", opts.seed, 0),
          onTrial: (done, total, what) => progress.update(done, total, what),
        });
      } finally {
        progress.stop();
      }
      const profile = f.profileOf(result, machine, pinning);
      let written: string | undefined;
      if (opts.apply) written = f.writeTunedProfile(opts.root, profile);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ profile, written: written ?? null, notes }, null, 2)}\n`);
        return;
      }
      const la = loadavg().map((x) => x.toFixed(2));
      const lines = [
        `machine: ${machine.cpu_model}, ${machine.cpus} CPUs, ${machine.numa.length} NUMA node(s) — key ${profile.key.slice(0, 19)}…`,
        `load: ${load.source === "flight" ? `replay of ${load.from}` : "synthetic"}, ${Math.round(load.rate_hz)} frames/s, ${load.routes.length} route(s), ${load.routes.map((r) => r.payload_bytes).join("/")} B payloads, ${load.frames} frames per trial`,
        ...notes.map((n) => `  note: ${n}`),
        `search: ${result.climb.path.length} settings × ${repeats} trials (${result.climb.stopped === "optimum" ? "stopped at a local optimum" : "stopped at the trial budget"}), then ${confirm} defaults/tuned pairs — ${result.trials_run} trials, load average ${la.join(" ")}`,
        "",
        "              ring                  batch   spin    p50          p99 (median)   noise   throughput",
        row("defaults", result.defaults),
        row("tuned", result.tuned),
        "",
        result.kept === "tuned"
          ? `p99 gain over the defaults on this machine: ${result.p99_gain_pct}% (noise between trials up to ${Math.max(result.defaults.noise_pct, result.tuned.noise_pct)}%)`
          : `the profile keeps the defaults: the climb's best ${result.p99_gain_pct > 0 ? `was ${result.p99_gain_pct}% better on the medians but is the defaults in effect or won at most half the alternated pairs` : `did not beat them in the confirmation (${result.p99_gain_pct}%)`}`,
        "pinning:",
        ...pinning.notes.map((n) => `  ${n}`),
        ...pinning.commands.map((c) => `  $ ${c}`),
        written
          ? `written: ${written} (rtt fabric up loads it at start)`
          : "not written: --apply writes <root>/tuned/profile.json",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

function row(name: string, m: Measured): string {
  const p = m.params;
  const ring = `${p.ring_slots ?? "-"} slots, ${p.ring_bytes >> 10} KiB`;
  return `  ${name.padEnd(10)}  ${ring.padEnd(20)}  ${`${p.batch_window_us} µs`.padEnd(6)}  ${`${p.spin_us} µs`.padEnd(6)}  ${us(m.p50_us).padEnd(11)}  ${us(m.p99_us).padEnd(13)}  ${`${m.noise_pct}%`.padEnd(6)}  ${m.throughput_hz}/s`;
}

/** cli-progress on a TTY (stderr), as lib/progress.ts does; elsewhere a line every tenth of the trials. */
function progressBar(total: number): { update(done: number, total: number, what: string): void; stop(): void } {
  if (!process.stderr.isTTY) {
    let shown = 0;
    return {
      update(done, t, what) {
        if (done === t || done - shown >= Math.max(1, Math.ceil(t / 10))) {
          shown = done;
          process.stderr.write(`autotune: trial ${done}/${t} — ${what}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "autotune [{bar}] {value}/{total} trials | {what}",
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { what: "warm-up" });
  return {
    update(done, _t, what) {
      bar.update(done, { what });
    },
    stop() {
      bar.stop();
    },
  };
}

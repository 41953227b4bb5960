import { writeFileSync } from "node:fs";
import {
  type CTFIssue,
  diffSides,
  formatDiff,
  formatIssue,
  formatSummary,
  loadDiffSides,
  loadEvents,
  loadTrace,
  summarize,
  toChromeTrace,
  toOtlp,
  validateCTFFile,
} from "@rtt/ctf";
import { loadToken } from "@rtt/server/config";
import type { Command } from "commander";

/** `rtt ctf diff` follows diff(1): 0 same, 1 different, 2 trouble. The other subcommands use rtt's codes. */
const OK = 0;
const USAGE = 1;
const INVALID = 2;
const DIFF_SAME = 0;
const DIFF_DIFFERENT = 1;
const DIFF_TROUBLE = 2;

const fail = (msg: string, code: number) => {
  process.stderr.write(`rtt ctf: ${msg}\n`);
  process.exitCode = code;
};

/** The file is missing or a directory: a usage error (exit 1), not an invalid trace. */
const isUnreadableFileError = (err: unknown) =>
  (err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "EISDIR";

function printIssues(file: string, issues: CTFIssue[], max = 50): void {
  for (const i of issues.slice(0, max)) process.stderr.write(`${file}:${formatIssue(i)}\n`);
  if (issues.length > max) process.stderr.write(`${file}: … ${issues.length - max} more issues\n`);
}

export function register(program: Command): void {
  const ctf = program
    .command("ctf")
    .description("Corridor Trace Files (spec/ctf/v0.1): validate, summarise, diff, export, follow");

  ctf
    .command("validate")
    .description("Check a .ctf file: each event against its schema, the cross-event rules, and recomputed Q-metrics")
    .argument("<files...>", ".ctf files")
    .option("--format <format>", "text or json", "text")
    .option("--no-recompute", "skip recomputing Q-metrics and status")
    .option("--open", "accept a trace without footer (live or still being written)")
    .addHelpText("after", "\nExit codes: 0 valid (warnings allowed), 1 unreadable file, 2 invalid trace.")
    .action(async (files: string[], opts: { format: string; recompute: boolean; open?: boolean }) => {
      let code = OK;
      const reports: unknown[] = [];
      for (const file of files) {
        try {
          const r = await validateCTFFile(file, { recompute: opts.recompute, requireFooter: !opts.open });
          if (r.errors > 0) code = Math.max(code, INVALID);
          if (opts.format === "json") {
            reports.push({
              file,
              valid: r.errors === 0,
              events: r.events,
              lines: r.lines,
              truncated: r.truncated,
              errors: r.errors,
              warnings: r.warnings,
              issues: r.issues,
            });
          } else {
            printIssues(file, r.issues);
            process.stdout.write(
              `${file}: ${r.errors === 0 ? "valid" : "INVALID"} — ${r.events} events, ${r.errors} errors, ${r.warnings} warnings${r.truncated ? ", truncated last line" : ""}\n`,
            );
          }
        } catch (err) {
          fail(`${file}: ${(err as Error).message}`, USAGE);
          code = USAGE;
        }
      }
      if (opts.format === "json") process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      process.exitCode = code;
    });

  ctf
    .command("summary")
    .description("Steps, tools, status timeline, violations, rewinds and a sparkline per Q-metric")
    .argument("<file>", ".ctf file")
    .option("--format <format>", "text or json", "text")
    .action(async (file: string, opts: { format: string }) => {
      try {
        const t = await loadTrace(file);
        const errors = t.issues.filter((i) => i.severity === "error" && i.code !== "missing_footer");
        printIssues(file, errors, 10);
        const s = summarize(t);
        if (opts.format === "json") {
          const { metrics, ...rest } = s;
          const m = Object.fromEntries(
            Object.entries(metrics).map(([k, v]) => [
              k,
              { threshold: v.threshold, min: v.min, max: v.max, last: v.last },
            ]),
          );
          process.stdout.write(`${JSON.stringify({ ...rest, metrics: m }, null, 2)}\n`);
        } else process.stdout.write(formatSummary(s));
        process.exitCode = errors.length ? INVALID : OK;
      } catch (err) {
        fail(`${file}: ${(err as Error).message}`, USAGE);
      }
    });

  ctf
    .command("diff")
    .description("Compare two runs: divergence point along the lineage, per-metric deltas, steps only in A / only in B")
    .argument("<a>", "first .ctf file")
    .argument("<b>", "second .ctf file")
    .option("--format <format>", "text or json", "text")
    .addHelpText("after", "\nExit codes: 0 same, 1 different, 2 unreadable or invalid input.")
    .action(async (a: string, b: string, opts: { format: string }) => {
      try {
        // Large files load on two worker threads; the replay enforces the trace rules (no schema pass).
        const [sa, sb] = await loadDiffSides(a, b);
        let broken = false;
        for (const [f, side] of [
          [a, sa],
          [b, sb],
        ] as const) {
          const errs = side.issues.filter((i) => i.severity === "error");
          if (errs.length) {
            printIssues(f, errs, 10);
            broken = true;
          }
        }
        if (broken) return fail("cannot diff invalid traces", DIFF_TROUBLE);
        const d = diffSides(sa, sb);
        process.stdout.write(opts.format === "json" ? `${JSON.stringify(d, null, 2)}\n` : formatDiff(d, a, b));
        process.exitCode = d.same ? DIFF_SAME : DIFF_DIFFERENT;
      } catch (err) {
        fail((err as Error).message, DIFF_TROUBLE);
      }
    });

  ctf
    .command("export")
    .description(
      "Export to Chrome Trace Event Format (Perfetto, chrome://tracing) or OTLP/JSON; two files → two processes/resources",
    )
    .argument("<files...>", "one or more .ctf files")
    .requiredOption("--format <format>", "chrome or otlp")
    .option("-o, --output <file>", "write here instead of stdout")
    .action(async (files: string[], opts: { format: string; output?: string }) => {
      if (opts.format !== "chrome" && opts.format !== "otlp")
        return fail(`--format must be chrome or otlp, got ${opts.format}`, USAGE);
      try {
        const inputs = [];
        for (const file of files) {
          const { events, issues } = await loadEvents(file);
          const errs = issues.filter((i) => i.severity === "error" && i.code !== "missing_footer");
          if (errs.length) {
            printIssues(file, errs, 10);
            return fail(`${file}: invalid trace, not exported`, INVALID);
          }
          inputs.push({ name: file, events });
        }
        const doc = opts.format === "chrome" ? toChromeTrace(inputs) : toOtlp(inputs);
        const text = `${JSON.stringify(doc)}\n`;
        if (opts.output) writeFileSync(opts.output, text);
        else process.stdout.write(text);
      } catch (err) {
        fail((err as Error).message, isUnreadableFileError(err) ? USAGE : INVALID);
      }
    });

  ctf
    .command("cat")
    .description("Print a trace stored on an RTT server; --follow streams new events live (WebSocket /ctf/:id/live)")
    .argument("<id>", "trace id on the server")
    .option("--server <url>", "RTT server base URL", "http://127.0.0.1:8080")
    .option("-f, --follow", "keep printing events as they are appended")
    .option("--updates", "print the live {step, q, status} updates instead of raw events")
    .option(
      "--token-file <path>",
      "the server's token (or read token), for a server started with one; default $RTT_TOKEN",
    )
    .action(async (id: string, opts: { server: string; follow?: boolean; updates?: boolean; tokenFile?: string }) => {
      const base = opts.server.replace(/\/$/, "");
      try {
        const token = opts.tokenFile ? loadToken(opts.tokenFile) : process.env.RTT_TOKEN;
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        if (!opts.follow) {
          const res = await fetch(`${base}/ctf/${encodeURIComponent(id)}/raw`, { headers });
          if (!res.ok) return fail(`GET /ctf/${id}/raw: ${res.status} ${await res.text()}`, USAGE);
          process.stdout.write(await res.text());
          return;
        }
        process.exitCode = await follow(
          `${base.replace(/^http/, "ws")}/ctf/${encodeURIComponent(id)}/live?from=0`,
          !!opts.updates,
          headers,
        );
      } catch (err) {
        fail((err as Error).message, USAGE);
      }
    });
}

/** Streams live messages until the trace's footer (or a gap notice past it) arrives or the server closes. */
async function follow(url: string, updates: boolean, headers: Record<string, string>): Promise<number> {
  // Node 22 has a global WebSocket; on Node 20 use `ws` (installed with @fastify/websocket).
  type WsLike = { on(ev: string, fn: (...a: unknown[]) => void): void; close(): void };
  const { default: WebSocket } = (await import("ws")) as unknown as {
    default: new (u: string, o: { headers: Record<string, string> }) => WsLike;
  };
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on("message", (data: unknown) => {
      const msg = JSON.parse(String(data));
      if (msg.type === "gap") {
        process.stderr.write(
          `rtt ctf cat: ${msg.dropped} events dropped (slow reader); fetch /api/corridor for the full trace\n`,
        );
        // The footer itself was among the dropped: nothing more will come.
        if (msg.complete) ws.close();
        return;
      }
      if (updates) process.stdout.write(`${JSON.stringify({ step: msg.step, q: msg.q, status: msg.status })}\n`);
      else process.stdout.write(`${JSON.stringify(msg.event)}\n`);
      if (msg.event?.type === "footer") ws.close();
    });
    ws.on("error", (err: unknown) => {
      process.stderr.write(`rtt ctf cat: ${(err as Error).message}\n`);
      resolve(USAGE);
    });
    ws.on("close", () => resolve(OK));
  });
}

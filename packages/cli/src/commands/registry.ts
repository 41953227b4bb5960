import { dirname, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { CliExit, EXIT_INVALID, EXIT_OK } from "../lib/exit.js";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";

// The default is absolute, as fabricPaths().registry is: the paths printed from it stay the same.
const registryOption = () =>
  new Option("--registry <dir>", "registry directory").default(
    resolve(FABRIC_DEFAULTS.registry),
    FABRIC_DEFAULTS.registry,
  );

const out = (s: string | Uint8Array): void => {
  process.stdout.write(s);
};
const err = (s: string): void => {
  process.stderr.write(s);
};

/** A file-count bar on stderr, only on a TTY and only for scans long enough to wait on. */
function fileProgress(): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  let last = 0;
  return {
    update(done, total) {
      if (total < 2000) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: "ingest [{bar}] {percentage}% | {value}/{total} files | ETA {eta}s",
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      // Redrawing per file would cost more than ingesting it.
      if (done - last >= 500 || done === total) {
        last = done;
        bar.update(done);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export function register(program: Command): void {
  const registry = program
    .command("registry")
    .description("The content-addressed registry (seed 004): ingest, list, get, cat, verify, gc, index")
    .addHelpText(
      "after",
      `
Layout and byte formats: spec/fabric/pack.md. Objects are named by the SHA-256 of their RFC 8785 canonical JSON.

Examples:
  rtt registry ingest agents/ .rtt/manifests/ mcp/
  rtt registry ls --json
  rtt registry get summarize@^1.2
  rtt registry cat 3f2a…(64 hex) | sha256sum
  rtt registry verify && rtt registry gc

Exit codes: 0 ok, 1 usage or unreadable input, 2 refused input or a corrupt registry.`,
    );

  registry
    .command("ingest")
    .description(
      "Scan files and folders for agents (*.agent.json), manifests (manifests/*.json, or a top-level `manifest`) and MCP tool lists (tools.json, <server>.tools.json); store them and index ID@version and their rtt:// symbols",
    )
    .argument("<paths...>", "files or folders (folders are scanned recursively; symlinks must stay inside)")
    .addOption(registryOption())
    .option("--batch <n>", "commit every N new objects (default: once, at the end)")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nA bad file is named on stderr and skipped; the others are stored; the exit code is then 2.\nCrash guarantee: spec/fabric/pack.md.",
    )
    .action(async (paths: string[], opts: { registry: string; batch?: string; json?: boolean }) => {
      const { ingestRegistry, openRegistry, prettyJson } = await loadFabric();
      const batch = opts.batch === undefined ? undefined : Number(opts.batch);
      if (batch !== undefined && !(Number.isInteger(batch) && batch > 0))
        throw new CliExit(1, `--batch wants a positive integer, not ${JSON.stringify(opts.batch)}`);
      const progress = fileProgress();
      let report: ReturnType<typeof ingestRegistry>;
      try {
        report = ingestRegistry(openRegistry(opts.registry), paths, {
          onProgress: progress.update,
          ...(batch ? { batchObjects: batch } : {}),
        });
      } finally {
        progress.stop();
      }
      for (const p of report.problems) err(`rtt registry: ${p.message}\n`);
      if (opts.json) {
        const { problems, ...rest } = report;
        out(
          prettyJson({
            ...rest,
            problems: problems.map((p) => ({ code: p.code, where: p.where, message: p.message })),
          }),
        );
      } else {
        const o = report.objects;
        const e = report.entries;
        out(
          `ingested ${report.files} files: ${o.created} new objects, ${o.existing} already stored; index ${e.added} added, ${e.updated} updated, ${e.unchanged} unchanged; ${report.symbols} symbols${report.repairedTail ? `; cut ${report.repairedTail} uncommitted pack bytes` : ""}${report.problems.length ? `; ${report.problems.length} files refused` : ""}\n`,
        );
      }
      process.exitCode = report.problems.length ? EXIT_INVALID : EXIT_OK;
    });

  registry
    .command("ls")
    .description("List index.json: ID, version and hash, by ID then semver")
    .addOption(registryOption())
    .option("--json", "a JSON array of {id, version, hash}")
    .action(async (opts: { registry: string; json?: boolean }) => {
      const { listIndex, openRegistry, prettyJson } = await loadFabric();
      const rows = listIndex(openRegistry(opts.registry).index());
      if (opts.json) return out(prettyJson(rows));
      const w = Math.max(2, ...rows.map((r) => r.id.length));
      const v = Math.max(7, ...rows.map((r) => r.version.length));
      for (const r of rows) out(`${r.id.padEnd(w)}  ${r.version.padEnd(v)}  ${r.hash}\n`);
    });

  registry
    .command("get")
    .description("Print the object ID@RANGE resolves to (npm semver: summarize@^1.2 is the highest 1.x ≥ 1.2)")
    .argument("<ref>", "ID, ID@VERSION or ID@RANGE")
    .addOption(registryOption())
    .option("--hash", "print only the hash it resolves to")
    .action(async (ref: string, opts: { registry: string; hash?: boolean }) => {
      const { openRegistry, prettyJson, resolveRef } = await loadFabric();
      const reg = openRegistry(opts.registry);
      const r = resolveRef(reg.index(), ref);
      if (opts.hash) return out(`${r.hash}\n`);
      err(`${r.id}@${r.version} ${r.hash}\n`);
      out(prettyJson(reg.get(r.hash)));
    });

  registry
    .command("cat")
    .description("Write an object's stored bytes (its canonical JSON) exactly, verified against the hash")
    .argument("<hash>", "64 lowercase hex")
    .addOption(registryOption())
    .action(async (hash: string, opts: { registry: string }) => {
      const { openRegistry } = await loadFabric();
      const bytes = openRegistry(opts.registry).getBytes(hash);
      if (!bytes) throw new CliExit(2, `${hash}: not in the registry`);
      out(bytes);
    });

  registry
    .command("verify")
    .description(
      "Recompute every object's SHA-256, check each pack record's CRC32C, index.lut against the pack, index.json and symbols.json targets, and every signature",
    )
    .addOption(registryOption())
    .option("--strict", "signatures by unknown or revoked keys are failures (also when .rtt/policy.json says strict)")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      "\nExit codes: 0 intact (notes are states a crash leaves, repaired by the next write), 2 corrupt.",
    )
    .action(async (opts: { registry: string; strict?: boolean; json?: boolean }) => {
      const { isStrict, openRegistry, prettyJson, verifyRegistry } = await loadFabric();
      const reg = openRegistry(opts.registry);
      const strict = isStrict({ flag: opts.strict, policyPath: join(dirname(reg.dir), "policy.json") });
      const r = verifyRegistry(reg, { strict });
      if (opts.json) out(prettyJson(r));
      else {
        for (const p of r.problems) err(`rtt registry: ${p.where}: ${p.message}\n`);
        for (const n of r.notes) err(`note: ${n}\n`);
        const c = r.counts;
        out(
          `${r.ok ? "ok" : "CORRUPT"}: ${c.packed} packed and ${c.loose} loose objects, ${c.indexed} index entries, ${c.symbols} symbols, ${c.signed} signed objects${r.ok ? "" : `; ${r.problems.length} problems, first: ${r.problems[0]?.message}`}\n`,
        );
      }
      process.exitCode = r.ok ? EXIT_OK : EXIT_INVALID;
    });

  registry
    .command("gc")
    .description(
      "Remove objects not reachable from index.json, symbols.json or the manifests folder; rewrite the pack atomically",
    )
    .addOption(registryOption())
    .option("--manifests <dir>", "manifests whose object hashes are roots (default: manifests beside the registry)")
    .option("--grace <seconds>", "keep unreachable loose objects younger than this", "3600")
    .option("--json", "print the report as JSON")
    .action(async (opts: { registry: string; manifests?: string; grace: string; json?: boolean }) => {
      const { gcRegistry, openRegistry, prettyJson } = await loadFabric();
      const grace = Number(opts.grace);
      if (!(grace >= 0)) throw new CliExit(1, `--grace wants seconds, not ${JSON.stringify(opts.grace)}`);
      const r = gcRegistry(openRegistry(opts.registry), {
        graceMs: grace * 1000,
        ...(opts.manifests ? { manifests: opts.manifests } : {}),
      });
      if (opts.json) return out(prettyJson(r));
      out(
        `gc: ${r.reachable} reachable from ${r.roots} roots; pack ${r.packed.kept} kept, ${r.packed.removed} removed (${r.packed.bytesBefore} → ${r.packed.bytesAfter} bytes); loose ${r.loose.kept} kept, ${r.loose.removed} removed, ${r.loose.young} spared as recent\n`,
      );
    });

  registry
    .command("index")
    .description("Maintain pack/index.lut")
    .addOption(registryOption())
    .option("--rebuild", "make index.lut again from agents.pack alone")
    .action(async (opts: { registry: string; rebuild?: boolean }) => {
      const { openRegistry, rebuildRegistryIndex } = await loadFabric();
      if (!opts.rebuild) throw new CliExit(1, "nothing to do: pass --rebuild");
      const r = rebuildRegistryIndex(openRegistry(opts.registry));
      if (!r) return out("no pack: nothing to index\n");
      if (r.stoppedAt)
        err(
          `rtt registry: stopped at offset ${r.stoppedAt.offset} (${r.stoppedAt.reason}); ${r.dropped} bytes after it are not indexed and will be cut off by the next write\n`,
        );
      out(`index.lut: ${r.entries.count} objects, ${r.packLen} pack bytes\n`);
    });
}

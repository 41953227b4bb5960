import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Checkpoint, InclusionProof } from "@rtt/fabric";
import { type Command, Option } from "commander";
import { CliExit, EXIT_INVALID } from "../lib/exit.js";
import { FABRIC_DEFAULTS, type Fabric, loadFabric } from "../lib/fabric.js";

const walOption = () => new Option("--wal <file>", "the plan WAL").default(FABRIC_DEFAULTS.wal);
const registryOption = () =>
  new Option("--registry <dir>", "registry whose trust store checks checkpoint signatures").default(
    FABRIC_DEFAULTS.registry,
  );

/**
 * Checks checkpoint signatures against one registry's trust store (read once): the problem in words, or undefined
 * when the checkpoint is unsigned or validly signed.
 */
function signatureChecker(f: Fabric, registry: string): (c: Checkpoint) => string | undefined {
  const store = f.loadTrustStore(registry);
  return (c) => {
    if (c.sign === undefined) return undefined;
    const r = f.verifyDocument(c, store);
    return r.status === "valid" ? undefined : `checkpoint signature ${r.status}: ${r.reason}`;
  };
}

export function register(program: Command): void {
  const wal = program
    .command("wal")
    .description(
      "The fabric's plan WAL: verify its history, print and check Merkle inclusion proofs (spec/fabric/wal.md)",
    )
    .addHelpText(
      "after",
      `
Examples:
  rtt wal verify                          # CRC chain, hash chain, 2PC records, every checkpoint root and signature
  rtt wal checkpoint --key .rtt/keys/default.key
  rtt wal proof sha256:<plan> > proof.json
  rtt wal proof --check proof.json        # offline: needs nothing but the file (and the trust store for its signature)`,
    );

  wal
    .command("verify")
    .description("Check the whole log without changing it; exit 0 when history is intact, 2 when it is not")
    .addOption(walOption())
    .addOption(registryOption())
    .option("--json", "print the report as JSON")
    .action(async (opts: { wal: string; registry: string; json?: boolean }) => {
      const f = await loadFabric();
      const { PlanLog, prettyJson } = f;
      const log = PlanLog.open(opts.wal, { readOnly: true });
      try {
        const problems = log.verifyCheckpoints(signatureChecker(f, opts.registry));
        const s = log.state;
        const report = {
          wal: opts.wal,
          ok: problems.length === 0,
          records: log.wal.size,
          commits: s.commits.length,
          checkpoints: log.checkpoints().length,
          current: s.current,
          pending: s.pending?.plan_id ?? null,
          torn_tail_bytes: log.wal.repairedBytes,
          problems,
        };
        if (opts.json) process.stdout.write(prettyJson(report));
        else {
          for (const p of problems) process.stderr.write(`${opts.wal}: ${p}\n`);
          if (report.torn_tail_bytes > 0)
            process.stderr.write(
              `${opts.wal}: warning: ${report.torn_tail_bytes} bytes of a torn last record (a crash mid-append); the next writer cuts them off\n`,
            );
          process.stdout.write(
            `${opts.wal}: ${report.ok ? "ok" : "FAILED"} — ${report.records} records, ${report.commits} commits, ${report.checkpoints} checkpoints; plan in force: ${report.current ?? "none"}${report.pending ? `; undecided: ${report.pending}` : ""}\n`,
          );
        }
        if (!report.ok) process.exitCode = EXIT_INVALID;
      } finally {
        log.close();
      }
    });

  wal
    .command("checkpoint")
    .description("Append a checkpoint of the Merkle root over all commits, signed when --key is given")
    .addOption(walOption())
    .option("--key <file>", "Ed25519 private key (PKCS#8 PEM) to sign the checkpoint with")
    .action(async (opts: { wal: string; key?: string }) => {
      const { acquireApplyLock, PlanLog, prettyJson, readPrivateKeyFile, signDocument } = await loadFabric();
      // The WAL has one writer at a time: take the apply lock of the fabric root the WAL lives in (<root>/wal/…),
      // or an apply running now would interleave its records with ours — and opening for writing would cut off the
      // record it is appending as if it were a torn tail.
      const lock = acquireApplyLock(join(dirname(dirname(resolve(opts.wal))), "fabric.lock"));
      try {
        const log = PlanLog.open(opts.wal);
        try {
          const key = opts.key ? readPrivateKeyFile(opts.key) : undefined;
          const c = log.checkpoint(key ? (cp) => signDocument(cp, key) : undefined);
          process.stdout.write(prettyJson(c));
        } finally {
          log.close();
        }
      } finally {
        lock.release();
      }
    });

  wal
    .command("proof")
    .description("Print the inclusion proof of a plan's commit, or check one offline with --check")
    .argument("[plan_id]", "the plan (sha256:…)")
    .addOption(walOption())
    .addOption(registryOption())
    .option("--check <file>", "verify a saved proof instead (exit 0 valid, 2 not)")
    .action(async (planId: string | undefined, opts: { wal: string; registry: string; check?: string }) => {
      const f = await loadFabric();
      const { PlanLog, parseJsonText, prettyJson, verifyProof } = f;
      if (opts.check) {
        const p = parseJsonText(readFileSync(opts.check, "utf8"), opts.check) as InclusionProof;
        const sig = p.checkpoint ? signatureChecker(f, opts.registry)(p.checkpoint) : undefined;
        if (!verifyProof(p)) throw new CliExit(EXIT_INVALID, `${opts.check}: the proof does not lead to its root`);
        if (sig) throw new CliExit(EXIT_INVALID, `${opts.check}: ${sig}`);
        const signed = p.checkpoint?.sign
          ? "a signed checkpoint"
          : p.checkpoint
            ? "an unsigned checkpoint"
            : "the tree";
        process.stdout.write(
          `${opts.check}: valid — ${p.plan_id} is leaf ${p.leaf_index} of ${p.tree_size} under root ${p.root} (${signed})\n`,
        );
        return;
      }
      if (!planId) throw new CliExit(1, "wal proof: name a plan_id, or --check FILE");
      const log = PlanLog.open(opts.wal, { readOnly: true });
      try {
        process.stdout.write(prettyJson(log.proof(planId)));
      } finally {
        log.close();
      }
    });
}

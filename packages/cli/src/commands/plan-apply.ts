import type { ReconcilePaths, RecoveryReport } from "@rtt/fabric";
import type { Command } from "commander";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";

/**
 * `rtt plan apply | status | rollback | recover`: the 2PC reconciler (fabric/reconcile, spec/fabric/reconcile.md),
 * added to the planner's `rtt plan` group by registerApply. FabricErrors propagate: rtt prints them and exits with
 * their code (1 busy/usage, 2 stale, refused, rolled back, corrupt).
 */

const none = (id: string | null | undefined) => id ?? "none";

interface RootOpts {
  root: string;
  json?: boolean;
}

async function paths(opts: RootOpts) {
  const f = await loadFabric();
  return f.reconcilePaths(opts.root);
}

/** The local participant, plus the fabric daemon when one answers on `<root>/fabric.sock` (spec/fabric/reconcile.md). */
async function participants(p: ReconcilePaths) {
  const f = await loadFabric();
  return f.fabricParticipants(p);
}

function recoveryLines(r: RecoveryReport): string[] {
  const out: string[] = [];
  if (r.lock_taken_over_from !== null)
    out.push(`recovered: took over the lock of process ${r.lock_taken_over_from} (gone)`);
  if (r.truncated_bytes > 0) out.push(`recovered: cut ${r.truncated_bytes} bytes of a torn last WAL record`);
  if (r.aborted) out.push(`recovered: aborted ${r.aborted} (prepared, no commit record)`);
  if (r.redriven.length > 0) out.push(`recovered: re-drove ${r.redriven.join(", ")} to the plan in force`);
  return out;
}

export function registerApply(plan: Command): void {
  plan
    .command("apply")
    .description(
      "Apply a plan with two-phase commit: PREPARE (signature, stale base, lock, votes), COMMIT (WAL), VERIFY (else roll back)",
    )
    .argument("<plan>", "the plan file (rtt plan build)")
    .option("--root <dir>", "the fabric's root folder", FABRIC_DEFAULTS.root)
    .option("--strict", "refuse unsigned plans and unknown signers (also on when policy.json says strict)")
    .option("--dry-run", "run PREPARE only (checks and participant votes); write nothing")
    .option("--check-inputs", "also refuse the plan when .rtt's inputs no longer hash to the plan's inputs.hash")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Exit codes: 0 applied; 1 unreadable file, usage, or another apply holds .rtt/fabric.lock (RTT_FABRIC_BUSY);
2 invalid, tampered or untrusted plan, stale base or inputs (RTT_FABRIC_STALE), a participant voted no
(RTT_FABRIC_NACK, nothing changed), verify failed (RTT_FABRIC_VERIFY_FAILED, rolled back), corrupt WAL.`,
    )
    .action(async (file: string, opts: RootOpts & { strict?: boolean; dryRun?: boolean; checkInputs?: boolean }) => {
      const f = await loadFabric();
      const p = await paths(opts);
      let inputsHash: string | undefined;
      if (opts.checkInputs) {
        // Only the hash matters here: manifest trust is the builder's check (strict mode applies to the plan's own
        // signature below), so the inputs are read without strict mode.
        inputsHash = f.loadInputs(f.fabricPaths(opts.root), {
          strict: false,
          store: () => f.loadTrustStore(p.registry),
        }).hash;
      }
      const r = await f.applyPlanFile(file, {
        paths: p,
        participants: await participants(p),
        strict: opts.strict === true,
        dryRun: opts.dryRun === true,
        ...(inputsHash !== undefined ? { inputsHash } : {}),
      });
      if (opts.json) {
        process.stdout.write(f.prettyJson(r));
        return;
      }
      for (const line of recoveryLines(r.recovery)) process.stderr.write(`${line}\n`);
      if (r.signature.status !== "valid") process.stderr.write(`warning: ${file}: ${r.signature.reason}\n`);
      const ms = (x: number) => `${x.toFixed(1)} ms`;
      process.stdout.write(
        r.outcome === "dry-run"
          ? `${r.plan_id}: dry run ok — preconditions hold and every participant voted yes; nothing written\n`
          : `${r.plan_id}: committed — ${r.routes} routes (+${r.added} -${r.removed}) over ${none(r.base)}; prepare ${ms(r.ms.prepare)}, commit ${ms(r.ms.commit)}, verify ${ms(r.ms.verify)}\n`,
      );
    });

  plan
    .command("status")
    .description("The plan in force, an undecided plan, the lock, participants, the last WAL transitions (read-only)")
    .option("--root <dir>", "the fabric's root folder", FABRIC_DEFAULTS.root)
    .option("--recent <n>", "how many WAL records to show", "10")
    .option("--json", "print the status as JSON")
    .action(async (opts: RootOpts & { recent: string }) => {
      const f = await loadFabric();
      const recent = Number(opts.recent);
      if (!Number.isInteger(recent) || recent < 0)
        throw new f.FabricError("RTT_FABRIC_USAGE", `--recent wants a whole number, not ${opts.recent}`);
      const p = await paths(opts);
      const s = await f.planStatus({ paths: p, participants: await participants(p), recent });
      if (opts.json) {
        process.stdout.write(f.prettyJson(s));
        return;
      }
      const lines = [
        `plan in force: ${none(s.current)}${s.current ? ` (${s.routes ?? "?"} routes)` : ""}; ${s.commits} commits in ${s.records} WAL records`,
      ];
      if (s.pending) {
        const how = s.lock?.alive
          ? `an apply is running (pid ${s.lock.pid})`
          : "left by a killed apply: the next apply, rollback or `rtt plan recover` aborts it";
        lines.push(`undecided: ${s.pending.plan_id} (prepare record ${s.pending.seq}) — ${how}`);
      }
      lines.push(
        `lock: ${s.lock ? `held by pid ${s.lock.pid ?? "?"}${s.lock.alive ? "" : " (gone: the next apply takes it over)"}` : "free"}`,
      );
      for (const p of s.participants)
        lines.push(
          `participant ${p.name}: ${p.in_sync ? "in sync" : `OUT OF SYNC — serves ${p.problem ?? `${none(p.plan_id)} (${p.routes} routes)`}`}`,
        );
      if (s.torn_tail_bytes > 0) lines.push(`wal: ${s.torn_tail_bytes} bytes of a torn last record`);
      for (const p of s.problems) lines.push(`problem: ${p}`);
      if (s.recent.length > 0) lines.push("recent:");
      for (const e of s.recent) {
        const what =
          e.type === "prepare"
            ? `${e.plan_id} over ${none(e.base)}`
            : e.type === "rollback"
              ? `${e.plan_id} -> ${none(e.to)} (${e.reason})`
              : e.type === "abort"
                ? `${e.plan_id} (${e.reason})`
                : e.type === "checkpoint"
                  ? `${e.tree_size} commits`
                  : `${e.plan_id}`;
        lines.push(`  ${String(e.seq).padStart(5)} ${e.type.padEnd(10)} ${what}`);
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  plan
    .command("rollback")
    .description("Make an earlier plan the one in force again (a 2PC transition: votes, rollback record, switch)")
    .option(
      "--to <plan_id>",
      "the plan to restore (one once committed), or `none`; default: the base of the plan in force",
    )
    .option("--reason <text>", "why (recorded in the WAL)")
    .option("--root <dir>", "the fabric's root folder", FABRIC_DEFAULTS.root)
    .option("--json", "print the result as JSON")
    .action(async (opts: RootOpts & { to?: string; reason?: string }) => {
      const f = await loadFabric();
      const p = await paths(opts);
      const r = await f.Reconciler.open({ paths: p, participants: await participants(p) });
      try {
        const res = await r.rollback({
          ...(opts.to !== undefined ? { to: opts.to === "none" ? null : opts.to } : {}),
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        });
        if (opts.json) process.stdout.write(f.prettyJson({ ...res, recovery: r.recovery }));
        else {
          for (const line of recoveryLines(r.recovery)) process.stderr.write(`${line}\n`);
          process.stdout.write(
            `rolled back ${res.from} -> ${none(res.to)} (${res.routes} routes; WAL record ${res.record})\n`,
          );
        }
      } finally {
        r.close();
      }
    });

  plan
    .command("recover")
    .description("Run crash recovery now: abort an undecided plan, re-drive participants to the plan in force")
    .option("--root <dir>", "the fabric's root folder", FABRIC_DEFAULTS.root)
    .option("--json", "print what recovery did as JSON")
    .action(async (opts: RootOpts) => {
      const f = await loadFabric();
      const p = await paths(opts);
      const r = await f.Reconciler.open({ paths: p, participants: await participants(p) });
      try {
        if (opts.json) process.stdout.write(f.prettyJson({ current: r.state.current, recovery: r.recovery }));
        else {
          const lines = recoveryLines(r.recovery);
          process.stdout.write(
            `${lines.length > 0 ? lines.join("\n") : "nothing to recover"}\nplan in force: ${none(r.state.current)}\n`,
          );
        }
      } finally {
        r.close();
      }
    });
}

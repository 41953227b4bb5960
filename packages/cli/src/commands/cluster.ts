import type { ClusterNode, ClusterNodeOptions } from "@rtt/fabric";
import type { Command } from "commander";
import { CliExit } from "../lib/exit.js";

/**
 * `rtt cluster node | apply | sync | status`: the fabric across machines on NATS JetStream (fabric/cluster,
 * spec/fabric/cluster.md). Every command connects with a bounded timeout; when NATS cannot be reached it says so on
 * stderr (counted in .rtt/cluster/state.json) and works on this node alone where that makes sense.
 */

interface Common {
  root: string;
  name?: string;
  servers?: string;
  namespace?: string;
  connectTimeout: string;
  replicas: string;
  strict?: boolean;
  json?: boolean;
}

const common = (c: Command): Command =>
  c
    .option("--root <dir>", "the fabric's root folder", ".rtt")
    .option("--name <node>", "this node's name in the cluster (default: the host name)")
    .option("--servers <urls>", "NATS URLs, comma-separated (default: RTT_NATS_URL or nats://127.0.0.1:4222)")
    .option("--namespace <ns>", "keeps clusters apart on one NATS (bucket rtt-<ns>-cas, …)")
    .option("--connect-timeout <ms>", "give up on NATS after this long and run alone", "2000")
    .option("--replicas <n>", "replicas of the buckets and stream when they are created", "1")
    .option("--json", "print JSON");

async function start(opts: Common, extra: Partial<ClusterNodeOptions> = {}): Promise<ClusterNode> {
  const f = await import("@rtt/fabric");
  const ms = Number(opts.connectTimeout);
  if (!Number.isInteger(ms) || ms < 1 || ms > 600_000) throw new CliExit(1, "--connect-timeout: 1…600000 ms");
  try {
    return await f.ClusterNode.start({
      root: opts.root,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.servers ? { servers: opts.servers } : {}),
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      connectTimeoutMs: ms,
      replicas: Number(opts.replicas),
      ...(opts.strict ? { strict: true } : {}),
      participate: false,
      ...extra,
    });
  } catch (e) {
    if (f.isFabricError(e)) throw new CliExit(e.exitCode, e.message);
    throw e;
  }
}

async function run(node: ClusterNode, action: () => Promise<void>): Promise<void> {
  const f = await import("@rtt/fabric");
  try {
    await action();
  } catch (e) {
    if (f.isFabricError(e)) throw new CliExit(e.exitCode, e.message);
    throw e;
  } finally {
    await node.close();
  }
}

const out = (s: string): void => {
  process.stdout.write(s);
};
const json = (v: unknown): void => out(`${JSON.stringify(v, null, 2)}\n`);

export function register(program: Command): void {
  const cluster = program
    .command("cluster")
    .description("Run the fabric on several nodes over NATS JetStream (spec/fabric/cluster.md)");

  common(cluster.command("status"))
    .description("Nodes seen (heartbeats), their plan in force, the cluster's plan head and each node's lag")
    .action(async (opts: Common) => {
      const node = await start(opts);
      await run(node, async () => {
        const s = await node.status();
        if (opts.json) return json(s);
        if (s.mode === "single") {
          out(`mode: single node (${s.warning ?? "NATS unreachable"})\n`);
          out(
            `local plan in force: ${s.local.plan_id ?? "none"}\nsingle-node warnings so far: ${s.single_node_warnings}\n`,
          );
          return;
        }
        out(`servers: ${s.servers.join(", ")}\n`);
        out(
          `head: ${s.head?.plan_id ?? "none"} (revision ${s.head?.revision ?? 0}${s.head?.aborted ? `, after ${s.head.aborted} aborted` : ""})\n`,
        );
        out(`local plan in force: ${s.local.plan_id ?? "none"}\n`);
        if (s.single_node_warnings > 0) out(`single-node warnings so far: ${s.single_node_warnings}\n`);
        out(`nodes: ${s.nodes.length}\n`);
        for (const n of s.nodes)
          out(
            `  ${n.node.padEnd(16)} ${n.alive ? "alive" : "gone "} ${n.in_sync ? "in sync" : "behind "} plan ${n.plan_id ?? "none"}  lag ${n.lag_revisions} rev, seen ${(n.age_ms / 1000).toFixed(1)} s ago\n`,
          );
      });
    });

  common(cluster.command("sync"))
    .description("Replicate the registry: push what the Object Store lacks, pull (verified) what this node lacks")
    .option("--push-only", "only push")
    .option("--pull-only", "only pull")
    .action(async (opts: Common & { pushOnly?: boolean; pullOnly?: boolean }) => {
      const node = await start(opts);
      if (node.mode === "single") {
        await node.close();
        throw new CliExit(1, `${node.warning ?? "NATS unreachable"}: nothing synced`);
      }
      await run(node, async () => {
        const r = await node.sync({ push: !opts.pullOnly, pull: !opts.pushOnly });
        if (opts.json) json(r);
        else {
          out(
            `registry sync: ${r.local} local, ${r.remote} in the bucket; pushed ${r.pushed} (${r.bytes.pushed} B), pulled ${r.pulled} (${r.bytes.pulled} B) in ${r.ms.toFixed(0)} ms\n`,
          );
          for (const x of r.rejected) process.stderr.write(`rejected ${x.name}: ${x.reason}\n`);
        }
        if (r.rejected.length > 0)
          throw new CliExit(2, `${r.rejected.length} object(s) in the bucket refused (not stored)`);
      });
    });

  common(cluster.command("apply"))
    .description("Coordinate a signed plan across the cluster: head (kv.update with revision), votes, decision")
    .argument("<plan>", "the plan file (rtt plan build)")
    .option("--revision <n>", "the head revision the plan was built against (a stale one is refused)")
    .option("--strict", "refuse unsigned plans and unknown signers")
    .option("--vote-timeout <ms>", "abort when a member has not voted by then", "5000")
    .action(async (file: string, opts: Common & { revision?: string; voteTimeout: string }) => {
      const f = await import("@rtt/fabric");
      const node = await start(opts, { voteTimeoutMs: Number(opts.voteTimeout) });
      await run(node, async () => {
        const r = await node.apply(f.readJsonFile(file), {
          ...(opts.revision !== undefined ? { revision: Number(opts.revision) } : {}),
        });
        if (opts.json) return json(r);
        if (r.mode === "single") out(`${r.plan_id}: committed on this node only (single-node mode)\n`);
        else
          out(
            `${r.plan_id}: committed at head revision ${r.revision} — ${r.committed.length}/${r.members.length} nodes done (${r.committed.join(", ")})${r.waiting.length ? `, waiting for ${r.waiting.join(", ")}` : ""}; votes ${r.ms.vote.toFixed(0)} ms, all ${r.ms.total.toFixed(0)} ms\n`,
          );
      });
    });

  common(cluster.command("node"))
    .description("Run this root as a cluster node: follow the plan head, vote, commit, heartbeat (until SIGTERM)")
    .option("--strict", "refuse unsigned plans and unknown signers")
    .action(async (opts: Common) => {
      const node = await start(opts, { participate: true });
      if (node.mode === "single") {
        await node.close();
        throw new CliExit(1, `${node.warning ?? "NATS unreachable"}: not running as a cluster node`);
      }
      await node.settle();
      process.stderr.write(`cluster node ${node.name}: serving ${node.planInForce ?? "no plan"}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
      await node.close();
    });
}

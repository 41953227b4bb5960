// The process the kill tests SIGKILL (kill.test.ts). It runs the reconciler from the built package (dist) so that
// starting it costs tens of milliseconds, not a TypeScript transform.
//
//   node kill-child.mjs loop ROOT CHAIN_FILE SEED
//     prints "ready", then forever: open (recovery) → apply the next plan of the chain, or roll back (seeded
//     choice; some applies get a failing SLO verifier, so VERIFY rolls them back) → print "ack <records> <current>"
//     once the transition is durable.
import { readFileSync } from "node:fs";
import { seededRandom } from "@rtt/core";
import { reconcilePaths } from "../../dist/reconcile/paths.js";
import { Reconciler } from "../../dist/reconcile/reconciler.js";

const [mode, root, chainFile, seedText] = process.argv.slice(2);
if (mode !== "loop") throw new Error(`unknown mode ${mode}`);
const chain = JSON.parse(readFileSync(chainFile, "utf8"));
const index = new Map(chain.map((p, i) => [p.plan_id, i]));
const paths = reconcilePaths(root);
const rand = seededRandom(Number(seedText));
const failing = { name: "slo", check: () => "injected: p99 over budget" };

process.stdout.write("ready\n");
for (;;) {
  const failVerify = rand() < 0.15;
  const r = await Reconciler.open({ paths, verifiers: failVerify ? [failing] : [] });
  try {
    const cur = r.state.current;
    const at = cur === null ? -1 : index.get(cur);
    if (cur !== null && rand() < 0.2) await r.rollback();
    else if (at + 1 < chain.length) {
      try {
        await r.apply(chain[at + 1]);
      } catch (e) {
        if (e.code !== "RTT_FABRIC_VERIFY_FAILED") throw e;
      }
    } else await r.rollback({ to: null });
    process.stdout.write(`ack ${r.records} ${r.state.current}\n`);
  } finally {
    r.close();
  }
}

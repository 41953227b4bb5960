#!/usr/bin/env node
// Apply latency bench (issue 15): `rtt plan apply` of a signed plan under strict mode, in-process, for a one-route
// change on a 10-route table and on a 1,000-route table (the table after the plan has 1,000 routes), beside the
// limit: one fdatasync'd write of the same plan bytes to a fresh file. Rows are interleaved in one process so machine
// load hits them alike.
//
// Each apply = read the plan file, verifyPlan (schema, plan_id, Ed25519 signature, strict), take .rtt/fabric.lock,
// open + replay the WAL and recover, stale/diff checks, store the plan (fsync file + folder), prepare record
// (fdatasync), the local participant stages the table (fsync file + folder), commit record (fdatasync), rename the
// table into place (fsync folder), verify post-conditions, unlock.
//
//   npm run build   then   node bench/apply/run.mjs [--n 200] [--json]
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyPlanFile,
  computePlanId,
  generateKeyPair,
  prettyJson,
  Reconciler,
  reconcilePaths,
  signDocument,
  trustKey,
  writeKeyPair,
} from "@rtt/fabric";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = opt("n", 200);
const JSON_OUT = args.includes("--json");
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const out = join(root, "bench/out/apply");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const route = (i, lane = "uds") => ({ route_id: i, from: `rtt://svc/s${i}`, to: `rtt://svc/t${i}`, lane });
const key = (r) => `${r.from}\u0000${r.to}`;

/** A plan whose table is `table`, computed against `base`, signed. */
function makePlan(base, table, privateKey) {
  const old = new Map((base?.routes ?? []).map((r) => [key(r), r]));
  const now = new Set(table.map(key));
  const placement = {};
  for (const r of table) placement[r.from] = placement[r.to] = "node-a";
  const body = {
    inputs: { hash: `sha256:${"0".repeat(63)}${table.length % 10}`, base: base?.plan_id ?? null },
    routes_add: table.filter((r) => old.get(key(r))?.lane !== r.lane),
    routes_remove: (base?.routes ?? []).filter((r) => !now.has(key(r))),
    routes: table,
    placement,
  };
  return signDocument({ plan_id: computePlanId(body), ...body }, privateKey);
}

/** A fabric root with a trusted key, its first plan applied, and N plans each changing one route's lane. */
async function setup(name, size) {
  const dir = join(out, name);
  const paths = reconcilePaths(join(dir, ".rtt"));
  const keys = generateKeyPair();
  const w = writeKeyPair(keys, join(dir, ".rtt", "keys"), "bench");
  trustKey(paths.registry, w.publicKeyFile);
  let table = Array.from({ length: size }, (_, i) => route(i + 1));
  let prev = makePlan(null, table, keys.privateKey);
  const r = await Reconciler.open({ paths });
  await r.apply(prev);
  r.close();
  const files = [];
  for (let i = 0; i < N; i++) {
    const at = (i * 7919) % size;
    table = table.map((x, j) => (j === at ? { ...x, lane: x.lane === "uds" ? "shm" : "uds" } : x));
    prev = makePlan(prev, table, keys.privateKey);
    const text = prettyJson(prev);
    const file = join(dir, `plan-${i}.json`);
    const fd = openSync(file, "w");
    writeSync(fd, text);
    closeSync(fd);
    files.push({ file, bytes: Buffer.from(text) });
  }
  return { paths, files, size };
}

/** The limit: one write of the same bytes to a fresh file + fdatasync. */
function syncedWrite(dir, i, bytes) {
  const f = join(dir, `raw-${i}.bin`);
  const fd = openSync(f, "w");
  writeSync(fd, bytes);
  fdatasyncSync(fd);
  closeSync(fd);
}

const cases = [await setup("one-route-10", 10), await setup("one-route-1000", 1000)];
const rows = cases.flatMap((c) => [
  { name: `fdatasync'd write of the plan bytes (${c.size}-route plan)`, c, kind: "limit", ms: [] },
  { name: `**apply**, one-route change, ${c.size}-route table`, c, kind: "apply", ms: [], phases: [] },
]);
for (let i = 0; i < N; i++) {
  const order = i % 2 === 0 ? rows : [...rows].reverse();
  for (const row of order) {
    const { file, bytes } = row.c.files[i];
    const t = performance.now();
    if (row.kind === "limit") syncedWrite(out, i, bytes);
    else {
      const res = await applyPlanFile(file, { paths: row.c.paths, strict: true });
      if (res.outcome !== "committed" || res.signature.status !== "valid") throw new Error(`not committed: ${file}`);
      row.phases.push(res.ms);
    }
    row.ms.push(performance.now() - t);
  }
}

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const report = rows.map((r) => ({
  what: r.name.replaceAll("**", ""),
  routes: r.c.size,
  plan_bytes: r.c.files[0].bytes.length,
  p50_ms: q(r.ms, 0.5),
  p99_ms: q(r.ms, 0.99),
  ...(r.phases
    ? {
        prepare_p50_ms: q(
          r.phases.map((p) => p.prepare),
          0.5,
        ),
        commit_p50_ms: q(
          r.phases.map((p) => p.commit),
          0.5,
        ),
        verify_p50_ms: q(
          r.phases.map((p) => p.verify),
          0.5,
        ),
        // Before PREPARE proper: read the file, verifyPlan (schema, plan_id, signature), lock, WAL replay, recovery.
        check_open_p50_ms: q(
          r.ms.map((m, i) => m - r.phases[i].prepare - r.phases[i].commit - r.phases[i].verify),
          0.5,
        ),
      }
    : {}),
}));
if (JSON_OUT) {
  process.stdout.write(`${JSON.stringify({ n: N, rows: report }, null, 2)}\n`);
} else {
  const f = (x) => x.toFixed(2);
  console.log(`\n${N} applies per row, interleaved (order alternating); plan bytes as written (pretty JSON, signed)\n`);
  console.log(
    "| what | plan bytes | p50 ms | p99 ms | p50 read+verifyPlan+lock+recovery / prepare / commit / verify ms |",
  );
  console.log("|---|---:|---:|---:|---|");
  for (const [i, r] of report.entries())
    console.log(
      `| ${rows[i].name} | ${r.plan_bytes.toLocaleString("en-US")} | ${f(r.p50_ms)} | ${f(r.p99_ms)} | ${r.prepare_p50_ms === undefined ? "" : `${f(r.check_open_p50_ms)} / ${f(r.prepare_p50_ms)} / ${f(r.commit_p50_ms)} / ${f(r.verify_p50_ms)}`} |`,
    );
}
rmSync(out, { recursive: true, force: true });

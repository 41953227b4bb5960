import type { KeyObject } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fsyncDir } from "../atomic.js";
import { FabricError } from "../errors.js";
import { prettyJson } from "../json-file.js";
import { Registry } from "../registry/registry.js";
import { signDocument } from "../trust/sign.js";
import type { TrustStore } from "../trust/store.js";
import { assertInside, VIEW_MANIFEST } from "./layout.js";
import { readViewManifest } from "./manifest.js";
import { type PlanOptions, planView, type ViewInput } from "./plan.js";
import { viewTrust } from "./strict.js";

export interface BuildViewOptions extends Omit<PlanOptions, "agent" | "steps"> {
  /** Store base agents and overlays in this CAS registry (a directory or an open Registry). */
  registry?: string | Registry;
  /** Refuse unsigned or untrusted inputs; also on when `<root>/.rtt/policy.json` says `"strict": true`. */
  strict?: boolean;
  /** Trusted and revoked keys; default: the `trust/` of `registry`, else of `<root>/.rtt/registry`. */
  trustStore?: TrustStore;
  /** Sign the view's sidecar with this Ed25519 private key. */
  signKey?: KeyObject;
  /** fsync files and folders (default true); benches of throwaway trees turn it off. */
  durable?: boolean;
}

export interface BuildViewResult {
  provider: string;
  env: string;
  viewDir: string;
  viewHash: string;
  agents: number;
  /** Paths (relative to viewDir) whose bytes changed, the sidecar included. */
  written: string[];
  unchanged: number;
  /** Files of agents that are gone, deleted because the previous sidecar listed them. */
  removed: string[];
  /** CAS objects the registry did not have yet. */
  stored: number;
  strict: boolean;
  warnings: string[];
}

/**
 * Materialises view (provider, env): plan everything in memory (any bad input throws before a write), then write only
 * the files whose bytes differ — all of them staged as temp files first, renamed into place after every temp file is
 * written, the sidecar last — and delete the files of agents the previous sidecar listed and this one does not.
 */
export function buildView(opts: BuildViewOptions): BuildViewResult {
  const plan = planView(opts);
  const { layout } = plan;
  const registryDir = typeof opts.registry === "string" ? opts.registry : opts.registry?.dir;
  const trust = viewTrust({ root: layout.root, strict: opts.strict, registryDir, store: opts.trustStore });
  const inputs = new Map<string, ViewInput>();
  for (const a of plan.agents) for (const i of [a.base, ...a.overlays]) inputs.set(i.path, i);
  for (const i of inputs.values()) trust.check(i.doc, i.path);

  const previous = readViewManifest(layout);
  let manifest = plan.manifest;
  if (opts.signKey) manifest = signDocument(manifest, opts.signKey);
  // A sidecar signed after the build (`rtt sign`) keeps its signature while the view it signs is unchanged: the
  // signature covers everything but `sign`, and that is equal when the view hash is.
  else if (previous?.sign && previous.view_hash === manifest.view_hash) manifest = { ...manifest, sign: previous.sign };

  let stored = 0;
  if (opts.registry !== undefined) {
    const reg = typeof opts.registry === "string" ? new Registry(opts.registry) : opts.registry;
    const seen = new Set<string>();
    for (const a of plan.agents)
      for (const i of [a.base, ...a.overlays]) {
        if (seen.has(i.hash)) continue;
        seen.add(i.hash);
        const put = reg.put(i.doc, { durable: opts.durable });
        if (put.hash !== i.hash)
          throw new FabricError("RTT_FABRIC_CORRUPT", `stored as ${put.hash}, hashed as ${i.hash}`, i.path);
        if (put.created) stored++;
      }
  }

  const desired = new Map<string, Buffer>();
  for (const a of plan.agents) desired.set(a.output.path, a.output.bytes);
  const stale = (previous?.files ?? []).map((f) => f.path).filter((p) => !desired.has(p));
  const { written, unchanged } = writeAll(
    opts.out === undefined ? layout.rootReal : undefined,
    layout.outRoot,
    layout.viewDir,
    desired,
    prettyJson(manifest),
    stale,
    opts.durable ?? true,
  );
  return {
    provider: layout.provider,
    env: layout.env,
    viewDir: layout.viewDir,
    viewHash: manifest.view_hash,
    agents: plan.agents.length,
    written,
    unchanged,
    removed: stale,
    stored,
    strict: trust.strict,
    warnings: [...plan.warnings, ...trust.warnings],
  };
}

let tmpCounter = 0;

function writeAll(
  rootReal: string | undefined,
  outRoot: string,
  viewDir: string,
  files: Map<string, Buffer>,
  manifestText: string,
  stale: string[],
  durable: boolean,
): { written: string[]; unchanged: number } {
  const manifestFile = join(viewDir, VIEW_MANIFEST);
  const all: Array<[rel: string, abs: string, bytes: Buffer]> = [...files].map(([rel, b]) => [
    rel,
    join(viewDir, rel),
    b,
  ]);
  all.push([VIEW_MANIFEST, manifestFile, Buffer.from(manifestText, "utf8")]);

  const changed = all.filter(([, abs, bytes]) => !sameBytes(abs, bytes));
  const removable = stale.filter((rel) => pathKind(join(viewDir, rel)) !== "none");
  if (changed.length === 0 && removable.length === 0) return { written: [], unchanged: all.length };

  // The default `<root>/providers` must stay in the project (a cloned repo's `providers` symlink must not aim the
  // build at the home folder); an explicit --out is where the user said.
  if (rootReal !== undefined) assertInside(rootReal, nearestExisting(outRoot));
  mkdirSync(outRoot, { recursive: true });
  const outReal = realpathSync(outRoot);
  const dirs = new Set(changed.map(([, abs]) => dirname(abs)));
  for (const d of dirs) {
    // `providers/claude/.claude` as a symlink to elsewhere would make the view write outside its folder: check the
    // part that exists before creating the rest through it.
    assertInside(outReal, nearestExisting(d));
    mkdirSync(d, { recursive: true });
    assertInside(outReal, d);
  }

  const staged: Array<[tmp: string, abs: string]> = [];
  try {
    for (const [, abs, bytes] of changed) {
      const tmp = join(dirname(abs), `.tmp-view-${process.pid}-${++tmpCounter}`);
      staged.push([tmp, abs]);
      writeStaged(tmp, bytes, durable);
    }
  } catch (e) {
    for (const [tmp] of staged) rmSync(tmp, { force: true });
    throw new FabricError(
      "RTT_FABRIC_UNREADABLE",
      `writing the view failed, previous view left as it was: ${(e as Error).message}`,
      viewDir,
    );
  }
  // The sidecar is last in `changed`: until it is renamed, the previous one still lists every file a later build
  // must clean up.
  const manifestStage = staged.at(-1)?.[1] === manifestFile ? staged.pop() : undefined;
  for (const [tmp, abs] of staged) renameSync(tmp, abs);
  for (const rel of removable) rmSync(join(viewDir, rel), { force: true });
  if (manifestStage) renameSync(manifestStage[0], manifestStage[1]);
  if (durable) for (const d of new Set([...dirs, ...removable.map((r) => dirname(join(viewDir, r)))])) fsyncDir(d);
  return { written: changed.map(([rel]) => rel), unchanged: all.length - changed.length };
}

function nearestExisting(p: string): string {
  let at = p;
  while (pathKind(at) === "none" && dirname(at) !== at) at = dirname(at);
  return at;
}

function pathKind(p: string): "none" | "link" | "file" {
  try {
    return lstatSync(p).isSymbolicLink() ? "link" : "file";
  } catch {
    return "none";
  }
}

/** True when `abs` is a regular file (not a symlink: that one is replaced) holding exactly `bytes`. */
function sameBytes(abs: string, bytes: Buffer): boolean {
  if (pathKind(abs) !== "file") return false;
  try {
    return readFileSync(abs).equals(bytes);
  } catch {
    return false;
  }
}

function writeStaged(tmp: string, bytes: Buffer, durable: boolean): void {
  const fd = openSync(tmp, "wx", 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { FabricError } from "../errors.js";
import { parseJsonText } from "../json-file.js";
import type { TrustStore } from "../trust/store.js";
import { assertInside, LAYER_NAME_RE, VIEW_MANIFEST, viewLayout } from "./layout.js";
import { manifestPath, readViewManifest, type ViewManifest } from "./manifest.js";
import { renderAgent } from "./plan.js";
import { viewTrust } from "./strict.js";

export interface VerifyViewOptions {
  root?: string;
  provider: string;
  out?: string;
  strict?: boolean;
  registry?: string;
  trustStore?: TrustStore;
}

/**
 * Checks a materialised view against its sidecar without its inputs: the sidecar's schema and view hash, its
 * signature (refused when bad or revoked, and when missing or unknown under strict mode), and every listed file's bytes
 * against the recorded hash. Throws on the first problem, naming the file.
 */
export function verifyView(opts: VerifyViewOptions): { manifest: ViewManifest; files: number; warnings: string[] } {
  // The env is read from the sidecar; any valid name satisfies the layout.
  const layout = viewLayout({ root: opts.root, provider: opts.provider, env: "x", out: opts.out });
  const manifest = readViewManifest(layout);
  const where = manifestPath(layout);
  if (!manifest) throw new FabricError("RTT_FABRIC_NOT_FOUND", "no view built here", where);
  const trust = viewTrust({
    root: layout.root,
    strict: opts.strict,
    registryDir: opts.registry,
    store: opts.trustStore,
  });
  trust.check(manifest, where);
  const viewReal = realpathSync(layout.viewDir);
  for (const f of manifest.files) {
    const path = join(layout.viewDir, f.path);
    assertInside(viewReal, path);
    const bytes = readFileSync(path);
    const expected = renderAgent(parseJsonText(bytes.toString("utf8"), path));
    if (expected.hash !== f.hash)
      throw new FabricError(
        "RTT_FABRIC_CORRUPT",
        `content hashes to ${expected.hash}, the view records ${f.hash}`,
        path,
      );
    if (!expected.bytes.equals(bytes))
      throw new FabricError("RTT_FABRIC_CORRUPT", "content matches but the bytes are not the view's rendering", path);
  }
  return { manifest, files: manifest.files.length, warnings: trust.warnings };
}

/** The views built under `<out>` (default `<root>/providers`): every `<P>/.view.json`, read and checked. */
export function listViews(opts: { root?: string; out?: string }): ViewManifest[] {
  const out = opts.out ?? join(opts.root ?? ".", "providers");
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((p) => LAYER_NAME_RE.test(p) && existsSync(join(out, p, VIEW_MANIFEST)))
    .sort()
    .map((provider) => readViewManifest(viewLayout({ root: opts.root, provider, env: "x", out })) as ViewManifest);
}

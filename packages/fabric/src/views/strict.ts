import { join } from "node:path";
import { enforceTrust, isStrict } from "../trust/sign.js";
import { loadTrustStore, type TrustStore } from "../trust/store.js";

export interface ViewTrustOptions {
  root: string;
  /** `--strict`; the project's `.rtt/policy.json` can turn strict mode on too, never off. */
  strict?: boolean;
  /** The registry whose `trust/` holds the trusted and revoked keys (default `<root>/.rtt/registry`). */
  registryDir?: string;
  /** An already loaded store (tests, benches); wins over registryDir. */
  store?: TrustStore;
}

/**
 * The trust rule for a view's inputs and for views themselves, from src/trust: a present signature that is bad or by a
 * revoked key is refused always; under strict mode anything not signed by a trusted key is refused too. Outside
 * strict mode an unsigned input is fine and an unknown signer is a warning. The store is read only when needed.
 */
export function viewTrust(opts: ViewTrustOptions) {
  const strict = isStrict({ flag: opts.strict, policyPath: join(opts.root, ".rtt", "policy.json") });
  let store = opts.store;
  const warnings: string[] = [];
  const check = (doc: unknown, where: string): void => {
    const signed = doc !== null && typeof doc === "object" && Object.hasOwn(doc, "sign");
    if (!strict && !signed) return;
    store ??= loadTrustStore(opts.registryDir ?? join(opts.root, ".rtt", "registry"));
    const r = enforceTrust(doc, where, { strict, store });
    if (r.status !== "valid") warnings.push(`${where}: ${r.reason}`);
  };
  return { strict, check, warnings };
}

import { NonceCache } from "../caps/nonces.js";
import { checkToken, type TokenCheck, TokenCounters, type TokenWant } from "../caps/token.js";
import { FabricError } from "../errors.js";
import { loadTrustStore, type TrustStore } from "../trust/store.js";

/** `tokens` (the default): every route operation needs a capability token. `none`: local development, logged. */
export type AuthMode = "tokens" | "none";

export interface RouteAuthOptions {
  /** The trust store to check signatures against; default: `<registry>/trust`, re-read at most every `reloadMs`. */
  store?: TrustStore;
  /** How often the trust store on disk is re-read (keys trusted or revoked while the daemon runs); default 2000 ms. */
  reloadMs?: number;
  clock?: () => number;
  /** Live nonces remembered (spec/fabric/tokens.md, "Replay"); default 100,000. */
  nonceCapacity?: number;
}

/**
 * The daemon's token gate (spec/fabric/daemon.md, "Capability tokens"): one `checkToken` per route operation
 * (`open`, `tx`, `shm_open`), never per frame. One replay cache for the daemon's life; outcomes counted by reason.
 */
export class RouteAuth {
  readonly counters = new TokenCounters();
  /** Operations that came with no token at all (not a token check: counted apart from `malformed`). */
  missing = 0;
  readonly nonces: NonceCache;
  private store: TrustStore | undefined;
  private loadedAt = 0;

  constructor(
    readonly mode: AuthMode,
    private readonly registryDir: string,
    private readonly o: RouteAuthOptions = {},
  ) {
    this.nonces = new NonceCache({ capacity: o.nonceCapacity ?? 100_000 });
    this.store = o.store;
  }

  get required(): boolean {
    return this.mode === "tokens";
  }

  private trust(): TrustStore {
    if (this.o.store) return this.o.store;
    const now = Date.now();
    if (!this.store || now - this.loadedAt >= (this.o.reloadMs ?? 2000)) {
      this.store = loadTrustStore(this.registryDir);
      this.loadedAt = now;
    }
    return this.store;
  }

  /** Checks `token` for `want`; throws RTT_FABRIC_UNAUTHORIZED naming the reason when refused. */
  check(token: unknown, want: TokenWant): Extract<TokenCheck, { ok: true }> {
    if (token === undefined || token === null) {
      this.missing++;
      throw new FabricError(
        "RTT_FABRIC_UNAUTHORIZED",
        `${want.verb} ${want.saddr} needs a capability token (rtt token issue --verb ${want.verb} --saddr ${want.saddr})`,
      );
    }
    const r = checkToken(token, want, {
      store: this.trust(),
      nonces: this.nonces,
      counters: this.counters,
      ...(this.o.clock ? { clock: this.o.clock } : {}),
    });
    if (!r.ok) throw new FabricError("RTT_FABRIC_UNAUTHORIZED", `token refused: ${r.reason}: ${r.detail}`);
    return r;
  }

  /** For `status`: the mode and every outcome by reason (zeros included). */
  snapshot() {
    const tokens = this.counters.snapshot();
    let refused = this.missing;
    for (const [k, v] of Object.entries(tokens)) if (k !== "accepted") refused += v;
    return { mode: this.mode, tokens: { ...tokens, missing: this.missing }, refused };
  }
}

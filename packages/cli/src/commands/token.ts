import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { CliExit, EXIT_INVALID, EXIT_USAGE } from "../lib/exit.js";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";

/** `5m`, `30s`, `1500ms`, `2h` → milliseconds; undefined when not that shape. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

const VERBS = ["open", "tx", "rx", "close"];
const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  const token = program
    .command("token")
    .description("Capability tokens for route operations: issue and check (spec/fabric/tokens.md)")
    .addHelpText(
      "after",
      `
Examples:
  rtt token issue --saddr rtt://core/api/metrics --verb tx --scope metrics.read --ttl 5m --key .rtt/keys/ops.key > tok.json
  rtt token check tok.json --saddr rtt://core/api/metrics --verb tx --scope metrics.read`,
    );

  token
    .command("issue")
    .description("Issue a signed token: {saddr, verb, scopes, exp, nonce, sign}")
    .requiredOption("--saddr <addr>", "the route's address, rtt://domain/path")
    .addOption(new Option("--verb <verb>", "the operation").choices(VERBS).makeOptionMandatory())
    .option("--scope <scope>", "a scope the holder gets (repeatable)", collect, [])
    .option("--ttl <duration>", "lifetime: 500ms, 30s, 5m, 2h (at most 24h)", "5m")
    .option("--key <file>", "private key (PKCS#8 PEM)", FABRIC_DEFAULTS.key)
    .option("--out <file>", "write the token here (default: stdout)")
    .action(async (opts: { saddr: string; verb: string; scope: string[]; ttl: string; key: string; out?: string }) => {
      const f = await loadFabric();
      const ttlMs = parseTtl(opts.ttl);
      if (ttlMs === undefined) throw new CliExit(EXIT_USAGE, `--ttl ${opts.ttl}: expected e.g. 30s, 5m, 2h`);
      const key = f.readPrivateKeyFile(opts.key);
      const t = f.issueToken({ saddr: opts.saddr, verb: opts.verb as "tx", scopes: opts.scope, ttlMs }, key, Date.now);
      const text = f.prettyJson(t);
      if (opts.out) f.writeFileAtomic(opts.out, text);
      else process.stdout.write(text);
      process.stderr.write(`rtt token: ${opts.verb} ${opts.saddr} until ${t.exp}, signed by ${t.sign.key_id}\n`);
    });

  token
    .command("check")
    .description("Check a token against an operation: signature, trust, expiry, address, verb and scopes")
    .argument("<file>", "the token (JSON); - for stdin")
    .requiredOption("--saddr <addr>", "the address of the operation")
    .addOption(new Option("--verb <verb>", "the operation").choices(VERBS).makeOptionMandatory())
    .option("--scope <scope>", "a scope the operation needs (repeatable)", collect, [])
    .option("--registry <dir>", "the registry whose trust/ is used", FABRIC_DEFAULTS.registry)
    .addOption(new Option("--format <format>", "text or json").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Prints \`accepted\` or \`refused: REASON: detail\` (reasons: spec/fabric/tokens.md). A one-shot check has no memory,
so it cannot see a replay: the daemon's checker keeps the nonces.

Exit codes: 0 accepted, 1 unreadable file, 2 refused.`,
    )
    .action(
      async (
        file: string,
        opts: { saddr: string; verb: string; scope: string[]; registry: string; format: "text" | "json" },
      ) => {
        const f = await loadFabric();
        let text: string;
        try {
          text = readFileSync(file === "-" ? 0 : file, "utf8");
        } catch (e) {
          throw new CliExit(EXIT_USAGE, `${file}: ${(e as Error).message}`);
        }
        const store = f.loadTrustStore(opts.registry);
        const r = f.checkToken(
          text,
          { saddr: opts.saddr, verb: opts.verb as "tx", scope: opts.scope },
          { store, nonces: new f.NonceCache({ capacity: 1 }) },
        );
        if (opts.format === "json") {
          const out = r.ok
            ? { ok: true, key_id: r.key_id, exp: r.token.exp }
            : { ok: false, reason: r.reason, detail: r.detail };
          process.stdout.write(f.prettyJson(out));
        } else if (r.ok) {
          process.stdout.write(
            `accepted: ${r.token.verb} ${r.token.saddr}, signed by ${r.key_id}, until ${r.token.exp}\n`,
          );
        }
        if (!r.ok) {
          if (opts.format === "text") process.stdout.write(`refused: ${r.reason}: ${r.detail}\n`);
          throw new CliExit(EXIT_INVALID);
        }
      },
    );
}

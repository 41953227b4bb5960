import type { Command } from "commander";
import { loadFabric, reportFabricErrors } from "../lib/fabric.js";

/** FabricErrors (they name the file; exit 1 unreadable/usage, 2 refused) are printed as `rtt view: <message>`. */
const VIEW = "rtt view";

const warn = (warnings: string[]) => {
  for (const w of warnings) process.stderr.write(`rtt view: warning: ${w}\n`);
};

const json = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

interface Common {
  root: string;
  out?: string;
  json?: boolean;
}

const LAYOUT = `
Files (relative to --root):
  agents/**/<name>.agent.json                  base agents
  overlays/provider/<P>/{_global,<name>}.patch.json
  overlays/env/<E>/{_global,<name>}.patch.json
  providers/<P>/.<P>/agents/<name>.agent.json  the view (--out replaces providers/)
  providers/<P>/.view.json                     its provenance: input hashes in order, view hash
Overlays apply provider _global, provider <name>, env _global, env <name>: RFC 7396 merge patch, lists of
items with a "name" (or "symbol") merge by it; {"name": "x", "$delete": true} removes x. spec/fabric/overlays.md`;

export function register(program: Command): void {
  const view = program
    .command("view")
    .description("Provider views: base agents + provider and environment overlays, materialised (seed 004)")
    .addHelpText(
      "after",
      `${LAYOUT}

Examples:
  rtt view build --provider claude --env prod
  rtt view diff --provider claude --env prod summarize
  rtt view verify --provider claude --strict
  rtt view ls`,
    );

  view
    .command("build")
    .description("Merge and write providers/<P>/.<P>/agents/*.agent.json and providers/<P>/.view.json")
    .requiredOption("--provider <P>", "provider name (claude, openai, …)")
    .requiredOption("--env <E>", "environment name (prod, dev, …)")
    .option("--root <dir>", "project root holding agents/ and overlays/", ".")
    .option("--out <dir>", "folder for the views instead of <root>/providers")
    .option(
      "--registry <dir>",
      "also store base agents and overlays in this CAS registry; its trust/ verifies signatures",
    )
    .option("--strict", "refuse base agents and overlays not signed by a trusted key (also: policy.json strict)")
    .option("--sign-key <file>", "sign the view's .view.json with this Ed25519 private key")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Only files whose bytes change are written; a second build writes nothing. Files of agents that are gone are
deleted (only those the previous .view.json lists). A bad input fails the build naming the file, and the
previous view stays as it was. Exit codes: 0 built, 1 unreadable input or usage, 2 refused (invalid, untrusted).

Example (the seed's):
  agents/common/summarize.agent.json + overlays/provider/claude/summarize.patch.json
    + overlays/env/prod/_global.patch.json
  rtt view build --provider claude --env prod
    → providers/claude/.claude/agents/summarize.agent.json`,
    )
    .action((opts: Common & { provider: string; env: string; registry?: string; strict?: boolean; signKey?: string }) =>
      reportFabricErrors(VIEW, async () => {
        const { buildView, readPrivateKeyFile } = await loadFabric();
        const r = buildView({
          root: opts.root,
          provider: opts.provider,
          env: opts.env,
          out: opts.out,
          registry: opts.registry,
          strict: opts.strict,
          signKey: opts.signKey ? readPrivateKeyFile(opts.signKey) : undefined,
        });
        warn(r.warnings);
        if (opts.json) return json(r);
        process.stdout.write(
          `view ${r.provider}/${r.env}: ${r.agents} agents, ${r.written.length} files written, ${r.unchanged} unchanged, ${r.removed.length} removed${opts.registry ? `, ${r.stored} new CAS objects` : ""}${r.strict ? " (strict)" : ""}\n  ${r.viewDir}\n  view ${r.viewHash}\n`,
        );
      }),
    );

  view
    .command("diff")
    .description("Show what each overlay changes, per agent, as RFC 6902 operations (reads only)")
    .argument("[agent]", "only this agent (its <name>)")
    .requiredOption("--provider <P>", "provider name")
    .requiredOption("--env <E>", "environment name")
    .option("--root <dir>", "project root holding agents/ and overlays/", ".")
    .option("--json", "print {provider, env, agents: [{agent, base, output, overlays: [{layer, path, hash, ops}]}]}")
    .addHelpText("after", "\nExample:\n  rtt view diff --provider claude --env prod summarize")
    .action((agent: string | undefined, opts: Common & { provider: string; env: string }) =>
      reportFabricErrors(VIEW, async () => {
        const { diffView, formatViewDiff } = await loadFabric();
        const d = diffView({ root: opts.root, provider: opts.provider, env: opts.env, agent });
        if (opts.json) json(d);
        else process.stdout.write(formatViewDiff(d));
      }),
    );

  view
    .command("verify")
    .description("Check a built view against its .view.json: view hash, signature, every file's bytes")
    .requiredOption("--provider <P>", "provider name")
    .option("--root <dir>", "project root", ".")
    .option("--out <dir>", "folder of the views instead of <root>/providers")
    .option("--registry <dir>", "registry whose trust/ verifies the signature (default <root>/.rtt/registry)")
    .option("--strict", "refuse an unsigned view or one signed by an untrusted key (also: policy.json strict)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  rtt view verify --provider claude --strict")
    .action((opts: Common & { provider: string; registry?: string; strict?: boolean }) =>
      reportFabricErrors(VIEW, async () => {
        const { verifyView } = await loadFabric();
        const r = verifyView({
          root: opts.root,
          provider: opts.provider,
          out: opts.out,
          registry: opts.registry,
          strict: opts.strict,
        });
        warn(r.warnings);
        const m = r.manifest;
        if (opts.json)
          return json({ provider: m.provider, env: m.env, files: r.files, view_hash: m.view_hash, signed: !!m.sign });
        process.stdout.write(
          `view ${m.provider}/${m.env}: ${r.files} files match, view ${m.view_hash}${m.sign ? `, signed by ${m.sign.key_id}` : ", unsigned"}\n`,
        );
      }),
    );

  view
    .command("ls")
    .description("List the views built under providers/ (or --out)")
    .option("--root <dir>", "project root", ".")
    .option("--out <dir>", "folder of the views instead of <root>/providers")
    .option("--json", "print the views' sidecars")
    .addHelpText("after", "\nExample:\n  rtt view ls --json")
    .action((opts: Common) =>
      reportFabricErrors(VIEW, async () => {
        const { listViews } = await loadFabric();
        const views = listViews({ root: opts.root, out: opts.out });
        if (opts.json) return json(views);
        for (const m of views)
          process.stdout.write(
            `${m.provider}\t${m.env}\t${m.files.length} agents\t${m.view_hash.slice(0, 16)}${m.sign ? "\tsigned" : ""}\n`,
          );
      }),
    );
}

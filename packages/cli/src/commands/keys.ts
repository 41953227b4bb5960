import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { CliExit, EXIT_INVALID, EXIT_OK, EXIT_USAGE } from "../lib/exit.js";
import { FABRIC_DEFAULTS, loadFabric } from "../lib/fabric.js";
import { isFabricError } from "../lib/fabric-error.js";

// The default is absolute, as fabricPaths().registry is: the paths printed from it stay the same.
const registryOption = () =>
  new Option("--registry <dir>", "the registry whose trust/ is used").default(
    resolve(FABRIC_DEFAULTS.registry),
    FABRIC_DEFAULTS.registry,
  );

export function register(program: Command): void {
  const keys = program
    .command("keys")
    .description("Ed25519 signing keys and the registry's trust store (spec/fabric/signatures.md)")
    .addHelpText(
      "after",
      `
Examples:
  rtt keys gen --name ci                      # .rtt/keys/ci.key (0600) and .rtt/keys/ci.pub
  rtt keys trust .rtt/keys/ci.pub             # copy into .rtt/registry/trust/keys/
  rtt keys ls
  rtt keys revoke ed25519:<32 hex> --reason "laptop stolen"`,
    );

  keys
    .command("gen")
    .description("Generate an Ed25519 key pair: <out>/<name>.key (PKCS#8 PEM, mode 0600) and <out>/<name>.pub")
    .option("--name <name>", "file name of the pair", FABRIC_DEFAULTS.keyName)
    .option("--out <dir>", "directory for the pair (never the registry's trust/keys)", FABRIC_DEFAULTS.keys)
    .option("--comment <text>", "comment stored in the .pub (who, which machine); defaults to the name")
    .option("--trust", "also trust the new public key in --registry")
    .addOption(registryOption())
    .addHelpText(
      "after",
      "\nNever overwrites an existing key. Prints the key id and the two paths; never the private key.\n\nExample:\n  rtt keys gen --name release --trust",
    )
    .action(async (opts: { name: string; out: string; comment?: string; trust?: boolean; registry: string }) => {
      const { generateKeyPair, trustKey, writeKeyPair } = await loadFabric();
      const written = writeKeyPair(generateKeyPair(), opts.out, opts.name, opts.comment ?? opts.name);
      process.stdout.write(
        `${written.key_id}\n  private key: ${written.privateKeyFile} (keep it secret)\n  public key:  ${written.publicKeyFile}\n`,
      );
      if (opts.trust) {
        const t = trustKey(opts.registry, written.publicKeyFile);
        process.stdout.write(`  trusted in:  ${t.file}\n`);
      }
    });

  keys
    .command("trust")
    .description("Trust public keys: copy each .pub into <registry>/trust/keys/, named by its key id")
    .argument("<files...>", ".pub files (one-line `ed25519 <base64> [comment]` or PEM SPKI)")
    .addOption(registryOption())
    .addHelpText("after", "\nA revoked key is refused.\n\nExample:\n  rtt keys trust alice.pub bob.pub")
    .action(async (files: string[], opts: { registry: string }) => {
      const { trustKey } = await loadFabric();
      for (const file of files) {
        const t = trustKey(opts.registry, file);
        process.stdout.write(`${t.created ? "trusted" : "already trusted"} ${t.key_id} ${t.comment} (${t.file})\n`);
      }
    });

  keys
    .command("ls")
    .description("List trusted and revoked keys of the registry")
    .addOption(registryOption())
    .addOption(new Option("--format <format>", "text or json").choices(["text", "json"]).default("text"))
    .action(async (opts: { registry: string; format: string }) => {
      const { listKeys, loadTrustStore, prettyJson } = await loadFabric();
      const store = loadTrustStore(opts.registry);
      const list = listKeys(store);
      if (opts.format === "json") {
        process.stdout.write(prettyJson({ keys: list, problems: store.problems }));
      } else {
        for (const k of list)
          process.stdout.write(
            `${k.key_id}  ${k.status.padEnd(7)}  ${k.comment}${k.reason ? `  (${k.reason})` : ""}\n`,
          );
        if (list.length === 0) process.stdout.write(`no keys in ${opts.registry}\n`);
      }
      for (const p of store.problems) process.stderr.write(`rtt keys: ${p.reason}\n`);
    });

  keys
    .command("revoke")
    .description("Revoke a key: add it to <registry>/trust/revoked.json; its signatures stop verifying")
    .argument("<key_id>", "ed25519:<32 hex> (see `rtt keys ls`)")
    .option("--reason <text>", "why, recorded beside the key id", "revoked")
    .addOption(registryOption())
    .addHelpText(
      "after",
      "\nRevoked beats trusted: the .pub may stay in trust/keys/, `rtt keys trust` will not bring it back.\n\nExample:\n  rtt keys revoke ed25519:0123456789abcdef0123456789abcdef --reason 'key leaked'",
    )
    .action(async (id: string, opts: { reason: string; registry: string }) => {
      const { revokeKey } = await loadFabric();
      const r = revokeKey(opts.registry, id, opts.reason);
      process.stdout.write(`${r.created ? "revoked" : "already revoked"} ${r.key_id} (${r.reason})\n`);
    });

  program
    .command("sign")
    .description("Sign a JSON object (manifest, plan, view, …): add `sign` {alg, key_id, sig} over its canonical JSON")
    .argument("<file>", "a JSON file holding one object")
    .option("--key <file>", "private key (PKCS#8 PEM)", FABRIC_DEFAULTS.key)
    .addOption(new Option("--out <file>", "write the signed document here (default: stdout)").conflicts("inPlace"))
    .option("--in-place", "replace <file> with the signed document (atomically)")
    .addOption(registryOption())
    .addHelpText(
      "after",
      `
An existing signature is replaced. The signature covers the RFC 8785 canonical JSON without \`sign\`, so
reformatting the file later does not break it; changing any value does.

Examples:
  rtt sign plan.json --key .rtt/keys/release.key --in-place
  rtt sign .rtt/manifests/mcp.memory.json --out signed.json`,
    )
    .action(async (file: string, opts: { key: string; out?: string; inPlace?: boolean; registry: string }) => {
      const { keyId, loadTrustStore, prettyJson, readJsonFile, readPrivateKeyFile, signDocument, writeFileAtomic } =
        await loadFabric();
      const doc = readJsonFile(file);
      if (doc === null || typeof doc !== "object" || Array.isArray(doc))
        throw new CliExit(EXIT_INVALID, `${file}: only a JSON object can be signed`);
      const key = readPrivateKeyFile(opts.key);
      const signed = signDocument(doc, key);
      const text = prettyJson(signed);
      const target = opts.inPlace ? file : opts.out;
      if (target) writeFileAtomic(target, text);
      else process.stdout.write(text);
      const id = keyId(key);
      process.stderr.write(`rtt sign: ${target ?? file} signed by ${id}\n`);
      // A signature nobody trusts yet is the usual first-run surprise; say so now rather than at verify time.
      try {
        if (!loadTrustStore(opts.registry).keys.has(id))
          process.stderr.write(
            `rtt sign: note: ${id} is not trusted by ${opts.registry}; \`rtt keys trust\` its .pub\n`,
          );
      } catch {
        // A broken store is reported by `rtt verify` / `rtt keys ls`; signing does not depend on it.
      }
    });

  program
    .command("verify")
    .description("Verify the signature of JSON files against the registry's trust store")
    .argument("<files...>", "signed JSON files")
    .option("--strict", "require a valid signature (always so for verify; accepted so scripts can pass one flag)")
    .addOption(registryOption())
    .addHelpText(
      "after",
      `
Prints \`FILE: valid (KEY_ID)\` for each good file. Anything else — unsigned, unknown_key, revoked, bad_signature —
is reported on stderr with the reason.

Exit codes: 0 every file is validly signed by a trusted key, 1 unreadable file, 2 otherwise.

Example:
  rtt verify plan.json .rtt/manifests/*.json`,
    )
    .action(async (files: string[], opts: { registry: string }) => {
      const { loadTrustStore, readJsonFile, verifyDocument } = await loadFabric();
      const store = loadTrustStore(opts.registry);
      for (const p of store.problems) process.stderr.write(`rtt verify: warning: ${p.reason}\n`);
      let code = EXIT_OK;
      for (const file of files) {
        try {
          const r = verifyDocument(readJsonFile(file), store);
          if (r.status === "valid") {
            process.stdout.write(`${file}: valid (${r.key_id})\n`);
          } else {
            process.stderr.write(`rtt verify: ${file}: ${r.status}: ${r.reason}\n`);
            code = Math.max(code, EXIT_INVALID);
          }
        } catch (e) {
          if (!isFabricError(e)) throw e;
          process.stderr.write(`rtt verify: ${e.message}\n`);
          code = Math.max(code, e.exitCode === EXIT_USAGE ? EXIT_USAGE : EXIT_INVALID);
        }
      }
      process.exitCode = code;
    });
}

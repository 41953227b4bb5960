// A minimal ESM loader so child processes in tests can run the TypeScript sources without a build:
// `.js` specifiers resolve to the `.ts` file beside them, `@rtt/<pkg>` to packages/<pkg>/src/index.ts (a named
// entry `@rtt/<pkg>/<entry>` to packages/<pkg>/src/<entry>.ts),
// and `.ts` files are transpiled with the project's TypeScript (types erased, no type check).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let oxc;
try {
  oxc = (await import("rolldown/experimental")).transformSync;
} catch {
  oxc = undefined;
}
const ts = oxc ? undefined : (await import("typescript")).default;

const packagesDir = resolvePath(dirname(fileURLToPath(import.meta.url)), "../../..");

export async function resolve(specifier, context, next) {
  const pkg = /^@rtt\/([a-z]+)(?:\/([a-z-]+))?$/.exec(specifier);
  if (pkg)
    return { url: pathToFileURL(join(packagesDir, pkg[1], "src", `${pkg[2] ?? "index"}.ts`)).href, shortCircuit: true };
  if ((specifier.startsWith(".") || specifier.startsWith("file:")) && specifier.endsWith(".js") && context.parentURL) {
    const url = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, "utf8");
  if (oxc) {
    const out = oxc(file, source, { lang: "ts" });
    if (out.errors?.length) throw new Error(`${file}: ${out.errors.map((e) => e.message).join("; ")}`);
    return { format: "module", source: out.code, shortCircuit: true };
  }
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: "module", source: out.outputText, shortCircuit: true };
}

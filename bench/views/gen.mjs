// Generates a View Engine project (seeded): N base agents under agents/<group>/, and for each of P providers a
// _global overlay plus named overlays for ~10 % of the agents; one env (prod) with a _global overlay and named
// overlays for ~5 %. Shared by bench/views/run.mjs and its smoke test.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prng } from "../lib/prng.mjs";

const WORDS = "alpha beta gamma delta route lane plan trace merge patch agent tool symbol view cache index".split(" ");

export function generateProject(root, { providers, agents, seed = 14 }) {
  const rnd = prng(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const text = (n) => Array.from({ length: n }, () => pick(WORDS)).join(" ");
  rmSync(root, { recursive: true, force: true });
  const write = (rel, value) => {
    const p = join(root, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, `${JSON.stringify(value, null, 2)}\n`);
  };
  const names = [];
  for (let i = 0; i < agents; i++) {
    const name = `agent-${String(i).padStart(5, "0")}`;
    names.push(name);
    const tools = Array.from({ length: int(2, 6) }, (_, t) => ({
      name: `tool_${t}`,
      description: text(8),
      input_schema: { type: "object", properties: { q: { type: "string" }, n: { type: "integer" } } },
    }));
    const symbols = Array.from({ length: int(1, 3) }, (_, s) => ({
      symbol: `rtt://bench/${name}/s${s}`,
      version: `1.${s}.0`,
      input_type: "Query",
      output_type: "Answer",
    }));
    write(`agents/g${i % 10}/${name}.agent.json`, {
      id: `bench/${name}`,
      version: `1.${i % 7}.0`,
      name,
      description: text(12),
      instructions: text(60),
      model: "default",
      tools,
      symbols,
    });
  }
  for (let p = 0; p < providers; p++) {
    const P = `prov${String(p).padStart(3, "0")}`;
    write(`overlays/provider/${P}/_global.patch.json`, { model: `${P}-model`, max_tokens: int(1000, 8000) });
    for (const name of names) {
      if (rnd() >= 0.1) continue;
      write(`overlays/provider/${P}/${name}.patch.json`, {
        instructions: text(20),
        tools: [
          { name: "tool_0", description: text(5) },
          { name: "tool_1", $delete: true },
          { name: `${P}_extra`, description: text(4) },
        ],
      });
    }
  }
  write("overlays/env/prod/_global.patch.json", { temperature: 0, timeout_ms: 30000 });
  for (const name of names) {
    if (rnd() >= 0.05) continue;
    write(`overlays/env/prod/${name}.patch.json`, {
      symbols: [{ symbol: `rtt://bench/${name}/s0`, version: "2.0.0" }],
    });
  }
  return names;
}

export const providerName = (p) => `prov${String(p).padStart(3, "0")}`;

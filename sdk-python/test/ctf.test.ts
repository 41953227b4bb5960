// The Python SDK's CTF support against the TypeScript implementation it must match (issue 18: 11):
//  1. cross-language: scenarios generated here run through @rtt/ctf's corridor runtime and through rtt_sdk's
//     (sdk-python/tests/ctf_crosslang.py) with the same clock; every Q-metric must agree to 1e-9, every status and
//     violation list exactly, and the written traces byte for byte. The example agent traces too, and the JSON
//     number/string encoding on random doubles and strings.
//  2. against a real `rtt serve` (startServer, as packages/sdk/test/python-sdk.test.ts): the SDK's CTF unittest
//     suite (upload, append, the live socket through its own RFC 6455 client, acks and errors, read-only and refused
//     handshakes) and the seed's `stream_trace_update`, verbatim; the traces stored validate with no issue.
// Skipped, with the reason printed, when python3 is missing.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "@rtt/core";
import {
  type CorridorSpec,
  type CTFEvent,
  createCorridor,
  MemorySink,
  Q_METRICS,
  type QMetrics,
  validateCTFText,
} from "@rtt/ctf";
import { type RunningServer, startServer } from "@rtt/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SDK_PY = join(ROOT, "sdk-python");
const TOKEN = "py-ctf-write-token-0123456789";
const READ_TOKEN = "py-ctf-read-token-0123456789";

const probe = spawnSync("python3", ["--version"], { encoding: "utf8" });
const pythonMissing = probe.status !== 0 ? `python3 not runnable (${probe.error?.message ?? probe.stderr})` : undefined;
if (pythonMissing) console.warn(`sdk-python ctf: skipping: ${pythonMissing}`);

/** Async child process: the server under test lives in this process, so spawnSync would starve it. */
function runPython(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

// --- scenarios -------------------------------------------------------------------------------------------------

type Op =
  | { op: "step"; action: string; observation: string; tool: string | null; latency_ms: number; parent?: number }
  | { op: "rewind"; to: number };

interface Scenario {
  name: string;
  task_id: string;
  spec: CorridorSpec;
  task?: string;
  clock: number[];
  ops: Op[];
}

type Result = { step_id: number; q: QMetrics; corridor_status: string; violations: string[] } | { error: string };

interface Expected {
  text: string;
  results: Result[];
  lineage: number[];
}

// Words that stress the tokenizer: stop words, 1-char tokens, capitals, digits, accents, final sigma, Turkish İ
// (lower-cases to i + U+0307), CJK, an astral letter (two UTF-16 units), emoji, numbers that are not digits.
const WORDS = [
  "search",
  "quantum",
  "turbulence",
  "papers",
  "boiling",
  "point",
  "water",
  "altitude",
  "the",
  "of",
  "and",
  "is",
  "x",
  "m",
  "Fahrenheit",
  "CELSIUS",
  "2000",
  "café",
  "Straße",
  "ΟΔΟΣ",
  "İstanbul",
  "東京",
  "𝐀𝐁",
  "𝐀",
  "ǅemal",
  "naïve",
  "½",
  "Ⅻ",
  "x²",
  "😀",
  "don't",
  "e-mail",
  "v1.2.3",
  "snake_case",
];
const SEPARATORS = [" ", " ", " ", ", ", "  ", "\t", "\u00a0", "/", "\n", " — "];
const TOOLS: Array<string | null> = ["search", "search", "browser", "calc", "llm", null, ""];

function generate(seed: number): { scenario: Scenario; expected: Expected } {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const sentence = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += (i > 0 ? pick(SEPARATORS) : "") + pick(WORDS);
    return s;
  };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const spec: CorridorSpec = {
    max_steps: pick([6, 12, 40, 1000]),
    max_semantic_drift: r2(0.2 + rnd() * 0.75),
    max_tool_entropy: r2(0.5 + rnd() * 1.5),
    max_latency_drift: r2(0.3 + rnd() * 2),
    max_branching_pressure: int(4),
    max_retry_ratio: r2(0.1 + rnd() * 0.4),
  };
  const tr = rnd();
  const task = tr < 0.7 ? sentence(2 + int(6)) : tr < 0.85 ? undefined : tr < 0.9 ? "" : "東京 ΟΔΟΣ café 𝐀𝐁";
  const clock: number[] = [];
  let t = 1736280000 + int(100000) + r2(rnd());
  const now = () => {
    t += rnd() * 3;
    const v = Math.round(t * 1000) / 1000;
    clock.push(v);
    return v;
  };
  const sink = new MemorySink();
  const corridor = createCorridor({ taskId: `scenario-${seed}`, spec, writer: sink, task, now });
  const ops: Op[] = [];
  const results: Result[] = [];
  const actions: string[] = [];
  // Validity as the runtime sees it, to fork only from valid steps.
  const children = new Map<number, number[]>();
  const valid = new Set<number>();
  const invalidate = (id: number) => {
    if (!valid.delete(id)) return;
    for (const c of children.get(id) ?? []) invalidate(c);
  };
  const record = (r: ReturnType<typeof corridor.step>) =>
    results.push({ step_id: r.stepId, q: r.q, corridor_status: r.corridor_status, violations: r.violations });
  const n = 5 + int(60);
  for (let i = 0; i < n && corridor.status !== "halted"; i++) {
    const x = rnd();
    const lineage = corridor.lineage();
    if (x < 0.1 && lineage.length > 1) {
      const to = lineage[int(lineage.length - 1)]!;
      for (let k = lineage.length - 1; lineage[k] !== to; k--) invalidate(lineage[k]!);
      ops.push({ op: "rewind", to });
      record(corridor.rewind(to));
      continue;
    }
    const tool = pick(TOOLS);
    let action: string;
    if (actions.length > 0 && rnd() < 0.3) {
      const again = pick(actions);
      const v = rnd();
      action = v < 0.25 ? ` ${again}` : v < 0.5 ? again.replace(" ", "  ") : v < 0.6 ? `${again}\u00a0` : again;
    } else action = `${tool ?? "think"}('${sentence(1 + int(4))}')`;
    actions.push(action);
    const observation = rnd() < 0.2 ? "" : sentence(int(12));
    const lr = rnd();
    const latency_ms = lr < 0.05 ? 0 : lr < 0.6 ? 1 + int(3000) : Math.round(rnd() * 300000) / 1000;
    const op: Op = { op: "step", action, observation, tool, latency_ms };
    let parent = corridor.headStepId;
    if (x < 0.18 && valid.size > 1) {
      const ids = [...valid];
      parent = ids[int(ids.length)]!;
      op.parent = parent;
    }
    ops.push(op);
    const r = corridor.step({
      action,
      observation,
      tool,
      latencyMs: latency_ms,
      ...(op.parent !== undefined ? { parentStepId: op.parent } : {}),
    });
    record(r);
    valid.add(r.stepId);
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), r.stepId]);
  }
  corridor.end();
  const lineage = corridor.lineage();
  return {
    scenario: {
      name: `seed-${seed}`,
      task_id: `scenario-${seed}`,
      spec,
      ...(task !== undefined ? { task } : {}),
      clock,
      ops,
    },
    expected: { text: sink.text(), results, lineage },
  };
}

/** q_metrics.md's worked examples, run by the TypeScript runtime. */
function handWritten(): Array<{ scenario: Scenario; expected: Expected }> {
  const spec: CorridorSpec = {
    max_steps: 64,
    max_semantic_drift: 0.35,
    max_tool_entropy: 2,
    max_latency_drift: 1,
    max_branching_pressure: 8,
    max_retry_ratio: 0.25,
  };
  const cases: Array<{ name: string; task?: string; ops: Op[] }> = [
    {
      name: "worked-example",
      task: "find quantum turbulence papers",
      ops: [
        { op: "step", action: "search('quantum turbulence')", observation: "", tool: "search", latency_ms: 100 },
        { op: "step", action: "search('quantum turbulence')", observation: "", tool: "search", latency_ms: 300 },
        { op: "step", action: "open('paper 1')", observation: "", tool: "browser", latency_ms: 200 },
        { op: "rewind", to: 0 },
        { op: "step", action: "open('paper 2')", observation: "turbulence", tool: "browser", latency_ms: 250 },
      ],
    },
    {
      name: "observation-drift",
      task: "quantum turbulence",
      ops: [{ op: "step", action: "search quantum", observation: "turbulence", tool: null, latency_ms: 1 }],
    },
  ];
  return cases.map((c) => {
    const clock: number[] = [];
    let t = 1736280000;
    const now = () => {
      t += 0.5;
      clock.push(t);
      return t;
    };
    const sink = new MemorySink();
    const corridor = createCorridor({ taskId: c.name, spec, writer: sink, task: c.task, now });
    const results: Result[] = c.ops.map((op) => {
      const r =
        op.op === "rewind"
          ? corridor.rewind(op.to)
          : corridor.step({ action: op.action, observation: op.observation, tool: op.tool, latencyMs: op.latency_ms });
      return { step_id: r.stepId, q: r.q, corridor_status: r.corridor_status, violations: r.violations };
    });
    corridor.end();
    return {
      scenario: {
        name: c.name,
        task_id: c.name,
        spec,
        ...(c.task !== undefined ? { task: c.task } : {}),
        clock,
        ops: c.ops,
      },
      expected: { text: sink.text(), results, lineage: corridor.lineage() },
    };
  });
}

function randomDoubles(rnd: () => number, n: number): number[] {
  const out = [0, 1, -1, 0.1, 1e21, 1e-7, 1e-6, 123e-20, 2 ** 53, 2 ** 60, 5e-324, Number.MAX_VALUE, 1736280002.551];
  const view = new DataView(new ArrayBuffer(8));
  while (out.length < n) {
    if (rnd() < 0.5) {
      // Any bit pattern that is a finite double.
      view.setUint32(0, Math.floor(rnd() * 2 ** 32));
      view.setUint32(4, Math.floor(rnd() * 2 ** 32));
      const x = view.getFloat64(0);
      if (Number.isFinite(x)) out.push(x);
    } else {
      // Around the exponent-form boundaries and at 6 decimals (what q events hold).
      const e = Math.floor(rnd() * 60) - 30;
      out.push(rnd() < 0.5 ? Math.round(rnd() * 1e6) / 1e6 : (rnd() - 0.5) * 10 ** e);
    }
  }
  return out;
}

function randomStrings(rnd: () => number, n: number): string[] {
  const pieces = [
    "a",
    "é",
    '"',
    "\\",
    "/",
    "\n",
    "\t",
    "\u0000",
    "\u001f",
    "\u007f",
    "\u2028",
    "😀",
    "\ud800",
    "\udfff",
    "𝐀",
    " ",
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = "";
    const len = Math.floor(rnd() * 12);
    for (let k = 0; k < len; k++) s += pieces[Math.floor(rnd() * pieces.length)];
    out.push(s);
  }
  return out;
}

const qOf = (events: CTFEvent[]) =>
  events.filter((e): e is Extract<CTFEvent, { type: "q" }> => e.type === "q").map((e) => e.step_id);

describe.skipIf(pythonMissing !== undefined)("Python CTF (rtt_sdk) against @rtt/ctf", () => {
  it("computes the same Q-metrics and statuses and writes the same bytes (cross-language)", {
    timeout: 120_000,
  }, async () => {
    const generated = Array.from({ length: 150 }, (_, i) => generate(1000 + i));
    const all = [...handWritten(), ...generated];
    const traces: Record<string, string> = {
      ...Object.fromEntries(all.map((g) => [g.scenario.name, g.expected.text])),
      flaky: readFileSync(join(ROOT, "examples/agent/traces/boiling-point-flaky.ctf"), "utf8"),
      steady: readFileSync(join(ROOT, "examples/agent/traces/boiling-point-steady.ctf"), "utf8"),
    };
    const rnd = seededRandom(7);
    const numbers = randomDoubles(rnd, 5000);
    const strings = randomStrings(rnd, 2000);
    const job = { scenarios: all.map((g) => g.scenario), traces, numbers, strings };
    const r = await runPython([join(SDK_PY, "tests", "ctf_crosslang.py")], {
      input: JSON.stringify(job),
      timeoutMs: 110_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      scenarios: Record<string, Expected>;
      computed: Record<string, Array<Exclude<Result, { error: string }> & { after: string }>>;
      numbers: string[];
      strings: string[];
    };

    let metrics = 0;
    let maxDiff = 0;
    let statuses = 0;
    const kinds = new Set<string>();
    const compare = (where: string, ts: Result, py: Result) => {
      expect("error" in py, `${where}: ${JSON.stringify(py)}`).toBe("error" in ts);
      if ("error" in ts || "error" in py) return;
      expect(py.step_id, where).toBe(ts.step_id);
      for (const m of Q_METRICS) {
        const d = Math.abs(py.q[m] - ts.q[m]);
        maxDiff = Math.max(maxDiff, d);
        expect(d, `${where} ${m}: python ${py.q[m]}, typescript ${ts.q[m]}`).toBeLessThanOrEqual(1e-9);
        metrics++;
      }
      expect([py.corridor_status, py.violations], where).toEqual([ts.corridor_status, ts.violations]);
      kinds.add(ts.corridor_status);
      statuses++;
    };
    for (const g of all) {
      const py = out.scenarios[g.scenario.name]!;
      expect(py.results.length, g.scenario.name).toBe(g.expected.results.length);
      for (const [i, ts] of g.expected.results.entries()) compare(`${g.scenario.name} op ${i}`, ts, py.results[i]!);
      expect(py.lineage, g.scenario.name).toEqual(g.expected.lineage);
      expect(py.text, `${g.scenario.name}: the trace written`).toBe(g.expected.text);
    }
    // Computed on read (compute_q) gives what the TypeScript runtime wrote, for the generated and the example traces.
    for (const [name, text] of Object.entries(traces)) {
      const events = text
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l) as CTFEvent);
      const written = events.filter((e) => e.type === "q" || e.type === "status");
      const computed = out.computed[name]!;
      expect(
        computed.map((c) => c.step_id),
        name,
      ).toEqual(qOf(events));
      computed.forEach((c, i) => {
        const q = written[2 * i] as Extract<CTFEvent, { type: "q" }>;
        const s = written[2 * i + 1] as Extract<CTFEvent, { type: "status" }>;
        compare(
          `${name} computed ${i}`,
          { step_id: q.step_id, q, corridor_status: s.corridor_status, violations: s.violations },
          c,
        );
      });
    }
    expect(out.numbers).toEqual(numbers.map((x) => JSON.stringify(x)));
    expect(out.strings).toEqual(strings.map((s) => JSON.stringify(s)));
    // The scenarios reach every rung of the ladder.
    expect([...kinds].sort()).toEqual(["critical", "halted", "stable", "warning"]);
    console.log(
      `cross-language CTF: ${all.length} scenarios + 2 example traces, ${metrics} Q-metric values and ${statuses} statuses compared, max |python − typescript| = ${maxDiff}; ${numbers.length} numbers and ${strings.length} strings encoded identically`,
    );
  });
});

describe.skipIf(pythonMissing !== undefined)("Python CTF (rtt_sdk) against rtt serve", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      db: ":memory:",
      port: 0,
      token: TOKEN,
      readToken: READ_TOKEN,
      logLevel: "silent",
      sessionOutput: null,
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  const env = () => ({ RTT_URL: server.url, RTT_TOKEN: TOKEN, RTT_READ_TOKEN: READ_TOKEN });
  const raw = async (id: string) => {
    const res = await fetch(`${server.url}/ctf/${id}/raw`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it("passes the SDK's CTF suite: upload, append, live producer and acks over its own WebSocket client", {
    timeout: 90_000,
  }, async () => {
    const r = await runPython(["-m", "unittest", "-v", "test_ctf"], {
      cwd: join(SDK_PY, "tests"),
      env: env(),
      timeoutMs: 80_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\nOK\b/);
    expect(r.stderr, "a test was skipped").not.toMatch(/skipped/);
    // Every trace the SDK stored validates with no issue: its metrics recompute exactly (no q_mismatch).
    const list = (await (
      await fetch(`${server.url}/ctf`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })
    ).json()) as { traces: Array<{ id: string; complete: boolean }> };
    const complete = list.traces.filter((t) => t.complete && t.id.startsWith("py-"));
    expect(complete.length).toBeGreaterThanOrEqual(5);
    for (const t of complete) expect(validateCTFText(await raw(t.id)).issues, t.id).toEqual([]);
  });

  it("runs the seed's stream_trace_update (verbatim) against the live socket", { timeout: 60_000 }, async () => {
    const id = `seed-003-live-vitest-${process.pid}`;
    const r = await runPython(["-m", "unittest", "-v", "test_seeds.SeedSnippetTests.test_seed_003_live"], {
      cwd: join(SDK_PY, "tests"),
      env: { ...env(), RTT_CTF_SEED_TRACE: id },
      timeoutMs: 50_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\nOK\b/);
    const text = await raw(id);
    expect(validateCTFText(text).issues).toEqual([]);
    // The updates were stored as q and status events after each step, with the runtime's own numbers.
    const types = text
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as CTFEvent).type);
    expect(types).toEqual(["header", ...Array(4).fill(["step", "q", "status"]).flat(), "footer"]);
  });
});

// A deterministic example agent: no network, no model. It answers a small question with simulated
// tools (search, browser, calculator), gets distracted, retries flaky tools, notices the drift through
// the corridor runtime's own status and rewinds — producing a realistic Corridor Trace File.
import { seededRandom } from "@rtt/core";
import { createCorridor } from "@rtt/ctf";

export const TASK = "find the boiling point of water at 2000 m altitude and give it in fahrenheit";

export const SPEC = {
  max_steps: 32,
  max_semantic_drift: 0.8,
  max_tool_entropy: 2.0,
  max_latency_drift: 1.5,
  max_branching_pressure: 3,
  max_retry_ratio: 0.25,
};

/** The simulated web: what the search tool finds and the browser reads. */
const PAGES = {
  "https://physics.example/boiling-point-altitude":
    "Water boils at about 93.4 °C at 2000 m altitude because air pressure is lower. See also: altitude sickness.",
  "https://health.example/altitude-sickness":
    "Altitude sickness symptoms: headache, nausea, dizziness. Acclimatise slowly above 2500 m.",
};
const SEARCH = [
  { words: ["boiling", "water", "altitude"], url: "https://physics.example/boiling-point-altitude" },
  { words: ["sickness", "symptoms"], url: "https://health.example/altitude-sickness" },
];

/** Arithmetic for the calculator tool: numbers, + - * / and parentheses (no eval). */
export function calculate(expr) {
  let i = 0;
  const peek = () => expr[i];
  const skip = () => {
    while (expr[i] === " ") i++;
  };
  const num = () => {
    skip();
    if (peek() === "(") {
      i++;
      const v = sum();
      skip();
      if (expr[i++] !== ")") throw new Error(`calculator: expected ) at ${i}`);
      return v;
    }
    const m = /^-?\d+(\.\d+)?/.exec(expr.slice(i));
    if (!m) throw new Error(`calculator: number expected at ${i} in ${expr}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const product = () => {
    let v = num();
    for (skip(); peek() === "*" || peek() === "/"; skip()) v = expr[i++] === "*" ? v * num() : v / num();
    return v;
  };
  const sum = () => {
    let v = product();
    for (skip(); peek() === "+" || peek() === "-"; skip()) v = expr[i++] === "+" ? v + product() : v - product();
    return v;
  };
  const v = sum();
  skip();
  if (i !== expr.length) throw new Error(`calculator: unexpected ${expr.slice(i)}`);
  return v;
}

/**
 * Scenarios: "steady" (one distraction, caught and rewound) and "flaky" (the search tool times out
 * twice, pages load slowly, and the agent wanders further before rewinding).
 */
export const SCENARIOS = {
  steady: { seed: 7, timeouts: 0, slowBrowser: false, detours: 1 },
  flaky: { seed: 11, timeouts: 2, slowBrowser: true, detours: 2 },
};

/** Runs the agent on `writer` (any CTF sink). Returns the final corridor status. */
export function runAgent({ writer, scenario = "steady", start = 1736280000 }) {
  const cfg = SCENARIOS[scenario];
  if (!cfg) throw new Error(`unknown scenario ${scenario}: ${Object.keys(SCENARIOS).join(", ")}`);
  const rnd = seededRandom(cfg.seed); // latencies look organic yet are identical on every run
  let clock = start;
  const now = () => Math.round(clock * 1000) / 1000;
  const corridor = createCorridor({ taskId: `boiling-point-${scenario}`, spec: SPEC, task: TASK, writer, now });
  let timeoutsLeft = cfg.timeouts;

  /** Executes a tool call against the simulated world, advancing the clock by its latency. */
  const act = (tool, arg) => {
    let latency = 200 + Math.floor(rnd() * 150);
    let observation;
    if (tool === "search") {
      if (timeoutsLeft > 0) {
        timeoutsLeft--;
        latency = 3000;
        observation = "error: search timed out after 3000 ms";
      } else {
        const words = arg.toLowerCase().split(/\W+/);
        const hits = SEARCH.filter((d) => d.words.some((w) => words.includes(w))).map((d) => d.url);
        observation = hits.length ? `results: ${hits.join(", ")}` : "results: none";
      }
    } else if (tool === "browser") {
      if (cfg.slowBrowser) latency += 900;
      observation = PAGES[arg] ?? "404 not found";
    } else if (tool === "convert") {
      // "93.4 celsius to fahrenheit": a unit converter built on the calculator.
      const c = Number.parseFloat(arg);
      observation = `${Math.round(calculate(`${c} * 9 / 5 + 32`) * 100) / 100} fahrenheit`;
    } else {
      observation = arg;
    }
    clock += latency / 1000;
    const r = corridor.step({ action: tool ? `${tool}('${arg}')` : arg, observation, tool, latencyMs: latency });
    clock += 0.05 + rnd() * 0.1; // thinking time between steps
    return { ...r, observation };
  };

  // 1. Search until the tool answers (identical retries are what retry_ratio measures).
  let found = act("search", "boiling point of water at altitude");
  while (found.observation.startsWith("error")) found = act("search", "boiling point of water at altitude");
  const url = found.observation.replace("results: ", "").split(", ")[0];
  const page = act("browser", url);

  // 2. The page mentions altitude sickness; the agent follows it (the drift the corridor should catch).
  let lastGood = page.stepId;
  const detours = [
    ["search", "altitude sickness symptoms"],
    ["browser", "https://health.example/altitude-sickness"],
    ["search", "how to acclimatise to high mountains"],
  ].slice(0, cfg.detours + 1);
  for (const [tool, arg] of detours) {
    const r = act(tool, arg);
    if (r.violations.includes("semantic_drift")) {
      // The corridor says the agent left the task: snap back to the last on-task step.
      corridor.rewind(lastGood);
      clock += 0.02;
      break;
    }
    if (r.corridor_status === "stable") lastGood = r.stepId;
  }

  // 3. Back on task: extract the number, convert, answer.
  const celsius = /about ([\d.]+) °C/.exec(page.observation)?.[1] ?? "93.4";
  const f = act("convert", `${celsius} celsius to fahrenheit`);
  act(null, `answer: water boils at about ${celsius} °C (${f.observation}) at 2000 m altitude`);
  return corridor.end();
}

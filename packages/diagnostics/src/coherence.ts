/**
 * Coherence validation (POST /api/rtt/validate) of the payload build_validate_payload makes.
 * Documented in docs/api/rtt/validate.md. The model:
 *
 * - The service graph is the declared flows (from → to). system_map.services is the declared
 *   inventory; when present, every service a flow or constraint names must be in it.
 * - Every check below is one unit of the score: score = passed / total (1 when there is nothing to
 *   check). `coherent` is true when no check failed at severity "error"; warnings lower the score
 *   without breaking coherence.
 *
 * Checks:
 *   known_endpoint   (error)   each flow endpoint is a declared service           (2 per flow)
 *   reachable        (warning) each declared service is reached from an entrypoint (1 per service)
 *   acyclic          (warning, error with a no_cycles constraint) flows form no cycle (1)
 *   constraints      (error)   each constraint holds                              (1 per constraint)
 *
 * Size and work are bounded (limits.ts): a graph over MAX_NODES / MAX_EDGES is a 413, path constraints
 * share one WorkBudget, and the answer carries at most MAX_FINDINGS findings with long paths elided.
 */

import type { Finding, ValidatePayload, ValidateResult, Constraint as WireConstraint } from "@rtt/sdk";
import { Digraph, isCyclic, PathQueries, reachableFrom, stronglyConnectedComponents, witnessCycle } from "./graph.js";
import { capFindings, capSubjects, checkCount, describePath, MAX_EDGES, MAX_NODES, WorkBudget } from "./limits.js";

/** Witness cycles spelled out in the `cycle` finding; the rest are counted. */
const CYCLES_LISTED = 5;

// Request and response shapes are the SDK's (the wire contract of /api/rtt); the server fills the responses.
export type { Finding, ValidateResult };

export type ConstraintType = WireConstraint["type"];

type Fields<T extends ConstraintType> = Partial<Omit<Extract<WireConstraint, { type: T }>, "type">>;

/**
 * A constraint as the checks read it: the SDK's union flattened, every field optional (spec/beacon's schema has
 * already required the fields each type needs).
 */
export type Constraint = { type: ConstraintType } & Fields<"max_hops"> & Fields<"latency_budget_ms">;

/** The SDK's ValidatePayload as the schema admits it: `flows` and `constraints` may be left out. */
export interface ValidateRequest extends Omit<ValidatePayload, "flows" | "constraints"> {
  flows?: ValidatePayload["flows"];
  constraints?: Constraint[];
}

export function validateCoherence(req: ValidateRequest): ValidateResult {
  preflightValidate(req);
  const flows = req.flows ?? [];
  const constraints = req.constraints ?? [];
  const declared = req.system_map.services;
  /** Declared service → the index it is first declared at (findings point there). */
  const known = declared ? new Map<string, number>() : undefined;
  const findings: Finding[] = [];
  let checks = 0;
  let passed = 0;
  const check = (ok: boolean, finding: () => Finding) => {
    checks++;
    if (ok) passed++;
    else findings.push(finding());
  };

  if (declared && known) {
    declared.forEach((s, i) => {
      if (known.has(s)) {
        findings.push({
          severity: "info",
          code: "duplicate_service",
          message: `service ${s} is declared twice`,
          path: `/system_map/services/${i}`,
        });
      } else known.set(s, i);
    });
  } else {
    findings.push({
      severity: "info",
      code: "no_inventory",
      message: "system_map.services is absent: services are taken from the flows and names are not checked",
      path: "/system_map",
    });
  }

  const g = new Digraph();
  for (const s of declared ?? []) g.addNode(s);
  flows.forEach((f, i) => {
    for (const end of ["from", "to"] as const) {
      check(!known || known.has(f[end]), () => ({
        severity: "error",
        code: "unknown_service",
        message: `flow ${i} ${end} names ${f[end]}, which system_map.services does not declare`,
        path: `/flows/${i}/${end}`,
        subjects: [f[end]],
      }));
    }
    g.addEdge(f.from, f.to, f.latency_ms);
  });
  checkCount(
    "validate",
    known && known.size > MAX_NODES ? "/system_map/services" : "/flows",
    g.nodeCount,
    "services",
    MAX_NODES,
  );

  // Reachability only means something once flows exist; with none we say so instead of flagging
  // every service (the seeds' first payloads have `flows: []`).
  if (flows.length === 0) {
    findings.push({
      severity: "info",
      code: "no_flows",
      message: "no flows declared: reachability and cycles not assessed",
      path: "/flows",
    });
  } else {
    const entry = entrypoints(g, req.system_map.entrypoints);
    const reached = reachableFrom(g, entry);
    for (const s of declared ?? g.nodes()) {
      check(reached.has(s), () => ({
        severity: "warning",
        code: "unreachable_service",
        message:
          g.inDegree(s) + g.outDegree(s) === 0
            ? `service ${s} takes part in no flow`
            : `service ${s} cannot be reached from any entrypoint (${entry.join(", ") || "none"})`,
        path: known ? `/system_map/services/${known.get(s)}` : "/flows",
        subjects: [s],
      }));
    }
    const strict = constraints.some((c) => c.type === "no_cycles");
    const cyclic = stronglyConnectedComponents(g).filter((c) => isCyclic(g, c));
    check(cyclic.length === 0, () => {
      const listed = cyclic.slice(0, CYCLES_LISTED).map((c) => describePath(witnessCycle(g, c)));
      if (cyclic.length > CYCLES_LISTED) listed.push(`… and ${cyclic.length - CYCLES_LISTED} more`);
      return {
        severity: strict ? "error" : "warning",
        code: "cycle",
        message: `flows form ${cyclic.length} cycle(s): ${listed.join("; ")}`,
        path: "/flows",
        ...capSubjects(cyclic.flat()),
      };
    });
  }

  const work = new WorkBudget();
  const queries = new PathQueries(g, work);
  const undeclared = (c: Constraint) =>
    known ? [c.from, c.to].filter((s): s is string => s !== undefined && !known.has(s)) : [];
  // Evaluated grouped by source, so a source named by many constraints is searched once; reported in order.
  const groupOf = (c: Constraint) => {
    const kind = pathKind(c);
    return kind === undefined || undeclared(c).length > 0 ? "" : `${kind}\u0000${c.from}`;
  };
  const results = new Array<ReturnType<typeof evaluateConstraint> | undefined>(constraints.length);
  const groups = constraints.map(groupOf);
  constraints.forEach((c, i) => {
    if (groups[i] !== "") queries.plan(pathKind(c)!, c.from!);
  });
  const evaluation = [...constraints.keys()].sort((a, b) =>
    groups[a]! < groups[b]! ? -1 : groups[a]! > groups[b]! ? 1 : a - b,
  );
  for (const i of evaluation) {
    const c = constraints[i]!;
    if (c.type === "no_cycles" || undeclared(c).length > 0) continue;
    work.at = i;
    results[i] = evaluateConstraint(g, c, queries);
  }

  constraints.forEach((c, i) => {
    if (c.type === "no_cycles") return; // folded into the acyclic check above
    const path = `/constraints/${i}`;
    const named = [c.from, c.to].filter((s): s is string => s !== undefined);
    const unknown = undeclared(c);
    if (unknown.length > 0) {
      check(false, () => ({
        severity: "error",
        code: "unknown_service",
        message: `constraint ${i} (${c.type}) names undeclared service(s): ${unknown.join(", ")}`,
        path,
        subjects: unknown,
      }));
      return;
    }
    const result = results[i]!;
    check(result.ok, () => ({
      severity: "error",
      code: `constraint_${c.type}`,
      message: `constraint ${i}: ${result.message}`,
      path,
      subjects: named,
    }));
    if (result.ok && result.note)
      findings.push({
        severity: "info",
        code: `constraint_${c.type}`,
        message: `constraint ${i}: ${result.note}`,
        path,
      });
  });

  const errors = findings.filter((f) => f.severity === "error").length;
  return {
    status: "ok",
    coherent: errors === 0,
    score: checks === 0 ? 1 : Math.round((passed / checks) * 1000) / 1000,
    ...capFindings(findings),
    summary: {
      services: known ? known.size : g.nodeCount,
      flows: flows.length,
      constraints: constraints.length,
      checks,
      passed,
    },
  };
}

/**
 * The size limits, checked before schema validation so an oversized body is a 413 naming its size rather
 * than a 400 from the schema's maxItems (which stays as the contract's backstop). Malformed shapes are
 * left to the schema.
 */
export function preflightValidate(body: unknown): void {
  const b = body as { flows?: unknown; system_map?: { services?: unknown } } | null;
  if (Array.isArray(b?.flows)) checkCount("validate", "/flows", b.flows.length, "edges", MAX_EDGES);
  const services = b?.system_map?.services;
  if (Array.isArray(services)) checkCount("validate", "/system_map/services", services.length, "services", MAX_NODES);
}

/** Which search a constraint needs, if any. */
function pathKind(c: Constraint): "hops" | "latency" | undefined {
  if (c.type === "no_path" || c.type === "requires" || c.type === "max_hops") return "hops";
  if (c.type === "latency_budget_ms" && c.from !== undefined && c.to !== undefined) return "latency";
  return undefined;
}

/** Declared entrypoints, else every service nobody calls (sources). A pure cycle has none. */
function entrypoints(g: Digraph, declared: string[] | undefined): string[] {
  if (declared && declared.length > 0) return declared;
  return g.nodes().filter((n) => g.inDegree(n) === 0 && g.outDegree(n) > 0);
}

/**
 * The constraint language (docs/api/rtt/validate.md):
 *   no_path {from,to}               to must NOT be reachable from from
 *   requires {from,to}              to must be reachable from from (directly or transitively)
 *   max_hops {from,to,max}          a path exists with at most max hops
 *   latency_budget_ms {from,to,budget_ms}  the lowest-latency path fits the budget; without from/to
 *                                   the constraint only feeds /corridor and always holds here
 *   no_cycles {}                    the flows form no cycle (cycles become errors)
 */
export function evaluateConstraint(
  g: Digraph,
  c: Constraint,
  queries = new PathQueries(g),
): { ok: boolean; message: string; note?: string } {
  const from = c.from ?? "";
  const to = c.to ?? "";
  switch (c.type) {
    case "no_path": {
      const p = queries.hops(from, to);
      return p
        ? { ok: false, message: `${to} is reachable from ${from} via ${describePath(p)}` }
        : { ok: true, message: "" };
    }
    case "requires": {
      const p = queries.hops(from, to);
      return p
        ? { ok: true, message: "" }
        : { ok: false, message: `${from} requires ${to} but no flow path leads there` };
    }
    case "max_hops": {
      const p = queries.hops(from, to);
      if (!p) return { ok: false, message: `no path from ${from} to ${to} (max_hops ${c.max})` };
      const hops = p.length - 1;
      return hops <= c.max!
        ? { ok: true, message: "" }
        : { ok: false, message: `shortest path ${describePath(p)} has ${hops} hops, more than ${c.max}` };
    }
    case "latency_budget_ms": {
      if (c.from === undefined || c.to === undefined)
        return { ok: true, message: "", note: "global budget: applies to /corridor only" };
      const p = queries.latency(from, to);
      if (!p) return { ok: false, message: `no path from ${from} to ${to} to fit in ${c.budget_ms} ms` };
      const lower = p.unknownEdges > 0 ? ` (lower bound: ${p.unknownEdges} hop(s) without latency_ms)` : "";
      return p.latencyMs <= c.budget_ms!
        ? { ok: true, message: "", note: lower ? `fits at ${p.latencyMs} ms${lower}` : undefined }
        : {
            ok: false,
            message: `fastest path ${describePath(p.path)} takes ${p.latencyMs} ms, over the ${c.budget_ms} ms budget${lower}`,
          };
    }
    case "no_cycles":
      return { ok: true, message: "" };
  }
}

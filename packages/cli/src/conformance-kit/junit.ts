import type { ConformanceReport } from "./harness.js";

const esc = (s: string) =>
  s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters, so they are dropped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

/** JUnit XML of a run: one <testcase> per case; failures carry the message, details and stderr. */
export function toJUnit(report: ConformanceReport, suiteName = "rtt-conformance"): string {
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const failures = report.results.filter((r) => r.status === "fail").length;
  const skipped = report.results.filter((r) => r.status === "skip").length;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rtt conformance" tests="${report.results.length}" failures="${failures}" skipped="${skipped}" time="${secs(report.durationMs)}">`,
    `  <testsuite name="${esc(suiteName)}" tests="${report.results.length}" failures="${failures}" skipped="${skipped}" time="${secs(report.durationMs)}">`,
    `    <properties><property name="command" value="${esc(report.command.join(" "))}"/></properties>`,
  ];
  for (const r of report.results) {
    const open = `    <testcase classname="${esc(suiteName)}" name="${esc(r.id)}" time="${secs(r.durationMs)}"`;
    if (r.status === "pass") {
      out.push(`${open}/>`);
      continue;
    }
    out.push(`${open}>`);
    if (r.status === "skip") out.push(`      <skipped message="${esc(r.message ?? "")}"/>`);
    else {
      const body = [r.path !== undefined ? `at ${r.path || "/"}` : "", ...r.details].filter(Boolean).join("\n");
      out.push(`      <failure message="${esc(r.message ?? "failed")}">${esc(body)}</failure>`);
    }
    if (r.stderr) out.push(`      <system-err>${esc(r.stderr)}</system-err>`);
    out.push("    </testcase>");
  }
  out.push("  </testsuite>", "</testsuites>", "");
  return out.join("\n");
}

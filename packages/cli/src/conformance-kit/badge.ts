import type { SpecVersion } from "@rtt/core";

/** The Markdown badge of spec/v1/conformance_badge.md for a spec version. */
export function badgeMarkdown(version: SpecVersion): string {
  return `![RTT-Inside Compatible ${version}](https://img.shields.io/badge/RTT--Inside-Compatible%20${version}-brightgreen)`;
}

/** The text badge (seed §12.2). */
export function badgeText(version: SpecVersion): string {
  return `RTT-Inside Compatible ${version}`;
}

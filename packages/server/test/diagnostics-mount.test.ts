// How `rtt serve`'s app mounts @rtt/diagnostics: on the store it opens beside the sessions, with its settings.
import { MAX_SITE_SERIES_DEFAULT } from "@rtt/diagnostics";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../src/config.js";
import { openDiagnosticsStore } from "../src/store/open.js";
import { testApp } from "./support/app.js";

const beacon = (site: string) => ({
  site,
  session: "s",
  event: "heartbeat",
  ts: "2026-01-19T15:00:00Z",
  structure: { url: "u", title: "t", nav_count: 0, main_count: 0, form_count: 0, button_count: 0, dom_nodes: 0 },
});

describe("the app mounts the diagnostics API", () => {
  it("passes maxSiteSeries to it", async () => {
    const diagnostics = await openDiagnosticsStore(":memory:");
    const t = await testApp({ diagnostics: diagnostics.store, maxSiteSeries: 1 });
    try {
      for (const site of ["a-1", "a-2", "a-3"]) {
        const r = await t.app.inject({ method: "POST", url: "/api/rtt/beacon", payload: beacon(site) });
        expect(r.statusCode).toBe(200);
      }
      const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(text).toContain('rtt_beacons_total{service="a-1",event="heartbeat"} 1');
      expect(text).toContain('rtt_beacons_total{service="other",event="heartbeat"} 2');
      expect(text).not.toContain('service="a-2"');
    } finally {
      await t.close();
      await diagnostics.close();
    }
  });

  it("`rtt serve`'s default cap is the one the plugin documents for embedders", () => {
    expect(DEFAULTS.maxSiteSeries).toBe(MAX_SITE_SERIES_DEFAULT);
  });
});

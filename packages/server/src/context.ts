import type { IngestService } from "./ingest/service.js";
import type { Metrics } from "./metrics.js";
import type { ReplayCache } from "./replay/cache.js";
import type { StreamRegistry } from "./replay/streams.js";
import type { SelfCheckMonitor } from "./self-check.js";
import type { SessionStore } from "./store/types.js";

/** What route modules share; built once per server by `buildApp`. */
export interface AppContext {
  store: SessionStore;
  ingest: IngestService;
  metrics: Metrics;
  selfCheckMonitor: SelfCheckMonitor;
  cache: ReplayCache;
  streams: StreamRegistry;
  /** `rtt serve --strict`: a session with warnings is refused (400) instead of accepted with them. */
  strict: boolean;
}

import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { noteRoutes } from "./notes.js";
import { replayRoutes } from "./routes.js";
import { sseRoutes } from "./sse.js";

/**
 * Replay: the session list and facets, a session's segments, events and columns, the SSE stream, the export,
 * curriculum evaluation and instructor notes — every route under /replay/.
 */
export async function replayPlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  replayRoutes(app, ctx);
  sseRoutes(app, ctx);
  noteRoutes(app, ctx);
}

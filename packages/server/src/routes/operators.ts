import { httpError, NO_QUERY } from "@rtt/http";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";

/** Operators and their mastery progression (GET /api/operators, /api/operators/{id}/mastery). */
export function operatorRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get("/api/operators", { schema: NO_QUERY }, async () => ctx.store.listOperators());

  app.get<{ Params: { operator_id: string } }>(
    "/api/operators/:operator_id/mastery",
    { schema: NO_QUERY },
    async (req) => {
      const op = await ctx.store.getOperator(req.params.operator_id);
      if (!op) throw httpError("RTT_ERR_NOT_FOUND", `operator ${JSON.stringify(req.params.operator_id)} not found`);
      return ctx.store.masteryHistory(req.params.operator_id);
    },
  );
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import { httpError } from "@rtt/http";
import type { FastifyInstance } from "fastify";

/** API prefixes never answered with the web UI's index.html. */
const API_PREFIXES = [
  "/replay/",
  "/api/",
  "/sessions",
  "/run",
  "/validate",
  "/healthz",
  "/metrics",
  "/ctf",
  "/diagnostics",
  "/fabric/",
];

/** packages/web/dist beside this package (works from src/ under Vitest and from dist/). */
export function defaultWebDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "dist");
}

/**
 * Serves the built web UI at / when it exists; unknown non-API GETs from a browser get index.html so
 * client-side routes are shareable URLs. Everything else unknown is a JSON 404.
 */
export async function registerStatic(app: FastifyInstance, webDir: string | undefined): Promise<boolean> {
  const dir = webDir ?? defaultWebDir();
  const indexPath = join(dir, "index.html");
  const hasUi = existsSync(indexPath);
  if (hasUi)
    await app.register(async (scope) => {
      // The UI's files hold no data: they load without a token, and the UI then asks for one (guard.ts).
      scope.addHook("onRoute", (route) => {
        route.config = { ...route.config, access: "public" };
      });
      await scope.register(fastifyStatic, { root: dir, prefix: "/", wildcard: true, index: ["index.html"] });
    });
  else
    app.get("/", { config: { access: "public" } }, async () => ({
      name: "rtt",
      message: "the web UI is not built (npm run build); the API is available",
      endpoints: [
        "/healthz",
        "/metrics",
        "/run",
        "/run/v2",
        "/validate",
        "/sessions",
        "/replay/sessions",
        "/api/operators",
      ],
    }));

  app.setNotFoundHandler((req, reply) => {
    const [path = ""] = req.url.split("?", 1);
    const wantsHtml = String(req.headers.accept ?? "").includes("text/html");
    if (
      hasUi &&
      (req.method === "GET" || req.method === "HEAD") &&
      wantsHtml &&
      !API_PREFIXES.some((p) => path.startsWith(p))
    )
      return reply.type("text/html; charset=utf-8").send(readFileSync(indexPath));
    return reply
      .code(404)
      .send(httpError("RTT_ERR_NO_ROUTE", `no route for ${req.method} ${path.slice(0, 200)}`).body());
  });
  return hasUi;
}

# syntax=docker/dockerfile:1
# RTT server image, under the seed's tag: `docker build -t rtt-runner:local .` then
#   docker run -p 8080:8080 -v rtt-data:/data -v "$PWD/rtt-token:/run/secrets/rtt_token:ro" rtt-runner:local
#   curl -X POST http://localhost:8080/run     # the seed's check: compute-only, no token (nothing stored)
# A non-loopback listener needs a bearer token (`--token-file`) for what stores or reads sessions; see
# docs/security.md and docs/observability.md.

# ---- build: compile the monorepo (better-sqlite3 builds from source, so it needs python3, make, g++) ----
FROM node:20.19-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first, so `npm ci` stays cached until a dependency changes.
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY packages/ctf/package.json packages/ctf/
COPY packages/sdk/package.json packages/sdk/
COPY packages/http/package.json packages/http/
COPY packages/diagnostics/package.json packages/diagnostics/
COPY packages/shm/package.json packages/shm/
# @rtt/shm is an N-API addon that npm ci compiles (node-gyp): its sources must be there before the install.
COPY packages/shm/binding.gyp packages/shm/
COPY packages/shm/src/shm.c packages/shm/src/
COPY packages/fabric/package.json packages/fabric/
COPY packages/server/package.json packages/server/
COPY packages/cli/package.json packages/cli/
COPY packages/web/package.json packages/web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: only what `rtt serve` needs, running as the unprivileged `node` user ----
FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/packages ./packages
COPY --from=build --chown=root:root /app/spec ./spec
RUN mkdir -p /data /var/log/rtt-runner && chown node:node /data /var/log/rtt-runner
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "packages/cli/dist/bin/rtt.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--db", "/data/rtt.db", "--token-file", "/run/secrets/rtt_token"]

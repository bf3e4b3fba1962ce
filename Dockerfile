# syntax=docker/dockerfile:1
# Ingest service image: one image, three roles (compose/k8s pick the command):
#   API     node dist/src/main.js               (default CMD, port 3000, /health/live)
#   worker  node dist/src/worker.js             (health on WORKER_PORT, default 3001)
#   migrate node dist/src/database/migrate.js   (one-shot)
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node: the CPU binary ships in the npm tarball; never download the CUDA one.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_onnxruntime_node_install=skip \
    npm_config_update_notifier=false
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.app.json nest-cli.json ./
COPY src ./src
# The service only: tsconfig.app.json (rootDir ./) -> dist/src/...; the benches that
# `npm run build` also compiles are for local use and never enter the image.
RUN node_modules/.bin/tsc -p tsconfig.app.json \
 && test -f dist/src/main.js && test -f dist/src/worker.js && test -f dist/src/database/migrate.js \
 && test ! -e dist/bench
RUN --mount=type=cache,target=/root/.npm \
    npm prune --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
# AUTH_REQUIRED: the API refuses to start without ADMIN_API_KEY (or a stored admin key); never open mode.
ENV NODE_ENV=production \
    PORT=3000 \
    AUTH_REQUIRED=true
WORKDIR /app
# Files stay root-owned (read-only for the app); the process runs as the image's non-root "node" user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER node
EXPOSE 3000
# No curl in the slim image: probe with node's built-in fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]

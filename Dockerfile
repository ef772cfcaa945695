# syntax=docker/dockerfile:1
# The Cactus server: the Remix build and the server entry bundled beside it
# (`npm run build` → build/index.js, build/server.js), run by plain node.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    CACTUS_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
# The embedded PostgreSQL (used when DATABASE_URL is unset) refuses to run as root,
# and the server needs nothing root can do.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no npm wrapper), so SIGTERM reaches the server's drain. The
# flag is npm start's: a small young generation keeps an upload's garbage from
# inflating the server's memory (docs/decisions/010-server-memory.md).
CMD ["node", "--max-semi-space-size=1", "build/server.js"]

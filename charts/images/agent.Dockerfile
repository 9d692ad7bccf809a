# syntax=docker/dockerfile:1
# The Flotilla agent image. Build context: the repository root.
#   docker build -f charts/images/agent.Dockerfile -t flotilla-agent .
# charts/images/check-build-steps.sh runs the same npm steps without Docker.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first so that the dependency layer is cached across source changes. npm ci needs every
# workspace's package.json to match the lock file.
COPY package.json package-lock.json nx.json tsconfig.base.json ./
COPY proto/package.json proto/
COPY hub/package.json hub/
COPY agent/package.json agent/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund
COPY proto proto
COPY agent agent
RUN npm run build --workspace=proto --workspace=agent

FROM node:20-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY hub/package.json hub/
COPY agent/package.json agent/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace=agent --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies --chown=root:root /app ./
COPY --from=build --chown=root:root /app/proto/dist proto/dist
COPY --from=build --chown=root:root /app/agent/dist agent/dist
# Owned by root and read-only to the process; the chart also mounts the root FS read-only.
USER 10001:10001
# State (FLOTILLA_STATE_DIR) lives on a mounted volume; the probe server listens on FLOTILLA_PROBE_PORT.
ENV FLOTILLA_STATE_DIR=/var/lib/flotilla
CMD ["node", "agent/dist/main.js"]

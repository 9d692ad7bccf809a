# syntax=docker/dockerfile:1
# The Flotilla hub image. Build context: the repository root.
#   docker build -f charts/images/hub.Dockerfile -t flotilla-hub .
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
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY proto proto
COPY hub hub
COPY web web
RUN npm run build --workspace=proto --workspace=hub --workspace=web

FROM node:20-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY hub/package.json hub/
COPY agent/package.json agent/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace=hub --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm

# helm and kubectl (for `kubectl kustomize`), pinned by scripts/setup-tools.sh exactly as in CI: the hub
# renders Helm charts and Kustomize sources with the real binaries, as Argo CD's repo-server does.
FROM node:20-bookworm-slim AS tools
RUN apt-get update && apt-get install -y --no-install-recommends unzip ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY scripts/setup-tools.sh scripts/
RUN bash scripts/setup-tools.sh

FROM node:20-bookworm-slim
# git for the git generator, Git manifests, Kustomize sources and Git sources; gnupg and ssh-keygen
# (openssh-client) to verify signed commits.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates openssh-client gnupg && rm -rf /var/lib/apt/lists/*
COPY --from=tools /app/.tools/bin/helm /app/.tools/bin/kubectl /usr/local/bin/
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies --chown=root:root /app ./
COPY --from=build --chown=root:root /app/proto/dist proto/dist
COPY --from=build --chown=root:root /app/hub/dist hub/dist
# The dashboard, served at / (FLOTILLA_WEB_DIR defaults to this folder).
COPY --from=build --chown=root:root /app/web/dist web/dist
# Owned by root and read-only to the process; the chart also mounts the root FS read-only.
USER 10001:10001
ENV HOST=0.0.0.0 FLOTILLA_GRPC_HOST=0.0.0.0 FLOTILLA_DEMO=false
EXPOSE 4000 4001
CMD ["node", "hub/dist/main.js"]

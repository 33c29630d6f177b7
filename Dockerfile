# syntax=docker/dockerfile:1
# The auditq-sidecar image. Build from the repository root:
#   docker build -t auditq-sidecar:0.1.0 .
# Stages: build (compile with dev dependencies), prod-deps (production node_modules only),
# runtime (the default target: Node, dist/ and prod node_modules, non-root), and example-app
# (the demo app of docker-compose.yml; not for production).
#
# PID 1: the entrypoint is `node dist/cli.js` itself, with no init process in front. The CLI
# handles SIGTERM and SIGINT (drain within AUDITQ_SHUTDOWN_TIMEOUT_MS, then exit) and spawns no
# children, so there are no zombies to reap and tini would add nothing but a process. Node as
# PID 1 gets no default signal handlers from the kernel, which is why the CLI installs its own.
#
# The base image is pinned by digest: the same bytes at every build, whatever the tag points at
# later. The tag before the @ is for people; Docker pulls by the digest alone. The digest is the
# multi-platform index of node:24.18.1-bookworm-slim (Node 24 LTS on Debian 12), as Docker
# Official Images' repo-info published it; Docker does not run where auditq is developed, so it
# was not pulled here. To move to a newer Node: `docker buildx imagetools inspect
# node:24-bookworm-slim` prints the current index digest; put tag and digest here (or build with
# --build-arg NODE_IMAGE=...). test/repo/dockerfile.test.ts checks every FROM is pinned.
ARG NODE_IMAGE=node:24.18.1-bookworm-slim@sha256:235600a8101ab264e117b1768e925532262668dc9b581ef1dd7d96ced463b8e7

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsup.config.ts ./
COPY shared shared
COPY middleware middleware
COPY sidecar sidecar
RUN npm run build

# Production node_modules, exactly as locked: auditq's dependencies plus the peers the sidecar
# loads (prom-client, @aws-sdk/client-sqs, mongodb, pino; not express). The root lockfile marks
# those peers dev-only (an app brings its own), so `npm ci --omit=dev` on it would leave them
# out; deploy/docker/sidecar/ holds a manifest and lockfile of just these, at the root
# lockfile's versions (test/repo/dockerfile.test.ts checks that they agree).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY deploy/docker/sidecar/package.json deploy/docker/sidecar/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM build AS example-app
COPY deploy/example-app deploy/example-app
# The spool volume's mount point, owned by the app's user: a named volume takes this ownership,
# and auditq refuses a spool directory another user owns.
RUN mkdir -p /var/lib/auditq-spool && chown 1000:1000 /var/lib/auditq-spool
ENV NODE_ENV=production PORT=3000
# The official image's `node` user.
USER 1000:1000
EXPOSE 3000
CMD ["node", "--import", "tsx", "deploy/example-app/server.ts"]

FROM ${NODE_IMAGE} AS runtime
# Set at build time: --build-arg AUDITQ_VERSION=$(node -p 'require("./package.json").version')
# --build-arg REVISION=$(git rev-parse HEAD). The version's default is package.json's (tested).
ARG AUDITQ_VERSION=0.1.0
ARG REVISION=unknown
ARG NODE_IMAGE
LABEL org.opencontainers.image.title="auditq-sidecar" \
      org.opencontainers.image.description="Drains auditq's SQS queue into MongoDB at a capped write rate." \
      org.opencontainers.image.version="${AUDITQ_VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
# package.json: its "type": "module" makes node load dist/*.js as ES modules.
COPY --from=build /src/package.json package.json
COPY --from=build /src/dist dist
# A numeric uid above 10000, clear of host users, so runAsNonRoot can verify it; the
# Kubernetes manifests run it as the same. Nothing is written to the image's filesystem: it runs
# with a read-only root filesystem, and every file it reads is world-readable.
USER 10001:10001
ENV AUDITQ_METRICS_PORT=8466
EXPOSE 8466
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli.js"]

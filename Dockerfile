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
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsup.config.ts ./
COPY shared shared
COPY middleware middleware
COPY sidecar sidecar
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json deploy/docker/prod-deps.sh ./
RUN sh prod-deps.sh && rm prod-deps.sh

FROM build AS example-app
COPY deploy/example-app deploy/example-app
# The spool volume's mount point, owned by the app's user: a named volume takes this ownership,
# and auditq refuses a spool directory another user owns.
RUN mkdir -p /var/lib/auditq-spool && chown node:node /var/lib/auditq-spool
ENV NODE_ENV=production PORT=3000
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "deploy/example-app/server.ts"]

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/package.json package.json
COPY --from=build /src/dist dist
# The official image's `node` user (uid 1000); numeric so runAsNonRoot can verify it. Nothing
# is written to the image's filesystem: it runs with a read-only root filesystem.
USER 1000:1000
ENV AUDITQ_METRICS_PORT=8466
EXPOSE 8466
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli.js"]

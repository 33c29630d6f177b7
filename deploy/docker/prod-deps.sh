#!/bin/sh
# The sidecar image's node_modules: the package's dependencies plus its peer dependencies
# (prom-client, @aws-sdk/client-sqs, and the sidecar's optional peers mongodb and pino), at the
# versions in package-lock.json. Express, the one peer the sidecar never loads, is left out. An
# app shares its own copies of the peers with the middleware, so the lockfile marks them dev-only
# and `npm ci --omit=dev` alone would leave them out; the sidecar CLI needs them. Run in a directory
# holding package.json and package-lock.json (the Dockerfile's prod-deps stage).
set -eu
for name in $(node -p 'const p = require("./package.json"); Object.keys(p.peerDependencies ?? {}).filter((n) => n !== "express").join(" ")'); do
  version=$(node -p "require('./package-lock.json').packages['node_modules/$name'].version")
  npm pkg delete "devDependencies.$name"
  npm pkg set "dependencies.$name=$version"
done
npm install --omit=dev --ignore-scripts --no-audit --no-fund
npm cache clean --force

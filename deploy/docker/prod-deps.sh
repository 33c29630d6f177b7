#!/bin/sh
# The sidecar image's node_modules: the package's dependencies plus prom-client, at the versions
# in package-lock.json. prom-client is a peer dependency of the package (an app shares its own
# copy with the middleware), so the lockfile marks it dev-only and `npm ci --omit=dev` alone
# would leave it out; the sidecar CLI needs it. Run in a directory holding package.json and
# package-lock.json (the Dockerfile's prod-deps stage).
set -eu
version=$(node -p 'require("./package-lock.json").packages["node_modules/prom-client"].version')
npm pkg delete devDependencies.prom-client
npm pkg set "dependencies.prom-client=$version"
npm install --omit=dev --ignore-scripts --no-audit --no-fund
npm cache clean --force

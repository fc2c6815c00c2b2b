#!/bin/sh
# The whole test suite, from a fresh clone: installs what it needs, type-checks, lints, then runs
# the tests (whose global setup builds dist/ first, then starts influxd and victoria-metrics on
# loopback).
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
sh scripts/install-servers.sh influxdb victoria-metrics prometheus chromium
npm run --silent typecheck
npm run --silent lint
npm run --silent deps
npx vitest run

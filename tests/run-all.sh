#!/usr/bin/env bash
# Runs every test against real parts: starts a Redis and a PostgreSQL on
# loopback ports of their own, exports where they are (SB_TEST_REDIS_URL,
# SB_TEST_DATABASE_URL), runs ctest, and stops them on exit.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)

source "$root/tests/services.sh"
trap stop_services EXIT
# Two commands, not `a && b`: under set -e a failure before && would not stop
# the script, and the store tests would silently skip.
start_redis; start_postgres

# The SDK test drives the gateway with the official openai npm package,
# pinned by tests/sdk/package-lock.json.
(cd "$root/tests/sdk" && npm ci --no-audit --no-fund --loglevel=error)

cd "$root/$build"
ctest --output-on-failure --timeout 300 -j2

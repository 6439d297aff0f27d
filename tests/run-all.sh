#!/usr/bin/env bash
# Runs every test against real parts. Starts the servers tests need on
# loopback ports of its own, exports where they are, and stops them on exit.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/switchboard-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The SDK test drives the gateway with the official openai npm package,
# pinned by tests/sdk/package-lock.json.
if [ -f "$root/tests/sdk/package.json" ]; then
  (cd "$root/tests/sdk" && npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$root/$build"
ctest --output-on-failure --timeout 300 -j2

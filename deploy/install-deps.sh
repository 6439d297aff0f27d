#!/usr/bin/env bash
# Installs every Debian package Switchboard needs to build, test and run.
# Idempotent: a second run only checks. Needs root (CI and dev machines run as root).
set -euo pipefail

packages=(
  build-essential cmake make pkg-config ccache git
  libcaf-dev libboost1.81-dev libboost-system1.81-dev libboost-url1.81-dev
  libhiredis-dev nlohmann-json3-dev catch2 prometheus-cpp-dev
  libssl-dev openssl ca-certificates libsqlite3-dev sqlite3 libpq-dev
  redis-server postgresql prometheus curl
  json-schema-test-suite  # the official JSON Schema tests run by tests/tools
)
# The machine image ships Node.js (with npm) from its own source; Debian's npm
# conflicts with it, so Debian's is only a fallback where no node exists.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

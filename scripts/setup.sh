#!/usr/bin/env bash
# scripts/setup.sh: installs everything apigw-ws needs on Debian 12, idempotently, with no prompts.
# Run as root (or with sudo available). A second run installs nothing and takes about a second.
set -euo pipefail

debian_packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git clang-format
  # libraries (DESIGN.md §3)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev ca-certificates libsqlite3-dev libpq-dev libcli11-dev libfmt-dev libspdlog-dev libsodium-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  postgresql python3 python3-botocore python3-boto3 python3-websockets
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${debian_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The Debian postgresql package starts a cluster on port 5432; the tests start their own throwaway
# servers on free ports and never use it.

# The browser client and the browser tests (web/, tests/browser/): Debian's chromium driven by npm
# playwright-core (never `npx playwright install`), and node + npm unless the machine already has
# them (a fresh Debian 12 has none; Debian's nodejs and npm packages work).
browser_missing=()
status=$(dpkg-query -W -f='${Status}' chromium 2>/dev/null || true)
[ "$status" = "install ok installed" ] || browser_missing+=(chromium)
command -v node >/dev/null 2>&1 || browser_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || browser_missing+=(npm)
if [ ${#browser_missing[@]} -gt 0 ]; then
  echo "setup: installing ${browser_missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${browser_missing[@]}"
fi

# npm ci from the committed lock files, once per lock file version (a stamp holds its hash):
# the browser client, the browser tests, and the JS SDK peer tests (tests/peers/js).
repo_root=$(cd "$(dirname "$0")/.." && pwd)
for dir in web tests/browser tests/peers/js; do
  lock="$repo_root/$dir/package-lock.json"
  stamp="$repo_root/$dir/node_modules/.apigw-lock-sha256"
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "setup: npm ci in $dir"
    (cd "$repo_root/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
done

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

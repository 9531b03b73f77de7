#!/usr/bin/env bash
# scripts/dev.sh: from a fresh Debian 12 machine to the example apps in a browser: installs what is
# missing (scripts/setup.sh), builds the release preset, and runs `apigw-ws dev` (the local gateway
# and the example backend; data in ./apigw-dev-data). Extra arguments go to `apigw-ws dev`
# (e.g. --port 8080). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target apigw-ws
exec "$(pwd)/build/release/bin/apigw-ws" dev "$@"

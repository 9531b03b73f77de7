#!/usr/bin/env bash
# tests/consumer/staged.sh BUILD_DIR STAGE_DIR VERSION: `cmake --install` of BUILD_DIR into an empty
# STAGE_DIR, then run.sh against it. The ctest entry consumer_staged_install (label integration).
set -euo pipefail
build=$1 stage=$2 version=$3
rm -rf "$stage" && mkdir -p "$stage"
cmake --install "$build" --prefix "$stage" >/dev/null
exec bash "$(dirname "$0")/run.sh" "$stage" "$version"

#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, from a fresh Debian 12 machine: installs what is missing,
# builds the release preset, and runs every test (labels: unit, integration, pg, faults).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout and ignores the build folder (the release preset
# compiles with -g, which would otherwise put the absolute build path into every hash), so a clone
# in another folder reuses earlier builds.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

bash scripts/setup.sh
jobs=$(nproc)
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

#!/usr/bin/env bash
# tests/consumer/run.sh PREFIX [VERSION]: builds and runs this consumer against the apigw installed
# in PREFIX twice, with CMake (find_package(apigw)) and with pkg-config (apigw.pc), in a temporary
# folder. With VERSION, also checks that both report it. Exits non-zero on any failure.
set -euo pipefail
prefix=$(cd "$1" && pwd)
want=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "consumer: CMake against $prefix"
cmake -S "$here" -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer" | tee "$work/cmake.out"

echo "consumer: pkg-config against $prefix"
pc_dirs=
for d in "$prefix"/lib/pkgconfig "$prefix"/lib/*/pkgconfig "$prefix"/lib64/pkgconfig; do
  [ -f "$d/apigw.pc" ] && pc_dirs="$pc_dirs${pc_dirs:+:}$d"
done
[ -n "$pc_dirs" ] || { echo "consumer: no apigw.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH="$pc_dirs${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046,SC2086  # pkg-config's output, CXXFLAGS and LDFLAGS are lists of flags
g++ -std=c++20 ${CXXFLAGS:-} -o "$work/consumer-pc" "$here/main.cpp" $(pkg-config --cflags --libs apigw) ${LDFLAGS:-}
# pkg-config gives no run path: a shared-library install outside the loader's folders needs this.
LD_LIBRARY_PATH="$(pkg-config --variable=libdir apigw)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-pc" |
  tee "$work/pc.out"
cmp "$work/cmake.out" "$work/pc.out"

got=$(sed -n 's/^apigw //p' "$work/cmake.out")
[ "$got" = "$(pkg-config --modversion apigw)" ] || { echo "consumer: apigw.pc says $(pkg-config --modversion apigw), the library $got" >&2; exit 1; }
if [ -n "$want" ] && [ "$got" != "$want" ]; then
  echo "consumer: version $got, expected $want" >&2
  exit 1
fi
echo "consumer: ok (apigw $got)"

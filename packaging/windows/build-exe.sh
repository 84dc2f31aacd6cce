#!/usr/bin/env bash
# Cross-builds kube-proxy.exe and hnsdiag.exe (and the test HNS DLLs the wine tests install) with
# MinGW-w64, statically linked. The libraries come from packaging/windows/build-deps.sh (cached
# outside the checkout); compilation goes through ccache.
#   packaging/windows/build-exe.sh [build-dir]      (default: build-win)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-win}
prefix=$(packaging/windows/build-deps.sh | tail -1)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$out" -G Ninja -DCMAKE_TOOLCHAIN_FILE=packaging/windows/mingw-toolchain.cmake \
  -DCMAKE_BUILD_TYPE=Release -DHNSPROXY_MINGW_DEPS="$prefix" -DHNSPROXY_TESTS=OFF "${launcher[@]}" >/dev/null
# Only what ships and what the wine tests install (the benchmarks are Linux tools).
cmake --build "$out" -j "$(nproc)" --target kube-proxy hnsdiag test_computenetwork test_vmcompute hcn_probe
for f in "$out/proxy/kube-proxy.exe" "$out/hns/hnsdiag.exe"; do
  echo "build-exe: $f ($(stat -c %s "$f") bytes), imports: $(x86_64-w64-mingw32-objdump -p "$f" | awk '/DLL Name/ {print $3}' | sort -u | tr '\n' ' ')"
done

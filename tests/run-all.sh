#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs every test; then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test there. Between the two it runs
# the benchmark suite's --quick variant to prove it still works (timings are printed, never asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo) and test"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== the benchmark suite, --quick (a smoke run; numbers are informational)"
BENCH_BUILD_DIR=build BENCH_OUT=build/bench-smoke bench/run.sh --quick

echo "== compile the Windows code with MinGW-w64"
packaging/mingw-check.sh

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHNSPROXY_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

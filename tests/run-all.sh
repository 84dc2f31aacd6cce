#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs every test; then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test there. Between the two it runs
# the quick policy benchmark to prove it still works (timings are printed, never asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo) and test"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== quick policy benchmark (smoke run; numbers are informational)"
build/bench/policy_bench 1000 10 100 50
build/bench/hns_calls_bench 1000 10 100 ws2025-updated
(cd build && bench/e2e_bench --sizes 100,300 --changes 10 --json e2e-smoke.json --svg e2e-smoke.svg 2>/dev/null)

echo "== compile the Windows code with MinGW-w64"
packaging/mingw-check.sh

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHNSPROXY_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

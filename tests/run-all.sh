#!/usr/bin/env bash
# The whole test suite: installs dependencies, cross-builds the Windows exes (MinGW-w64; the
# libraries they link are cached outside the checkout), builds, runs every test — the wine tests of
# kube-proxy.exe among them —, then the same tests built with AddressSanitizer +
# UndefinedBehaviorSanitizer, and with ThreadSanitizer. Between them it runs the benchmark suite's
# --quick variant (timings are printed, never asserted) and packages the Windows release zip; cppcheck,
# a 30-second soak and a 10-second run of each libFuzzer target are smoke-run too.
# CI runs exactly this (.ci/run).
#
# Builds go through ccache (its cache lives outside the checkout, ~/.cache/ccache), with paths made
# relative to the checkout so that a fresh clone elsewhere hits the same cache.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
jobs=$(nproc)
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
cmake_args=(-G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
started=$SECONDS
stage() { echo "== [$((SECONDS - started))s] $*"; }

stage "cross-build kube-proxy.exe and hnsdiag.exe (MinGW-w64), and the test HNS DLLs"
packaging/windows/build-exe.sh build-win

stage "build (RelWithDebInfo) and test, the Windows build under wine included"
cmake -S . -B build "${cmake_args[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHNSPROXY_WINDOWS_BUILD_DIR="$PWD/build-win" >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

stage "cppcheck (warnings, portability, performance; findings fail the run)"
cppcheck --quiet --std=c++20 -D__CPPCHECK__ --enable=warning,portability,performance --inline-suppr --suppress=missingIncludeSystem \
  --error-exitcode=1 -I . policy hns watch proxy

stage "soak smoke: 30 s of churn with HNS faults (bench/soak.sh runs it for 30 minutes)"
build/bench/soak --seconds 30 --build build --out build/soak-smoke.csv

stage "the fuzz targets: the corpus replayed, then 10,000 inputs each from a fixed seed (tests/fuzz/run.sh 600 for the long run)"
FUZZ_SEED=1 FUZZ_RUNS=10000 tests/fuzz/run.sh 60

stage "clang-tidy (bugprone, cert, concurrency; files unchanged since they passed are not re-checked)"
tests/lint/clang-tidy.sh build-fuzz

stage "the benchmark suite, --quick (a smoke run; numbers are informational)"
BENCH_BUILD_DIR=build BENCH_OUT=build/bench-smoke bench/run.sh --quick

stage "the Windows release zip"
packaging/windows/make-release.sh build-win

stage "build with ASan+UBSan and test"
cmake -S . -B build-asan "${cmake_args[@]}" -DCMAKE_BUILD_TYPE=Debug -DHNSPROXY_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

stage "build with ThreadSanitizer and test"
cmake -S . -B build-tsan "${cmake_args[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHNSPROXY_TSAN=ON >/dev/null
cmake --build build-tsan -j "$jobs" --target policy_tests watch_tests hns_tests proxy_tests kube-proxy hnssim hnsdiag
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs"

stage "done"

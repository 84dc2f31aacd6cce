# The build trees the test command uses, configured in one place (sourced by tests/run-all.sh,
# tests/fuzz/run.sh, tests/lint/clang-tidy.sh and examples/run.sh, so each tree is configured the
# same way whoever builds it first, and never rebuilt because two scripts disagreed):
#   build/        gcc, RelWithDebInfo: the product as shipped, every test, the benchmarks, the wine
#                 suite's Linux side
#   build-clang/  clang-16 with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer's
#                 coverage instrumentation on every file (-fsanitize=fuzzer-no-link): one build
#                 serves the sanitized test run, the fuzz targets and clang-tidy's compile commands
#   build-tsan/   clang-16 with ThreadSanitizer: the suites and programs that run threads
# Objects go through ccache when it is installed (its cache lives outside the checkout,
# ~/.cache/ccache), with paths relative to the checkout so that a fresh clone elsewhere hits it.
# shellcheck shell=bash

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
# Looked up when a tree is configured, not when this file is sourced: on a fresh machine the
# test command sources it before its deps stage installs ccache, and a tree configured without
# the launcher then never filled the cache that the next clean checkout builds from.
hnsproxy_cmake_common() {
  local args=(-G Ninja -Wno-dev)
  if command -v ccache >/dev/null; then
    args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  printf '%s\n' "${args[@]}"
}

configure_main() {
  cmake -S . -B build $(hnsproxy_cmake_common) -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
}

configure_clang() {
  local cxx
  cxx=$(command -v clang++-16) || { echo "clang++-16 is missing (packaging/install-deps.sh test installs it)" >&2; return 1; }
  # -O0: instrumented code compiles 3-7x faster than at -O1 (the build is most of this tree's cost;
  # the sanitized suites are bound by waiting, not by CPU).
  cmake -S . -B build-clang $(hnsproxy_cmake_common) -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -gline-tables-only" -DHNSPROXY_SANITIZE=ON -DHNSPROXY_FUZZ=ON "$@" >/dev/null
}

configure_tsan() {
  local cxx
  cxx=$(command -v clang++-16) || { echo "clang++-16 is missing (packaging/install-deps.sh test installs it)" >&2; return 1; }
  # clang at -O0: a third of gcc's -O2 compile time under ThreadSanitizer; the suites wait more than
  # they compute.
  cmake -S . -B build-tsan $(hnsproxy_cmake_common) -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -gline-tables-only" -DHNSPROXY_TSAN=ON "$@" >/dev/null
}

# What each tree builds: nothing a stage does not use.
clang_targets=(policy_tests watch_tests hns_tests proxy_tests lint_tests kube-proxy hnssim hnsdiag fuzz_all)
# policy/ is pure and single-threaded: its suite has no races to find.
tsan_targets=(watch_tests hns_tests proxy_tests kube-proxy hnssim hnsdiag)

#!/usr/bin/env bash
# The whole test suite, in stages (CI runs all of them: .ci/run):
#
#   tests/run-all.sh                every stage, in the order below
#   tests/run-all.sh tsan           one stage (it builds what it needs first; an up-to-date build
#   tests/run-all.sh asan fuzz      costs a second), or several
#   tests/run-all.sh --list         the stages
#
# Three Linux builds (tests/builds.sh) and the MinGW cross build; every stage prints a line when it
# starts and the build's own progress, and the run ends with a table of each stage's time.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/builds.sh
jobs=$(nproc)

stages=(deps windows build test cppcheck soak bench release clang asan fuzz tidy tsan)
describe() {
  case $1 in
    deps) echo "install the test profile's Debian packages (packaging/install-deps.sh test)" ;;
    windows) echo "cross-build kube-proxy.exe, hnsdiag.exe and the test HNS DLLs with MinGW-w64 (build-win/)" ;;
    build) echo "gcc RelWithDebInfo build of everything (build/)" ;;
    test) echo "every test in build/: the suites, the fault matrix, and the Windows build under wine" ;;
    cppcheck) echo "cppcheck (warnings, portability, performance; findings fail the run)" ;;
    soak) echo "soak smoke: 30 s of churn with HNS faults (bench/soak.sh runs it for 30 minutes)" ;;
    bench) echo "the benchmark suite, --quick (a smoke run; numbers are informational)" ;;
    release) echo "the Windows release zip" ;;
    clang) echo "clang-16 build with ASan+UBSan and libFuzzer instrumentation (build-clang/)" ;;
    asan) echo "every suite and the fault matrix under ASan+UBSan (build-clang/)" ;;
    fuzz) echo "the fuzz targets: the corpus replayed, then 10,000 inputs each from a fixed seed" ;;
    tidy) echo "clang-tidy (bugprone, cert, concurrency; files unchanged since they passed are not re-checked)" ;;
    tsan) echo "ThreadSanitizer build and run of the suites and programs that run threads (build-tsan/)" ;;
    *) return 1 ;;
  esac
}

run_stage() {
  case $1 in
    deps) packaging/install-deps.sh test ;;
    windows) packaging/windows/build-exe.sh build-win ;;
    build)
      windows_dir=()
      [ -f build-win/proxy/kube-proxy.exe ] && windows_dir=(-DHNSPROXY_WINDOWS_BUILD_DIR="$PWD/build-win")
      configure_main "${windows_dir[@]}"
      cmake --build build -j "$jobs"
      ;;
    test)
      run_stage build
      ctest --test-dir build --output-on-failure -j "$jobs"
      ;;
    cppcheck)
      cppcheck --quiet --std=c++20 -D__CPPCHECK__ --enable=warning,portability,performance --inline-suppr \
        --suppress=missingIncludeSystem -j "$jobs" --error-exitcode=1 -I . policy hns watch proxy
      ;;
    soak)
      cmake --build build -j "$jobs" --target soak kube-proxy hnssim
      build/bench/soak --seconds 30 --build build --out build/soak-smoke.csv
      ;;
    bench) BENCH_BUILD_DIR=build BENCH_OUT=build/bench-smoke bench/run.sh --quick ;;
    release)
      [ -f build-win/proxy/kube-proxy.exe ] || run_stage windows
      packaging/windows/make-release.sh build-win
      ;;
    clang)
      configure_clang
      cmake --build build-clang -j "$jobs" --target "${clang_targets[@]}"
      ;;
    asan)
      run_stage clang
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-clang --output-on-failure -j "$jobs"
      ;;
    fuzz) FUZZ_SEED=1 FUZZ_RUNS=10000 tests/fuzz/run.sh 400 ;;
    tidy) tests/lint/clang-tidy.sh build-clang ;;
    tsan)
      configure_tsan
      cmake --build build-tsan -j "$jobs" --target "${tsan_targets[@]}"
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
        ctest --test-dir build-tsan --output-on-failure -j "$jobs"
      ;;
  esac
}

if [ "${1:-}" = "--list" ]; then
  for s in "${stages[@]}"; do printf '  %-9s %s\n' "$s" "$(describe "$s")"; done
  exit 0
fi
todo=("$@")
[ $# -gt 0 ] || todo=("${stages[@]}")
for s in "${todo[@]}"; do
  describe "$s" >/dev/null || { echo "run-all: unknown stage '$s' (tests/run-all.sh --list)" >&2; exit 2; }
done
# A named stage needs the test profile's packages too (a no-op once installed).
[ $# -eq 0 ] || packaging/install-deps.sh test >/dev/null

started=$SECONDS
timings=()
for s in "${todo[@]}"; do
  echo "== [$((SECONDS - started))s] $s: $(describe "$s")"
  t0=$SECONDS
  run_stage "$s"
  timings+=("$(printf '%-9s %5d s' "$s" $((SECONDS - t0)))")
done
echo "== [$((SECONDS - started))s] done"
printf '  %s\n' "${timings[@]}"

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, build-clang/: tests/builds.sh) and runs each for a while on a
# working copy of its seed corpus (tests/fuzz/corpus/<target>, plus the example cluster's files).
#
#   tests/fuzz/run.sh            10 s per target (what .ci/run does)
#   tests/fuzz/run.sh 600        10 minutes per target (the long run; README "Fuzzing")
#   tests/fuzz/run.sh 60 manifest http_request    only these targets
#   FUZZ_SEED=1 FUZZ_RUNS=10000 tests/fuzz/run.sh   a fixed seed and number of inputs: the same run
#       every time (what .ci/run does, so its result does not depend on luck or machine speed; new
#       finds come from the long runs, and each becomes a file in the corpus)
#
# Prints, per target, the executions, coverage (edges) and features libFuzzer reached, and fails on
# the first crash, leak, timeout or sanitizer report (the reproducer is kept in build-clang/fuzz/crashes).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
shift || true
all=(manifest watch_stream kubeconfig proxy_config command_line hcn_json hnssim_request http_request listing_cache list_stream)
targets=("${@:-${all[@]}}")
[ $# -gt 0 ] || targets=("${all[@]}")
source tests/builds.sh
configure_clang
cmake --build build-clang -j "$(nproc)" --target fuzz_all
export HNSPROXY_SOURCE_DIR="$PWD"
mkdir -p build-clang/fuzz/crashes build-clang/fuzz/logs
report=build-clang/fuzz/report.txt
printf '%-16s %10s %8s %8s %8s %s\n' target seconds execs cov ft corpus > "$report"
# One target per core at a time (each is one process, one thread); a line per target as it ends.
fuzz_one() {
  local t=$1 work=build-clang/fuzz/corpus/$1 log=build-clang/fuzz/logs/$1.log result line execs cov ft corp
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  case $t in
    manifest) cp -n examples/cluster/*.yaml "$work"/ 2>/dev/null || true ;;
    hcn_json) cp -n examples/cluster/hns/*.json "$work"/ 2>/dev/null || true ;;
  esac
  # -rss_limit_mb: the parsers' own limits must hold memory well below it.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     build-clang/tests/fuzz/fuzz_"$t" ${FUZZ_SEED:+-seed=$FUZZ_SEED} ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix=build-clang/fuzz/crashes/"$t"- "$work" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$line")
  corp=$(sed -n 's/.* corp: \([0-9/a-zA-Z]*\).*/\1/p' <<<"$line")
  printf '%-16s %10s %8s %8s %8s %s %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$([ $result = ok ] || echo "FAILED: see $log")"
  if [ $result != ok ]; then
    tail -40 "$log"
    return 1
  fi
  # A fixed number of inputs must all have run (not cut short by the time bound): the same run every time.
  if [ -n "${FUZZ_RUNS:-}" ] && [ "${execs:-0}" -lt "$FUZZ_RUNS" ]; then
    echo "fuzz: $t ran ${execs:-0} of $FUZZ_RUNS inputs within $seconds s (raise the time bound)"
    return 1
  fi
}
export -f fuzz_one
export seconds FUZZ_SEED FUZZ_RUNS
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one "$1"' _ {} | tee -a "$report" || status=1
echo "fuzz: report in $report"
exit $status

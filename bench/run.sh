#!/usr/bin/env bash
# The benchmark suite: builds (Release), then runs the policy-only benchmark, the HNS-call count
# comparison, and the end-to-end benchmark (test API server → watch → policy → programmer → HNS
# simulator) at 100, 1,000 and 10,000 services. Writes bench-results/ (table, JSON, SVG).
#   bench/run.sh            the standard suite (a few minutes on 2 cores)
#   bench/run.sh --quick    under a minute: smaller sizes
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh >/dev/null
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target policy_bench hns_calls_bench e2e_bench >/dev/null
out=bench-results
mkdir -p "$out"
if [ "${1:-}" = "--quick" ]; then
  build-bench/bench/policy_bench 1000 10 100 100 | tee "$out/policy.txt"
  build-bench/bench/hns_calls_bench 1000 10 100 | tee "$out/hns-calls.txt"
  build-bench/bench/e2e_bench --quick --json "$out/e2e.json" --svg "$out/e2e.svg" 2>/dev/null | tee "$out/e2e.txt"
else
  build-bench/bench/policy_bench 10000 10 100 400 | tee "$out/policy.txt"
  build-bench/bench/hns_calls_bench 1000 10 100 | tee "$out/hns-calls.txt"
  build-bench/bench/hns_calls_bench 1000 10 100 ws2022 | tee -a "$out/hns-calls.txt"
  build-bench/bench/e2e_bench --sizes 100,1000,10000 --changes 100 --json "$out/e2e.json" --svg "$out/e2e.svg" 2>/dev/null | tee "$out/e2e.txt"
  # With a simulated 5 ms per HNS call: the programmer should add no time of its own.
  build-bench/bench/e2e_bench --sizes 100 --changes 20 --latency-us 5000 --parallelism 4 \
    --json "$out/e2e-latency.json" --svg "$out/e2e-latency.svg" 2>/dev/null | tee "$out/e2e-latency.txt"
fi
echo "results in $out/"

#!/usr/bin/env bash
# The benchmark suite: builds (Release), then runs the policy-only benchmark, the HNS-call count
# comparison, and the end-to-end benchmark (test API server → watch → policy → programmer → HNS
# simulator; kube-proxy's side in a process of its own) at 100, 1,000 and 10,000 services.
# Writes bench-results/: a table per run (*.txt), JSON for tooling and SVG charts.
#   bench/run.sh            the standard suite (prints its run time; the 1,000-node runs at 1 and 5 ms
#                           per HNS call take most of it)
#   bench/run.sh --quick    under a minute: smaller sizes, fewer repetitions
# BENCH_BUILD_DIR=DIR uses an already configured build tree instead (tests/run-all.sh passes its own).
set -euo pipefail
SECONDS=0
cd "$(dirname "$0")/.."
build=${BENCH_BUILD_DIR:-}
if [ -z "$build" ]; then
  packaging/install-deps.sh >/dev/null
  build=build-bench
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target policy_bench hns_calls_bench e2e_bench hnssim hnssim_bench manifest_bench kube-proxy >/dev/null
out=${BENCH_OUT:-bench-results}
mkdir -p "$out"
: >"$out/e2e-progress.log"
e2e() {  # progress and errors to a log; on failure its end is shown
  if ! "$build/bench/e2e_bench" --child-log "$out/e2e-child.log" "$@" 2>>"$out/e2e-progress.log"; then
    tail -5 "$out/e2e-progress.log" >&2
    return 1
  fi
}
if [ "${1:-}" = "--quick" ]; then
  "$build/bench/policy_bench" 1000 10 100 100 | tee "$out/policy.txt"
  "$build/bench/hns_calls_bench" 1000 10 100 | tee "$out/hns-calls.txt"
  e2e --quick --json "$out/e2e.json" --svg "$out/e2e.svg" | tee "$out/e2e.txt"
  e2e --sizes 1000 --changes 10 --repeat 1 --hns daemon --no-memory-model --json "$out/e2e-daemon.json" \
    --svg "$out/e2e-daemon.svg" | tee "$out/e2e-daemon.txt"
  "$build/bench/manifest_bench" --values 60000 --build "$build" --json "$out/manifest.json" | tee "$out/manifest.txt"
else
  "$build/bench/policy_bench" 10000 10 100 400 | tee "$out/policy.txt"
  "$build/bench/hns_calls_bench" 1000 10 100 | tee "$out/hns-calls.txt"
  "$build/bench/hns_calls_bench" 1000 10 100 ws2022 | tee -a "$out/hns-calls.txt"
  # Timings, CPU and HNS calls: the simulator in kube-proxy's process, zero latency.
  e2e --sizes 100,1000,10000 --changes 200 --repeat 3 --json "$out/e2e.json" --svg "$out/e2e.svg" | tee "$out/e2e.txt"
  # kube-proxy's own memory: HNS in an hnssim daemon, restart as a new process.
  e2e --sizes 1000,10000 --changes 20 --repeat 1 --hns daemon --no-memory-model --json "$out/e2e-daemon.json" \
    --svg "$out/e2e-daemon.svg" | tee "$out/e2e-daemon.txt"
  # With a simulated 5 ms per HNS call and 4 calls at once: the programmer should add no time of its own.
  e2e --sizes 100 --changes 20 --repeat 3 --latency-us 5000 --parallelism 4 --no-memory-model \
    --json "$out/e2e-latency.json" --svg "$out/e2e-latency.svg" | tee "$out/e2e-latency.txt"
  # The largest clusters: 10,000 services on 1,000 nodes, every endpoint its own pod (~100,000
  # remote endpoints on this node), HNS in a daemon; a 100-pod rolling update; then the same with
  # 1 ms and 5 ms per HNS call (8 at once): cold start, restart until the first change is
  # programmed (with the listing cache), upstream's model beside each.
  e2e --sizes 10000 --nodes 1000 --changes 20 --repeat 1 --roll-pods 100 --hns daemon --no-memory-model \
    --json "$out/e2e-1000-nodes.json" --svg "$out/e2e-1000-nodes.svg" | tee "$out/e2e-1000-nodes.txt"
  # --hns-parallelism's default: 1, 4 and 8 calls at once against an HNS that runs calls in parallel
  # and against one that serves them one at a time (hnssim --serial), at 1 ms a call.
  for mode in parallel serial; do
    for p in 1 4 8; do
      e2e --sizes 1000 --changes 10 --repeat 1 --hns daemon --no-memory-model --latency-us 1000 --parallelism "$p" \
        $([ "$mode" = serial ] && echo --hns-serial) --json "$out/e2e-parallelism-$mode-$p.json" \
        --svg "$out/e2e-parallelism-$mode-$p.svg" >"$out/e2e-parallelism-$mode-$p.txt"
      echo "HNS $mode, $p at once: $(grep -E 'cold start: HNS listing' "$out/e2e-parallelism-$mode-$p.txt")"
    done
  done
  # A 56 MB manifest of a kind kube-proxy does not use, in a running daemon's directory.
  "$build/bench/manifest_bench" --values 600000 --build "$build" --json "$out/manifest.json" | tee "$out/manifest.txt"
  # hnssim itself at 100,000 objects (the daemon the runs above use): time per call, durability.
  "$build/bench/hnssim_bench" 100000 --json "$out/hnssim.json" | tee "$out/hnssim.txt"
  for lat in 1000 5000; do
    e2e --sizes 10000 --nodes 1000 --changes 10 --repeat 1 --roll-pods 100 --hns daemon --no-memory-model \
      --latency-us "$lat" --parallelism 8 --json "$out/e2e-1000-nodes-${lat}us.json" \
      --svg "$out/e2e-1000-nodes-${lat}us.svg" | tee "$out/e2e-1000-nodes-${lat}us.txt"
  done
fi
echo "results in $out/ (the suite took $SECONDS s)"

#!/usr/bin/env bash
# Soak: kube-proxy and hnssim as processes for a long time under churn, with HNS faults switched on
# and off; kube-proxy's RSS and open descriptors sampled every second (bench/soak.cc).
#   bench/soak.sh            30 minutes (the figure in the README)
#   bench/soak.sh 7200       two hours; any number of seconds
# Samples: bench-results/soak.csv. Fails when memory or descriptors grow past the bounds after the
# warm-up, or when kube-proxy does not end in what a fresh --sync-once programs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
build=${BENCH_BUILD_DIR:-build-bench}
if [ -z "${BENCH_BUILD_DIR:-}" ]; then
  packaging/install-deps.sh >/dev/null
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target soak kube-proxy hnssim >/dev/null
mkdir -p bench-results
"$build/bench/soak" --seconds "$seconds" --build "$build" --out "${SOAK_OUT:-bench-results/soak.csv}"

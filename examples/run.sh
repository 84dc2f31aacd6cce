#!/usr/bin/env bash
# Installs what building and running the example needs, builds kube-proxy and hnsdiag, and runs
# kube-proxy on the embedded example cluster: examples/cluster/ (Services, EndpointSlices, Nodes)
# read with --manifest-dir, programming the in-process HNS simulator loaded from the node's state
# file (a copy under build/, so the example stays pristine), then shows what was programmed with
# hnsdiag. A line per stage and the build's own progress; seconds when already built.
# Extra arguments go to kube-proxy (e.g. --v=4, --hns-sim-profile=ws2019-early).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
stage() { echo "== [$((SECONDS - started))s] $*"; }
stage "packages (packaging/install-deps.sh example)"
packaging/install-deps.sh example
source tests/builds.sh
stage "build kube-proxy and hnsdiag (build/, the same tree the test command uses)"
configure_main
cmake --build build -j "$(nproc)" --target kube-proxy hnsdiag
state=build/example-hns-state.json
cp examples/cluster/hns/win-node-1.json "$state"
stage "kube-proxy --sync-once on examples/cluster"
build/proxy/kube-proxy --manifest-dir=examples/cluster --hns-sim-state="$state" \
  --hostname-override=win-node-1 --network-name=cbr0 --forward-healthcheck-vip --sync-once "$@"
echo
stage "programmed HNS load balancers (hnsdiag --state $state list loadbalancers)"
build/hns/hnsdiag --state "$state" list loadbalancers
echo
stage "HNS endpoints (the CNI's local ones, and the remote ones kube-proxy created)"
build/hns/hnsdiag --state "$state" list endpoints

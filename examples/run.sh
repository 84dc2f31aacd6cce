#!/usr/bin/env bash
# Installs dependencies, builds, and runs kube-proxy on the embedded example cluster:
# examples/cluster/ (Services, EndpointSlices, Nodes) read with --manifest-dir, programming the
# in-process HNS simulator loaded from the node's state file (a copy under build/, so the example
# stays pristine), then shows what was programmed with hnsdiag.
# Extra arguments go to kube-proxy (e.g. --v=4, --hns-sim-profile=ws2019-early).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target kube-proxy hnsdiag >/dev/null
state=build/example-hns-state.json
cp examples/cluster/hns/win-node-1.json "$state"
echo "== kube-proxy --sync-once on examples/cluster"
build/proxy/kube-proxy --manifest-dir=examples/cluster --hns-sim-state="$state" \
  --hostname-override=win-node-1 --network-name=cbr0 --forward-healthcheck-vip --sync-once "$@"
echo
echo "== programmed HNS load balancers (hnsdiag --state $state list loadbalancers)"
build/hns/hnsdiag --state "$state" list loadbalancers
echo
echo "== HNS endpoints (the CNI's local ones, and the remote ones kube-proxy created)"
build/hns/hnsdiag --state "$state" list endpoints

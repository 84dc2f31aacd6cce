#!/usr/bin/env bash
# Installs dependencies, builds kube-proxy, and runs it on the embedded example cluster
# (examples/cluster/: Services, EndpointSlices, Nodes, and the node's HNS state), printing the
# HNS load balancers and endpoints it computes and the ordered plan that programs them.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target kube-proxy >/dev/null
exec build/proxy/kube-proxy --dry-run \
  --manifest-dir examples/cluster \
  --hns-sim-state examples/cluster/hns/win-node-1.json \
  --hostname-override win-node-1 --network-name cbr0 \
  --forward-healthcheck-vip "$@"

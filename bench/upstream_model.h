// HNS calls upstream kube-proxy (winkernel) makes for the same work, from the cost model in
// upstream's pkg/proxy/winkernel (proxier.go, hns.go, loadbalancer.go) and hcsshim's List*
// (one enumerate, then open/query/close per object). A model, not a measurement:
// it counts HCN-level calls (enumerate, open, query, close, create, modify, delete).
#pragma once

#include <cstdint>

namespace hnsproxy::bench {

struct UpstreamCalls {
  std::uint64_t total = 0;
  std::uint64_t mutating = 0;
};

// hcsshim: GetNetworkByName = filtered enumerate + open/query/close of the match (4);
// List* = 1 enumerate + 3 per object; Create*/Update* = the call + query + close (3).
inline std::uint64_t listCost(std::uint64_t objects) { return 1 + 3 * objects; }
constexpr std::uint64_t kGetNetwork = 4;
constexpr std::uint64_t kCreate = 3;

// One sync's fixed part: the network read twice, every endpoint of the network and every load
// balancer on the host listed.
inline std::uint64_t syncFixed(std::uint64_t endpoints, std::uint64_t loadBalancers) {
  return 2 * kGetNetwork + listCost(endpoints) + listCost(loadBalancers);
}

// Cold start on a node with `localEndpoints` CNI endpoints: start-up deletes every existing load
// balancer (none on a fresh node), then one sync creates every remote endpoint and load balancer.
inline UpstreamCalls coldStart(std::uint64_t localEndpoints, std::uint64_t remoteEndpoints, std::uint64_t lbs) {
  UpstreamCalls c;
  c.total = listCost(0) + syncFixed(localEndpoints, 0) + kCreate * (remoteEndpoints + lbs);
  c.mutating = remoteEndpoints + lbs;
  return c;
}

// A periodic sync with nothing changed: the fixed part, every time.
inline UpstreamCalls idleSync(std::uint64_t endpoints, std::uint64_t lbs) { return {syncFixed(endpoints, lbs), 0}; }

// One endpoint added to a service with `affectedLbs` load balancers: the fixed part, the new
// remote endpoint (create), then per load balancer an Update (modify builds) or
// GetLoadBalancerByID + Delete + Create (others; winkernel's loadbalancer.go).
inline UpstreamCalls endpointAdded(std::uint64_t endpoints, std::uint64_t lbs, std::uint64_t affectedLbs,
                                   bool modify) {
  UpstreamCalls c;
  c.total = syncFixed(endpoints, lbs) + kCreate;
  c.mutating = 1;
  if (modify) {
    c.total += kCreate * affectedLbs;
    c.mutating += affectedLbs;
  } else {
    c.total += (kGetNetwork + 1 + kCreate) * affectedLbs;
    c.mutating += 2 * affectedLbs;
  }
  return c;
}

// Restart over an unchanged cluster: every load balancer on the host listed and deleted
// (DeleteAllHnsLoadBalancerPolicy), then re-created; remote endpoints are re-adopted by IP.
inline UpstreamCalls restart(std::uint64_t endpoints, std::uint64_t lbs) {
  UpstreamCalls c;
  c.total = listCost(lbs) + lbs + syncFixed(endpoints, 0) + kCreate * lbs;
  c.mutating = 2 * lbs;
  return c;
}

}  // namespace hnsproxy::bench

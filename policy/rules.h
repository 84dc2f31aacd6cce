// The rules: one Service and its EndpointSlices, on this node, to the load balancers and
// endpoints it claims. Pure and deterministic; each rule follows upstream's
// pkg/proxy/winkernel/proxier.go and loadbalancer.go, or says where it deliberately improves on them.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/desired.h"
#include "policy/model.h"

namespace hnsproxy::policy {

struct ServiceResult {
  std::vector<LoadBalancer> loadBalancers;   // claims; conflicts are settled by the Engine
  std::vector<IpAddress> serviceVipEndpoints; // overlay: cluster IPs needing a service-VIP endpoint
  std::vector<Warning> warnings;
  // Endpoints the slices place on this node whose IP HNS has no local endpoint for (yet): left
  // out of the load balancers until the CNI's endpoint is seen. Sorted, unique.
  std::vector<IpAddress> missingLocalEndpoints;
  std::uint32_t backendsTruncated = 0;        // dropped by the per-LB backend cap
  // For kubeproxy_sync_proxy_rules_no_local_endpoints_total: a Local policy with no local endpoint.
  bool noLocalEndpointsInternal = false;
  bool noLocalEndpointsExternal = false;
  friend bool operator==(const ServiceResult&, const ServiceResult&) = default;
};

// Services the proxy ignores altogether: headless, ExternalName, and those labelled
// service.kubernetes.io/service-proxy-name (they belong to another proxy).
bool shouldSkipService(const Service& svc);

// A merged endpoint of one service port: an endpoint and the port its slice gives for it.
struct PortEndpoint {
  const Endpoint* endpoint;
  std::uint16_t port;
};

// All endpoints of one service port and family across the service's slices, as upstream merges
// them: slices in name order, ports matched by name and protocol (nil names and port 0
// ignored), FQDN and wrong-family slices and addresses ignored, duplicates by IP:port collapsed
// with a non-terminating entry winning over a terminating one.
std::vector<PortEndpoint> mergeEndpoints(const ServicePort& port, IpFamily family,
                                         const std::vector<const EndpointSlice*>& slices);

// Deterministic subset of at most `limit` backends: local endpoints first, then by a
// rendezvous (highest-random-weight) hash of (salt, IP), so one endpoint joining or leaving
// changes at most one other member of the subset.
std::vector<IpAddress> capBackends(std::vector<std::pair<IpAddress, bool /*local*/>> candidates, std::size_t limit,
                                   std::string_view salt);

// The MAC kube-proxy fabricates for remote endpoints: 02-11- and four bytes of the IP (the last
// four, reversed, for IPv6). It is never sent on the wire.
std::string conjureMac(const IpAddress& ip);

// The endpoint hnsproxy creates for a backend IP on another node.
ManagedEndpoint remoteEndpointFor(const IpAddress& ip, const NodeContext& ctx);

// The node-level endpoints (overlay source VIP), independent of services.
std::vector<ManagedEndpoint> nodeEndpoints(const NodeContext& ctx);

ServiceResult computeService(const Service& svc, const std::vector<const EndpointSlice*>& slices,
                             const NodeContext& ctx);

}  // namespace hnsproxy::policy

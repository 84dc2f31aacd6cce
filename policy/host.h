// The node's HNS as the proxy depends on it, in policy terms: one typed view that hns/ reads from
// a listing (hns/host_view.h) and makeNodeContext (policy/node_context.h) turns into the
// NodeContext the rules read. No HCN document crosses into policy/ or proxy/.
#pragma once

#include <string>
#include <vector>

#include "policy/capabilities.h"
#include "policy/ip.h"
#include "policy/model.h"

namespace hnsproxy::policy {

// A non-remote endpoint HNS holds on the network: a pod's (created by the CNI), the host's root
// endpoint, or the overlay source-VIP endpoint.
struct HostEndpoint {
  std::string id;  // opaque to the rules
  std::string name;
  std::vector<IpAddress> ips;  // one per family at most, in HNS's order
  std::string mac;
  friend bool operator==(const HostEndpoint&, const HostEndpoint&) = default;
};

// A network adapter of the host (not HNS's): the one that owns the node IP gives the overlay its
// host MAC, as upstream takes it from the interface list.
struct HostAdapter {
  std::string name;
  std::string mac;  // HNS's form, "00-15-5D-2C-0A-01"
  std::vector<IpAddress> ips;
  friend bool operator==(const HostAdapter&, const HostAdapter&) = default;
};

struct HostView {
  NetworkInfo network;
  std::vector<HostEndpoint> localEndpoints;
  // Empty when the platform cannot list them (the host MAC then comes from the root endpoint).
  std::vector<HostAdapter> adapters;
  // Effective capabilities: those of the HNS version, less what HNS showed at run time that it
  // cannot do (an in-place modify answered E_NOTIMPL).
  Capabilities caps;
  friend bool operator==(const HostView&, const HostView&) = default;
};

}  // namespace hnsproxy::policy

// The one place the NodeContext is assembled: from the Node (watch/), the host view (hns/) and
// the proxy's configuration (flags). Pure.
#pragma once

#include <optional>
#include <string>

#include "policy/host.h"
#include "policy/model.h"

namespace hnsproxy::policy {

// What the configuration says about this node.
struct NodeConfig {
  std::string nodeName;
  std::optional<IpAddress> bindAddress;  // --bind-address, when not 0.0.0.0 / ::
  std::string rootEndpointName = "cbr0"; // --root-hnsendpoint-name
  ProxyConfig rules;
  friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

struct NodeContextResult {
  NodeContext context;
  // No node IP anywhere (flag, Node, network): 127.0.0.1 was assumed, as upstream does with a warning.
  bool assumedLoopback = false;
};

// Node IPs: --bind-address; else the Node's InternalIPs then ExternalIPs (the first of each
// family); else the network's provider address (overlay); else 127.0.0.1. Local endpoints: every
// IP of the view's local endpoints but the source VIP, which is hnsproxy's own. The root endpoint
// (and the host MAC) by its name.
NodeContextResult makeNodeContext(const HostView& host, const std::optional<Node>& node, const NodeConfig& cfg);

}  // namespace hnsproxy::policy

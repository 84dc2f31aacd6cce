// The one place the NodeContext is assembled: from the Node (watch/), the host view (hns/) and
// the proxy's configuration (flags). Pure.
#pragma once

#include <cstdint>
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
  // Where the host MAC came from: the adapter that owns a node IP (as upstream), else the root
  // endpoint; None leaves it empty, and the overlay's VIP endpoints are then not created.
  enum class MacSource : std::uint8_t { Adapter, RootEndpoint, None } hostMacFrom = MacSource::None;
};

// Node IPs: --bind-address; else the Node's InternalIPs then ExternalIPs (the first of each
// family); else the network's provider address (overlay); else 127.0.0.1. Local endpoints: every
// IP of the view's local endpoints but the source VIP, which is hnsproxy's own. The root endpoint
// by its name. The host MAC: the adapter's that owns a node IP, else the root endpoint's.
NodeContextResult makeNodeContext(const HostView& host, const std::optional<Node>& node, const NodeConfig& cfg);

}  // namespace hnsproxy::policy

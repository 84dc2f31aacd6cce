// Builds the policy's NodeContext from what HNS holds (the network, its local endpoints, the
// version) and the proxy's settings.
#pragma once

#include <string>
#include <vector>

#include "hns/hcn_json.h"
#include "policy/model.h"
#include "policy/result.h"

namespace hnsproxy::hns {

struct NodeContextOptions {
  std::string networkName;
  std::string nodeName;
  std::string zone;
  std::vector<policy::IpAddress> nodeIPs;
  std::string rootEndpointName = "cbr0";
  std::string hostMac;  // empty: the root endpoint's MAC, if any
  policy::ProxyConfig config;
};

struct NodeContextResult {
  policy::NodeContext context;
  std::vector<std::string> warnings;  // e.g. a RemoteSubnetRoute that does not parse
};

bool equalsIgnoreCase(const std::string& a, const std::string& b);

// NotFound when the network is absent (the caller waits and retries).
Result<NodeContextResult> nodeContextFrom(const HnsSnapshot& hns, const NodeContextOptions& opts);

}  // namespace hnsproxy::hns

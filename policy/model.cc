#include "policy/model.h"

#include <algorithm>

namespace hnsproxy::policy {

std::string_view toString(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

std::string_view toString(ServiceType t) {
  switch (t) {
    case ServiceType::ClusterIP: return "ClusterIP";
    case ServiceType::NodePort: return "NodePort";
    case ServiceType::LoadBalancer: return "LoadBalancer";
    case ServiceType::ExternalName: return "ExternalName";
  }
  return "?";
}

std::optional<IpAddress> NodeContext::nodeIP(IpFamily family) const {
  for (const auto& ip : nodeIPs)
    if (ip.family() == family) return ip;
  return std::nullopt;
}

bool NodeContext::hasLocalEndpoint(const IpAddress& ip) const {
  return std::binary_search(localEndpointIPs.begin(), localEndpointIPs.end(), ip);
}

std::vector<IpFamily> NodeContext::families() const {
  IpFamily primary = nodeIPs.empty() ? IpFamily::V4 : nodeIPs.front().family();
  std::vector<IpFamily> out{primary};
  IpFamily other = primary == IpFamily::V4 ? IpFamily::V6 : IpFamily::V4;
  if (caps.dualStack && network.type != NetworkType::Overlay) out.push_back(other);
  return out;
}

}  // namespace hnsproxy::policy

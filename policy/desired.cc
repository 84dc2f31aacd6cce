#include "policy/desired.h"

#include <fmt/format.h>

namespace hnsproxy::policy {

std::string_view toString(LbKind k) {
  switch (k) {
    case LbKind::ClusterIP: return "ClusterIP";
    case LbKind::NodePort: return "NodePort";
    case LbKind::ExternalIP: return "ExternalIP";
    case LbKind::Ingress: return "Ingress";
    case LbKind::HealthCheck: return "HealthCheck";
  }
  return "?";
}

std::string_view toString(EndpointKind k) {
  switch (k) {
    case EndpointKind::Remote: return "remote";
    case EndpointKind::ServiceVip: return "service-vip";
    case EndpointKind::SourceVip: return "source-vip";
  }
  return "?";
}

std::string LbKey::str() const {
  std::string v = vip ? (vip->isV4() ? vip->str() : "[" + vip->str() + "]") : std::string("node");
  return fmt::format("{}/{}/{}:{}", toString(family), toString(protocol), v, port);
}

namespace {
struct FlagName {
  std::uint32_t bit;
  const char* name;
};
template <std::size_t N>
std::string flagsText(std::uint32_t f, const FlagName (&names)[N]) {
  std::string s;
  for (const auto& n : names)
    if (f & n.bit) s += (s.empty() ? "" : "|") + std::string(n.name);
  return s.empty() ? "None" : s;
}
constexpr FlagName kLbFlagNames[] = {{kLbFlagDsr, "DSR"}, {kLbFlagIPv6, "IPv6"}};
constexpr FlagName kPortFlagNames[] = {{kPortFlagILB, "ILB"},
                                       {kPortFlagLocalRoutedVip, "LocalRoutedVIP"},
                                       {kPortFlagUseMux, "UseMux"},
                                       {kPortFlagPreserveDip, "PreserveDIP"},
                                       {kPortFlagVipExternalIp, "VipExternalIP"}};
const char* distText(Distribution d) {
  switch (d) {
    case Distribution::None: return "None";
    case Distribution::SourceIPProtocol: return "SourceIPProtocol";
    case Distribution::SourceIP: return "SourceIP";
  }
  return "?";
}
}  // namespace

std::string LoadBalancer::str() const {
  std::string b;
  for (const auto& ip : backends) b += (b.empty() ? "" : ",") + ip.str();
  return fmt::format("{} -> {} flags={} portFlags={} dist={} src={} backends=[{}] ({} {}{}{})", key.str(), internalPort,
                     flagsText(flags, kLbFlagNames), flagsText(portFlags, kPortFlagNames), distText(distribution),
                     sourceVip ? sourceVip->str() : "-", b, toString(kind), service.str(),
                     portName.empty() ? "" : ":", portName);
}

std::string ManagedEndpoint::str() const {
  return fmt::format("{} {} mac={} pa={}", ip.str(), toString(kind), mac,
                     providerAddress ? providerAddress->str() : "-");
}

bool sameContent(const HnsState& a, const HnsState& b) {
  if (a.endpoints != b.endpoints || a.loadBalancers.size() != b.loadBalancers.size()) return false;
  auto ia = a.loadBalancers.begin();
  for (auto ib = b.loadBalancers.begin(); ib != b.loadBalancers.end(); ++ia, ++ib)
    if (!ia->second.sameContent(ib->second)) return false;
  return true;
}

}  // namespace hnsproxy::policy

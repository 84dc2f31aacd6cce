#include "policy/desired.h"

#include <fmt/format.h>

#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

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

std::string_view toString(Distribution d) {
  switch (d) {
    case Distribution::None: return "None";
    case Distribution::SourceIPProtocol: return "SourceIPProtocol";
    case Distribution::SourceIP: return "SourceIP";
  }
  return "?";
}

std::string_view toString(WarningReason r) {
  switch (r) {
    case WarningReason::BackendsTruncated: return "BackendsTruncated";
    case WarningReason::ConflictingFrontend: return "ConflictingFrontend";
    case WarningReason::DuplicateFrontend: return "DuplicateFrontend";
    case WarningReason::EndpointIPReused: return "EndpointIPReused";
    case WarningReason::HealthCheckPortCollision: return "HealthCheckPortCollision";
    case WarningReason::InconsistentEndpointPorts: return "InconsistentEndpointPorts";
    case WarningReason::LocalTrafficWithoutDSR: return "LocalTrafficWithoutDSR";
    case WarningReason::PreserveDestinationUnsupported: return "PreserveDestinationUnsupported";
    case WarningReason::RootEndpointMissing: return "RootEndpointMissing";
    case WarningReason::SessionAffinityTimeoutIgnored: return "SessionAffinityTimeoutIgnored";
    case WarningReason::SessionAffinityUnsupported: return "SessionAffinityUnsupported";
    case WarningReason::TopologyHintsIgnored: return "TopologyHintsIgnored";
  }
  return "?";
}

namespace {
// The canonical text names the settings as HNS and hnsdiag show them, so a plan printed by
// --dry-run reads like what HNS will hold.
std::string joined(std::initializer_list<std::pair<bool, const char*>> parts) {
  std::string s;
  for (const auto& [on, name] : parts)
    if (on) s += (s.empty() ? "" : "|") + std::string(name);
  return s.empty() ? "None" : s;
}
}  // namespace

std::string LoadBalancer::str() const {
  std::string b;
  for (const auto& ip : backends) b += (b.empty() ? "" : ",") + ip.str();
  std::string flags = joined({{dsr, "DSR"}, {key.family == IpFamily::V6, "IPv6"}});
  std::string portFlags = joined({{reachableFromHost, "LocalRoutedVIP"},
                                  {preserveDestination, "UseMux"},
                                  {preserveDestination, "PreserveDIP"},
                                  {reachableFromOutside, "VipExternalIP"}});
  return fmt::format("{} -> {} flags={} portFlags={} dist={} src={} backends=[{}]{} ({} {}{}{})", key.str(), internalPort,
                     flags, portFlags, toString(distribution), sourceVip ? sourceVip->str() : "-", b,
                     foreignSettings ? " foreign-settings" : "", toString(kind), service.str(),
                     portName.empty() ? "" : ":", portName);
}

namespace {

// Texts that are not MACs, each held once (MacText keeps the index): in practice none, since HNS
// writes only MACs; a bound is not needed for what the node's HNS documents can hold.
struct MacTexts {
  std::mutex mu;
  std::deque<std::string> texts;
  std::unordered_map<std::string_view, std::uint32_t> index;
};
MacTexts& macTexts() {
  static MacTexts t;
  return t;
}

}  // namespace

MacText::MacText(std::string_view s) {
  if (s.empty()) return;
  if (s.size() == 17) {
    bool mac = true;
    for (std::size_t i = 0; i < 17 && mac; ++i) mac = i % 3 == 2 ? (s[i] == ':' || s[i] == '-') : hexDigit(s[i]) >= 0;
    if (mac) {
      for (std::size_t i = 0; i < 6; ++i)
        b_[i] = static_cast<std::uint8_t>(hexDigit(s[3 * i]) * 16 + hexDigit(s[3 * i + 1]));
      form_ = Form::Mac;
      return;
    }
  }
  auto& t = macTexts();
  std::lock_guard lock(t.mu);
  auto it = t.index.find(s);
  std::uint32_t n = 0;
  if (it != t.index.end()) {
    n = it->second;
  } else {
    n = static_cast<std::uint32_t>(t.texts.size());
    t.texts.emplace_back(s);  // a deque: the views the index holds stay valid
    t.index.emplace(t.texts.back(), n);
  }
  std::memcpy(b_.data(), &n, sizeof n);
  form_ = Form::Text;
}

std::string MacText::str() const {
  switch (form_) {
    case Form::Empty:
      return {};
    case Form::Mac:
      return fmt::format("{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}", b_[0], b_[1], b_[2], b_[3], b_[4], b_[5]);
    case Form::Text: {
      std::uint32_t n = 0;
      std::memcpy(&n, b_.data(), sizeof n);
      auto& t = macTexts();
      std::lock_guard lock(t.mu);
      return t.texts[n];
    }
  }
  return {};
}

std::string ManagedEndpoint::str() const {
  return fmt::format("{} {} mac={} pa={}", ip.str(), toString(kind), mac.str(),
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

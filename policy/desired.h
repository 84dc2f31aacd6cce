// The HNS objects the node needs, in the policy's terms: load balancers identified by
// (family, protocol, frontend VIP or "node", external port), and the endpoints hnsproxy
// creates. Backends are endpoint IPs; hns/ maps them to HNS endpoint IDs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/ip.h"
#include "policy/model.h"

namespace hnsproxy::policy {

// HCN LoadBalancerFlags.
inline constexpr std::uint32_t kLbFlagDsr = 1;
inline constexpr std::uint32_t kLbFlagIPv6 = 2;
// HCN LoadBalancerPortMappingFlags (VipExternalIP is kube-proxy's own constant, 16).
inline constexpr std::uint32_t kPortFlagILB = 1;
inline constexpr std::uint32_t kPortFlagLocalRoutedVip = 2;
inline constexpr std::uint32_t kPortFlagUseMux = 4;
inline constexpr std::uint32_t kPortFlagPreserveDip = 8;
inline constexpr std::uint32_t kPortFlagVipExternalIp = 16;

enum class Distribution : std::uint8_t { None = 0, SourceIPProtocol = 1, SourceIP = 2 };

enum class LbKind : std::uint8_t { ClusterIP, NodePort, ExternalIP, Ingress, HealthCheck };
std::string_view toString(LbKind k);

struct LbKey {
  IpFamily family = IpFamily::V4;
  Protocol protocol = Protocol::TCP;
  std::optional<IpAddress> vip;  // nullopt: every node address (NodePort)
  std::uint16_t port = 0;        // external port
  std::string str() const;       // "IPv4/TCP/10.96.0.10:53", "IPv4/TCP/node:30080"
  friend auto operator<=>(const LbKey&, const LbKey&) = default;
  friend bool operator==(const LbKey&, const LbKey&) = default;
};

struct LoadBalancer {
  LbKey key;
  // --- content: what HNS holds, and what a modify changes ---
  std::uint16_t internalPort = 0;
  std::uint32_t flags = 0;      // LoadBalancerFlags
  std::uint32_t portFlags = 0;  // LoadBalancerPortMappingFlags
  Distribution distribution = Distribution::None;
  std::optional<IpAddress> sourceVip;
  std::vector<IpAddress> backends;  // sorted, unique
  // --- provenance: not sent to HNS ---
  ServiceName service;
  std::string portName;
  LbKind kind = LbKind::ClusterIP;
  bool allowModify = true;  // false when the service disables winProxyOptimization

  bool sameContent(const LoadBalancer& o) const {
    return key == o.key && internalPort == o.internalPort && flags == o.flags && portFlags == o.portFlags &&
           distribution == o.distribution && sourceVip == o.sourceVip && backends == o.backends;
  }
  // Canonical one-line text (content, then provenance in parentheses).
  std::string str() const;
  friend bool operator==(const LoadBalancer&, const LoadBalancer&) = default;
};

enum class EndpointKind : std::uint8_t {
  Remote,     // a backend on another node (Flags=RemoteEndpoint)
  ServiceVip, // overlay: remote endpoint carrying a cluster IP, host MAC, PA = node IP
  SourceVip,  // overlay: local endpoint carrying --source-vip, host MAC
};
std::string_view toString(EndpointKind k);

// An endpoint hnsproxy owns (creates and deletes). Local pod endpoints are the CNI's.
struct ManagedEndpoint {
  IpAddress ip;
  EndpointKind kind = EndpointKind::Remote;
  std::string mac;
  std::optional<IpAddress> providerAddress;  // overlay PA policy
  bool isRemote() const { return kind != EndpointKind::SourceVip; }
  std::string str() const;
  friend bool operator==(const ManagedEndpoint&, const ManagedEndpoint&) = default;
};

// A full picture of hnsproxy's objects: what the node should have, or what was applied.
struct HnsState {
  std::map<LbKey, LoadBalancer> loadBalancers;
  std::map<IpAddress, ManagedEndpoint> endpoints;
  friend bool operator==(const HnsState&, const HnsState&) = default;
};

// Same HNS content (ignoring provenance).
bool sameContent(const HnsState& a, const HnsState& b);

struct Warning {
  ServiceName service;  // empty for node-level warnings
  std::string reason;   // short CamelCase code, e.g. "BackendsTruncated"
  std::string message;
  friend bool operator==(const Warning&, const Warning&) = default;
};

}  // namespace hnsproxy::policy

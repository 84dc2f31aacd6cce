// The HNS objects the node needs, in the policy's terms: load balancers identified by
// (family, protocol, frontend VIP or "node", external port), and the endpoints hnsproxy
// creates. Backends are endpoint IPs; hns/ maps them to HNS endpoint IDs.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/ip.h"
#include "policy/model.h"
#include "policy/node_pool.h"

namespace hnsproxy::policy {

// How a load balancer spreads connections over its backends. hns/ encodes it as HCN's
// DistributionType; the values here carry no meaning of their own.
enum class Distribution : std::uint8_t { None, SourceIPProtocol, SourceIP };
std::string_view toString(Distribution d);

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

// A load balancer's backends, sorted and unique, held once for every copy of the load balancer
// that has the same list (the rules' result, the desired state, the applied record, a plan's
// operation): at 12,200 load balancers of 10 backends each, the copies were 6 MB. Never changed in
// place: a new list replaces it.
class Backends {
 public:
  Backends() = default;
  Backends(std::vector<IpAddress> v)  // NOLINT(google-explicit-constructor): assigned from the rules' lists
      : p_(v.empty() ? nullptr : std::make_shared<const std::vector<IpAddress>>(std::move(v))) {}
  Backends(std::initializer_list<IpAddress> l) : Backends(std::vector<IpAddress>(l)) {}
  const std::vector<IpAddress>& list() const { return p_ ? *p_ : none(); }
  std::vector<IpAddress>::const_iterator begin() const { return list().begin(); }
  std::vector<IpAddress>::const_iterator end() const { return list().end(); }
  std::size_t size() const { return list().size(); }
  bool empty() const { return !p_; }
  const IpAddress& operator[](std::size_t i) const { return list()[i]; }
  friend bool operator==(const Backends& a, const Backends& b) { return a.p_ == b.p_ || a.list() == b.list(); }
  friend bool operator==(const Backends& a, const std::vector<IpAddress>& b) { return a.list() == b; }

 private:
  static const std::vector<IpAddress>& none() {
    static const std::vector<IpAddress> e;
    return e;
  }
  std::shared_ptr<const std::vector<IpAddress>> p_;
};

// A load balancer as the rules intend it; hns/ translates each field to HCN's flag bits and
// numbers (hcsshim hcn/hcnloadbalancer.go: LoadBalancerFlags, PortMappingFlags, DistributionType). The IP family is the key's.
struct LoadBalancer {
  LbKey key;
  // --- content: what HNS holds, and what a modify changes ---
  std::uint16_t internalPort = 0;
  bool dsr = false;                   // Direct Server Return: replies go from the backend to the client
  bool reachableFromHost = false;     // the node itself reaches the frontend (node ports)
  bool reachableFromOutside = false;  // traffic from outside the node reaches the frontend
  bool preserveDestination = false;   // backends see the frontend VIP as the destination
  Distribution distribution = Distribution::None;  // SourceIP: ClientIP session affinity
  std::optional<IpAddress> sourceVip;
  Backends backends;
  // Adopted from HNS with settings hnsproxy never makes (an internal-load-balancer port, half of
  // preserve-destination, flags it does not know): never the same content as a desired one, so
  // the diff modifies or replaces it.
  bool foreignSettings = false;
  // --- provenance: not sent to HNS ---
  ServiceName service;
  std::string portName;
  LbKind kind = LbKind::ClusterIP;
  bool allowModify = true;  // false when the service disables winProxyOptimization

  bool sameContent(const LoadBalancer& o) const {
    return key == o.key && internalPort == o.internalPort && dsr == o.dsr && reachableFromHost == o.reachableFromHost &&
           reachableFromOutside == o.reachableFromOutside && preserveDestination == o.preserveDestination &&
           distribution == o.distribution && sourceVip == o.sourceVip && backends == o.backends &&
           !foreignSettings && !o.foreignSettings;
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

// A MAC address as HNS writes it ("00-15-5D-00-00-04", "02-11-0a-f4-03-07"), held as its six
// bytes: there is one per managed endpoint in the desired state, the applied record and a plan,
// 100,000 of each on a node of a 1,000-node cluster, and as text it was 24 bytes of each record.
// A MAC in either form HNS accepts ("02:11:0a:f4:02:05", "02-11-0A-F4-02-05") reads back in HNS's
// own (dashes, upper case), so the same MAC written two ways compares equal. Any other text (never
// one HNS or hnsproxy makes) is kept whole, once per distinct text in a table for the process's
// life, and equals only the same text.
class MacText {
 public:
  MacText() = default;
  MacText(std::string_view s);                                      // NOLINT(google-explicit-constructor): assigned from HNS's strings
  MacText(const std::string& s) : MacText(std::string_view(s)) {}  // NOLINT(google-explicit-constructor)
  MacText(const char* s) : MacText(std::string_view(s)) {}          // NOLINT(google-explicit-constructor)
  std::string str() const;
  bool empty() const { return form_ == Form::Empty; }
  // The text was a MAC in one of HNS's forms.
  bool isMac() const { return form_ == Form::Mac; }
  friend bool operator==(const MacText& a, const MacText& b) = default;

 private:
  enum class Form : std::uint8_t { Empty, Mac, Text };
  std::array<std::uint8_t, 6> b_{};  // Mac: the bytes; Text: the table's index (4 bytes)
  Form form_ = Form::Empty;
};

// An endpoint hnsproxy owns (creates and deletes). Local pod endpoints are the CNI's.
struct ManagedEndpoint {
  IpAddress ip;
  EndpointKind kind = EndpointKind::Remote;
  MacText mac;
  std::optional<IpAddress> providerAddress;  // overlay PA policy
  bool isRemote() const { return kind != EndpointKind::SourceVip; }
  std::string str() const;
  friend bool operator==(const ManagedEndpoint&, const ManagedEndpoint&) = default;
};

// A full picture of hnsproxy's objects: what the node should have, or what was applied.
struct HnsState {
  std::map<LbKey, LoadBalancer> loadBalancers;
  PooledMap<IpAddress, ManagedEndpoint> endpoints;
  friend bool operator==(const HnsState&, const HnsState&) = default;
};

// Same HNS content (ignoring provenance).
bool sameContent(const HnsState& a, const HnsState& b);

// Why a service cannot be programmed exactly as specified. The text form (toString) is the
// CamelCase reason operators see in logs.
enum class WarningReason : std::uint8_t {
  BackendsTruncated,               // more usable endpoints than HNS accepts per load balancer
  ConflictingFrontend,             // an older service holds the same frontend
  DuplicateFrontend,               // two ports of one service claim one frontend
  EndpointIPReused,                // a remote endpoint's IP is held locally by HNS
  HealthCheckPortCollision,        // a forwarded health check would land on the healthz listener
  InconsistentEndpointPorts,       // endpoints disagree on the target port
  LocalTrafficWithoutDSR,          // ETP=Local on HNS without DSR
  PreserveDestinationUnsupported,  // preserve-destination on HNS without DSR
  RootEndpointMissing,             // --forward-healthcheck-vip without the root endpoint
  SessionAffinityTimeoutIgnored,   // HNS has no affinity timeout
  SessionAffinityUnsupported,      // ClientIP affinity on HNS before 12.0
  TopologyHintsIgnored,            // hints present but none for this zone
};
std::string_view toString(WarningReason r);

struct Warning {
  ServiceName service;  // empty for node-level warnings
  WarningReason reason = WarningReason::BackendsTruncated;
  std::string message;
  friend bool operator==(const Warning&, const Warning&) = default;
};

}  // namespace hnsproxy::policy

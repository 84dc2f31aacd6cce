// The domain model: what the proxy needs of Services, EndpointSlices, the Node, the HNS network
// and the HNS build. Filled by watch/ (from Kubernetes objects) and hns/ (from HNS); read by the
// rules. Plain values, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/capabilities.h"
#include "policy/ip.h"

namespace hnsproxy::policy {

enum class Protocol : std::uint8_t { TCP, UDP, SCTP };
std::string_view toString(Protocol p);

// A point in time the API server recorded (creationTimestamp, trigger-time annotations); parsed by
// watch/, compared here. Never read from a clock in this folder.
using Timestamp = std::chrono::system_clock::time_point;

enum class ServiceType : std::uint8_t { ClusterIP, NodePort, LoadBalancer, ExternalName };
std::string_view toString(ServiceType t);
enum class TrafficPolicy : std::uint8_t { Cluster, Local };
enum class SessionAffinity : std::uint8_t { None, ClientIP };

// "namespace/name": the key of a Service and of the slices that belong to it.
struct ServiceName {
  std::string ns;
  std::string name;
  std::string str() const { return ns + "/" + name; }
  friend auto operator<=>(const ServiceName&, const ServiceName&) = default;
  friend bool operator==(const ServiceName&, const ServiceName&) = default;
};

// A Service port's targetPort: a number, or the name of a container port.
using TargetPort = std::variant<std::uint16_t, std::string>;

struct ServicePort {
  std::string name;  // "" for a single unnamed port
  Protocol protocol = Protocol::TCP;
  std::uint16_t port = 0;
  TargetPort targetPort = std::uint16_t{0};  // 0: same as port
  std::uint16_t nodePort = 0;                // 0: none allocated
  friend bool operator==(const ServicePort&, const ServicePort&) = default;
};

struct Service {
  ServiceName id;
  Timestamp created{};  // metadata.creationTimestamp: the older service wins a contested frontend
  ServiceType type = ServiceType::ClusterIP;
  bool headless = false;              // clusterIP "None"
  std::vector<IpAddress> clusterIPs;  // in spec.clusterIPs order (primary first)
  std::vector<IpFamily> ipFamilies;
  std::vector<ServicePort> ports;
  std::vector<IpAddress> externalIPs;
  std::vector<IpAddress> ingressIPs;  // status.loadBalancer.ingress[].ip that parsed
  SessionAffinity sessionAffinity = SessionAffinity::None;
  std::int32_t affinityTimeoutSeconds = 10800;
  TrafficPolicy externalTrafficPolicy = TrafficPolicy::Cluster;
  TrafficPolicy internalTrafficPolicy = TrafficPolicy::Cluster;
  std::uint16_t healthCheckNodePort = 0;
  bool preserveDestination = false;    // annotation preserve-destination: "true"
  bool winProxyOptimization = true;    // annotation winProxyOptimization != DISABLED
  std::string trafficDistribution;     // spec.trafficDistribution, "" when unset
  bool topologyModeAuto = false;       // annotation service.kubernetes.io/topology-mode: Auto
  bool hasProxyNameLabel = false;      // label service.kubernetes.io/service-proxy-name set
  friend bool operator==(const Service&, const Service&) = default;
};

// A name that many objects repeat (the node an endpoint is on, its zone), held once for all of
// them: the handle is a pointer, the text lives in a process-wide table while any handle names it.
// At 100,000 endpoints on 1,000 nodes the names were 64 bytes of every endpoint (and a heap block
// each for a name longer than 15 characters, as cloud node names are). Thread-safe (the reflectors
// decode in threads of their own). Equal texts are the same handle.
class SharedName {
 public:
  SharedName() = default;
  SharedName(std::string_view s);                                   // NOLINT(google-explicit-constructor)
  SharedName(const std::string& s) : SharedName(std::string_view(s)) {}  // NOLINT(google-explicit-constructor)
  SharedName(const char* s) : SharedName(std::string_view(s)) {}          // NOLINT(google-explicit-constructor)
  SharedName(const SharedName& o) noexcept;
  SharedName(SharedName&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
  SharedName& operator=(const SharedName& o) noexcept;
  SharedName& operator=(SharedName&& o) noexcept;
  ~SharedName();
  const std::string& str() const;
  bool empty() const { return e_ == nullptr; }
  friend bool operator==(const SharedName& a, const SharedName& b) { return a.e_ == b.e_; }
  friend bool operator==(const SharedName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const SharedName& a, const char* b) { return a.str() == b; }
  // Names in the table now (for tests: a name goes when its last handle does).
  static std::size_t tableSize();

  struct Entry;

 private:
  Entry* e_ = nullptr;  // nullptr: the empty name
};

// EndpointHints.forZones / forNodes names.
struct EndpointHints {
  std::vector<SharedName> zones;
  std::vector<SharedName> nodes;
  friend bool operator==(const EndpointHints&, const EndpointHints&) = default;
};

// A value kept on the heap, empty until given one, for a member most objects leave empty: an
// endpoint operation carries no load balancer (a plan of 100,000 endpoint creates held 100,000
// empty ones inline: most of a cold start's peak memory), few endpoints carry topology hints.
// Reads of an empty box see a default T.
template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT(google-explicit-constructor): Op{kind, phase, lb, …}
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  ~Boxed() = default;
  const T& operator*() const { return p_ ? *p_ : empty(); }
  const T* operator->() const { return &**this; }
  // The value, to change (created on first use).
  T& edit() {
    if (!p_) p_ = std::make_unique<T>();
    return *p_;
  }
  friend bool operator==(const Boxed& a, const Boxed& b) { return *a == *b; }

 private:
  static const T& empty() {
    static const T e{};
    return e;
  }
  std::unique_ptr<T> p_;
};

struct Endpoint {
  IpAddress address;
  bool ready = true;        // conditions.ready, nil → true
  bool serving = true;      // conditions.serving, nil → true
  bool terminating = false; // conditions.terminating, nil → false
  SharedName nodeName;
  SharedName zone;
  Boxed<EndpointHints> hints;  // absent for most endpoints
  const std::vector<SharedName>& hintZones() const { return hints->zones; }
  const std::vector<SharedName>& hintNodes() const { return hints->nodes; }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointPort {
  std::optional<std::string> name;  // nil names are ignored by merging; "" is valid
  Protocol protocol = Protocol::TCP;
  std::uint16_t port = 0;           // 0: unset, ignored by merging
  friend bool operator==(const EndpointPort&, const EndpointPort&) = default;
};

enum class AddressType : std::uint8_t { IPv4, IPv6, FQDN };

struct EndpointSlice {
  std::string ns;
  std::string name;
  std::string serviceName;  // label kubernetes.io/service-name; "" → the slice is skipped
  AddressType addressType = AddressType::IPv4;
  std::vector<EndpointPort> ports;
  std::vector<Endpoint> endpoints;
  // Annotation endpoints.kubernetes.io/last-change-trigger-time: when the change this slice carries
  // began (for network_programming_duration). Not part of what the rules read.
  std::optional<Timestamp> triggerTime;
  // Equal when the rules would see the same slice: the trigger time is bookkeeping.
  friend bool operator==(const EndpointSlice& a, const EndpointSlice& b) {
    return a.ns == b.ns && a.name == b.name && a.serviceName == b.serviceName && a.addressType == b.addressType &&
           a.ports == b.ports && a.endpoints == b.endpoints;
  }
};

struct Node {
  std::string name;
  std::vector<IpAddress> internalIPs;
  std::vector<IpAddress> externalIPs;
  std::string zone;  // label topology.kubernetes.io/zone
  std::vector<Cidr> podCIDRs;
  bool deleting = false;                // metadata.deletionTimestamp set
  bool toBeDeletedByAutoscaler = false; // taint ToBeDeletedByClusterAutoscaler
  friend bool operator==(const Node&, const Node&) = default;
};

// --- What the node's HNS holds that the rules depend on ---

enum class NetworkType : std::uint8_t { L2Bridge, Overlay, Other };

struct RemoteSubnetRoute {
  Cidr destinationPrefix;
  IpAddress providerAddress;  // the remote node's IP (PA)
  std::uint32_t isolationId = 0;
  friend bool operator==(const RemoteSubnetRoute&, const RemoteSubnetRoute&) = default;
};

struct NetworkInfo {
  std::string name;
  std::string id;  // opaque to the rules; a change means "a new network"
  NetworkType type = NetworkType::L2Bridge;
  std::vector<Cidr> subnets;  // the network's own address prefixes (its IPAM subnets)
  std::vector<RemoteSubnetRoute> remoteSubnets;
  std::optional<IpAddress> providerAddress;  // overlay: this host's PA
  friend bool operator==(const NetworkInfo&, const NetworkInfo&) = default;
};

// The proxy's configuration as far as the rules read it.
struct ProxyConfig {
  bool enableDsr = false;
  std::optional<IpAddress> sourceVip;  // --source-vip (overlay)
  bool forwardHealthCheckVip = false;
  std::uint16_t healthzPort = 10256;
  // The healthz listener is bound to every address (0.0.0.0 / ::). A forwarded health-check load
  // balancer on the healthz port would then collide with it (community#8883).
  bool healthzOnAllAddresses = true;
  // Overrides the build's per-load-balancer backend limit when non-zero (lower only).
  std::uint32_t maxBackendsOverride = 0;
  friend bool operator==(const ProxyConfig&, const ProxyConfig&) = default;
};

// Everything about this node that every service's rules depend on. When it changes, every
// service is recomputed.
struct NodeContext {
  std::string nodeName;
  std::string zone;
  std::vector<IpAddress> nodeIPs;  // primary first; at most one per family is used
  std::string hostMac;             // MAC of the NIC owning the node IP ("00-15-5D-..")
  NetworkInfo network;
  Capabilities caps;
  ProxyConfig config;
  // IPs of the local (CNI-created) endpoints HNS holds on the network, without the source VIP.
  // Referenced, never created.
  std::vector<IpAddress> localEndpointIPs;  // sorted, unique
  // IP of the host endpoint named by --root-hnsendpoint-name, when HNS has it.
  std::optional<IpAddress> rootEndpointIP;

  std::optional<IpAddress> nodeIP(IpFamily family) const;
  bool hasLocalEndpoint(const IpAddress& ip) const;
  // The overlay source-VIP endpoint is hnsproxy's own even though HNS holds it as a local endpoint.
  bool isSourceVip(const IpAddress& ip) const { return config.sourceVip == ip; }
  // The families this node programs: the primary (first node IP's), and the other one only
  // when HNS supports dual-stack and the network is not overlay.
  std::vector<IpFamily> families() const;
  friend bool operator==(const NodeContext&, const NodeContext&) = default;
};

}  // namespace hnsproxy::policy

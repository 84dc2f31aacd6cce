// Policy objects ↔ HCN documents: the only place HCN's flag bits, enum numbers and policy
// documents are read or written for the objects hnsproxy programs (hns/hcn_codes.h). Backends
// travel as endpoint IDs in HNS and as IPs in the policy; the caller supplies the mapping.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hns/hcn_json.h"
#include "policy/desired.h"
#include "policy/host.h"

namespace hnsproxy::hns {

// Kubernetes protocol ↔ HCN's ProtocolType number (TCP 6, UDP 17, SCTP 132).
std::uint32_t protocolNumber(policy::Protocol p);
std::optional<policy::Protocol> protocolFromNumber(std::uint32_t n);
// "TCP", "UDP", "SCTP", or the number (for display).
std::string protocolName(std::uint32_t n);

// --- Encoding ---

// nullopt when a backend IP has no HNS endpoint ID (`missing` names it).
std::optional<HcnLoadBalancer> toHcn(const policy::LoadBalancer& lb,
                                     const std::function<std::optional<std::string>(const policy::IpAddress&)>& idOf,
                                     std::string* missing = nullptr);
HcnEndpoint toHcn(const policy::ManagedEndpoint& ep, const std::string& networkId);

// --- Decoding ---

// An HNS load balancer in policy terms; nullopt when it is not one hnsproxy (or upstream
// kube-proxy) could have made: no or several port mappings or frontends, a backend ID that is not
// an endpoint of this network, an unknown protocol. Flag bits hnsproxy never sets make it
// `foreignSettings` (replaced by the next diff, never mistaken for a match).
// endpointIps: each endpoint ID's addresses (a dual-stack pod endpoint has one of each family);
// the backend address is the one of the load balancer's family.
std::optional<policy::LoadBalancer> fromHcn(const HcnLoadBalancer& lb,
                                            const std::map<std::string, std::vector<policy::IpAddress>>& endpointIps);
// The same with any index: the addresses of a (normalised) endpoint ID, or nullptr.
using EndpointIpsLookup = std::function<const std::vector<policy::IpAddress>*(const std::string& normalizedId)>;
std::optional<policy::LoadBalancer> fromHcn(const HcnLoadBalancer& lb, const EndpointIpsLookup& ipsOf);
// A remote (or source-VIP) endpoint in policy terms; nullopt when it has no single parseable IP.
std::optional<policy::ManagedEndpoint> fromHcn(const HcnEndpoint& ep, policy::EndpointKind kind);

// The address of a ProviderAddress policy among an object's policies (an overlay endpoint's
// remote node, or the network's own PA).
std::optional<policy::IpAddress> providerAddressOf(const std::vector<HcnPolicy>& policies);
// Every parseable address of an endpoint, in HNS's order.
std::vector<policy::IpAddress> addressesOf(const HcnEndpoint& e);

struct NetworkRead {
  policy::NetworkInfo info;
  std::vector<std::string> problems;  // policies that were ignored, and why
};
// The network's type, subnets, remote-subnet routes (with their provider addresses) and own PA.
NetworkRead networkInfoFrom(const HcnNetwork& n);
// HNS's type names compare without case ("Overlay", "overlay").
bool isOverlay(const HcnNetwork& n);
// A non-remote endpoint as the host view holds it.
policy::HostEndpoint hostEndpointFrom(const HcnEndpoint& e);

}  // namespace hnsproxy::hns

// Policy objects ↔ HCN documents. Backends travel as endpoint IDs in HNS and as IPs in the
// policy; the caller supplies the mapping.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hns/hcn_json.h"
#include "policy/desired.h"

namespace hnsproxy::hns {

// nullopt when a backend IP has no HNS endpoint ID.
std::optional<HcnLoadBalancer> toHcn(const policy::LoadBalancer& lb,
                                     const std::function<std::optional<std::string>(const policy::IpAddress&)>& idOf,
                                     std::string* missing = nullptr);
HcnEndpoint toHcn(const policy::ManagedEndpoint& ep, const std::string& networkId);

// An HNS load balancer in policy terms; nullopt when it is not one hnsproxy (or upstream
// kube-proxy) could have made: no or several port mappings or frontends, a backend ID that is not
// an endpoint of this network, an unknown protocol.
// endpointIps: each endpoint ID's addresses (a dual-stack pod endpoint has one of each family);
// the backend address is the one of the load balancer's family.
std::optional<policy::LoadBalancer> fromHcn(const HcnLoadBalancer& lb,
                                            const std::map<std::string, std::vector<policy::IpAddress>>& endpointIps);
// A remote (or source-VIP) endpoint in policy terms; nullopt when it has no single parseable IP.
std::optional<policy::ManagedEndpoint> fromHcn(const HcnEndpoint& ep, policy::EndpointKind kind);

}  // namespace hnsproxy::hns

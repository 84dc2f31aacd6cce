#include "hns/translate.h"

#include <algorithm>

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

std::optional<HcnLoadBalancer> toHcn(const LoadBalancer& lb,
                                     const std::function<std::optional<std::string>(const IpAddress&)>& idOf,
                                     std::string* missing) {
  HcnLoadBalancer h;
  for (const auto& b : lb.backends) {
    auto id = idOf(b);
    if (!id) {
      if (missing) *missing = b.str();
      return std::nullopt;
    }
    h.endpoints.push_back(*id);
  }
  if (lb.sourceVip) h.sourceVip = lb.sourceVip->str();
  if (lb.key.vip) h.frontendVips = {lb.key.vip->str()};
  HcnPortMapping pm;
  pm.protocol = hnsProtocolNumber(lb.key.protocol);
  pm.internalPort = lb.internalPort;
  pm.externalPort = lb.key.port;
  pm.distributionType = static_cast<std::uint32_t>(lb.distribution);
  pm.flags = lb.portFlags;
  h.portMappings = {pm};
  h.flags = lb.flags;
  return h;
}

HcnEndpoint toHcn(const ManagedEndpoint& ep, const std::string& networkId) {
  HcnEndpoint h;
  h.network = networkId;
  h.ipConfigurations = {{ep.ip.str(), 0}};
  h.macAddress = ep.mac;
  h.flags = ep.isRemote() ? kEndpointFlagRemote : 0;
  if (ep.providerAddress) {
    HcnPolicy p;
    p.type = "ProviderAddress";
    p.settings = {{"ProviderAddress", ep.providerAddress->str()}};
    h.policies.push_back(p);
  }
  return h;
}

std::optional<LoadBalancer> fromHcn(const HcnLoadBalancer& h,
                                    const std::map<std::string, std::vector<IpAddress>>& endpointIps) {
  if (h.portMappings.size() != 1 || h.frontendVips.size() > 1) return std::nullopt;
  const auto& pm = h.portMappings[0];
  LoadBalancer lb;
  lb.key.family = (h.flags & kLbFlagIPv6) ? IpFamily::V6 : IpFamily::V4;
  switch (pm.protocol) {
    case 6: lb.key.protocol = Protocol::TCP; break;
    case 17: lb.key.protocol = Protocol::UDP; break;
    case 132: lb.key.protocol = Protocol::SCTP; break;
    default: return std::nullopt;
  }
  if (!h.frontendVips.empty()) {
    auto vip = IpAddress::parse(h.frontendVips[0]);
    if (!vip) return std::nullopt;
    lb.key.vip = *vip;
  }
  lb.key.port = pm.externalPort;
  lb.internalPort = pm.internalPort;
  lb.flags = h.flags;
  lb.portFlags = pm.flags;
  if (pm.distributionType > 2) return std::nullopt;
  lb.distribution = static_cast<Distribution>(pm.distributionType);
  if (!h.sourceVip.empty()) {
    auto s = IpAddress::parse(h.sourceVip);
    if (!s) return std::nullopt;
    lb.sourceVip = *s;
  }
  for (const auto& id : h.endpoints) {
    auto it = endpointIps.find(normalizeGuid(id));
    if (it == endpointIps.end()) return std::nullopt;
    const IpAddress* pick = nullptr;
    for (const auto& ip : it->second)
      if (ip.family() == lb.key.family) {
        pick = &ip;
        break;
      }
    if (!pick) return std::nullopt;
    lb.backends.push_back(*pick);
  }
  std::sort(lb.backends.begin(), lb.backends.end());
  lb.backends.erase(std::unique(lb.backends.begin(), lb.backends.end()), lb.backends.end());
  return lb;
}

std::optional<ManagedEndpoint> fromHcn(const HcnEndpoint& h, EndpointKind kind) {
  if (h.ipConfigurations.size() != 1) return std::nullopt;
  auto ip = IpAddress::parse(h.ipConfigurations[0].ipAddress);
  if (!ip) return std::nullopt;
  ManagedEndpoint ep;
  ep.ip = *ip;
  ep.kind = kind;
  ep.mac = h.macAddress;
  for (const auto& p : h.policies)
    if (p.type == "ProviderAddress" && p.settings.contains("ProviderAddress") && p.settings["ProviderAddress"].is_string())
      ep.providerAddress = IpAddress::parse(p.settings["ProviderAddress"].get<std::string>());
  return ep;
}

}  // namespace hnsproxy::hns

#include "hns/translate.h"

#include <algorithm>

#include "hns/hcn_codes.h"

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::uint32_t distributionNumber(Distribution d) {
  switch (d) {
    case Distribution::None: return hcn::kDistributionNone;
    case Distribution::SourceIPProtocol: return hcn::kDistributionSourceIpProtocol;
    case Distribution::SourceIP: return hcn::kDistributionSourceIp;
  }
  return hcn::kDistributionNone;
}

std::optional<Distribution> distributionFrom(std::uint32_t n) {
  switch (n) {
    case hcn::kDistributionNone: return Distribution::None;
    case hcn::kDistributionSourceIpProtocol: return Distribution::SourceIPProtocol;
    case hcn::kDistributionSourceIp: return Distribution::SourceIP;
    default: return std::nullopt;
  }
}

std::optional<IpAddress> ipSetting(const HcnPolicy& p, const char* key) {
  const auto* v = member(p.settings, key);
  if (!v || !v->is_string()) return std::nullopt;
  return IpAddress::parse(v->get<std::string>());
}

}  // namespace

std::uint32_t protocolNumber(Protocol p) {
  switch (p) {
    case Protocol::TCP: return hcn::kProtocolTcp;
    case Protocol::UDP: return hcn::kProtocolUdp;
    case Protocol::SCTP: return hcn::kProtocolSctp;
  }
  return 0;
}

std::optional<Protocol> protocolFromNumber(std::uint32_t n) {
  switch (n) {
    case hcn::kProtocolTcp: return Protocol::TCP;
    case hcn::kProtocolUdp: return Protocol::UDP;
    case hcn::kProtocolSctp: return Protocol::SCTP;
    default: return std::nullopt;
  }
}

std::string protocolName(std::uint32_t n) {
  auto p = protocolFromNumber(n);
  return p ? std::string(toString(*p)) : std::to_string(n);
}

std::optional<HcnLoadBalancer> toHcn(const LoadBalancer& lb,
                                     const std::function<std::optional<std::string>(const IpAddress&)>& idOf,
                                     std::string* missing) {
  HcnLoadBalancer h;
  h.endpoints.reserve(lb.backends.size());
  for (const auto& b : lb.backends) {
    auto id = idOf(b);
    if (!id) {
      if (missing) *missing = b.str();
      return std::nullopt;
    }
    h.endpoints.push_back(std::move(*id));
  }
  if (lb.sourceVip) h.sourceVip = lb.sourceVip->str();
  if (lb.key.vip) h.frontendVips = {lb.key.vip->str()};
  HcnPortMapping pm;
  pm.protocol = protocolNumber(lb.key.protocol);
  pm.internalPort = lb.internalPort;
  pm.externalPort = lb.key.port;
  pm.distributionType = distributionNumber(lb.distribution);
  pm.flags = (lb.reachableFromHost ? hcn::kPortFlagLocalRoutedVip : 0) |
             (lb.reachableFromOutside ? hcn::kPortFlagVipExternalIp : 0) |
             (lb.preserveDestination ? hcn::kPortFlagUseMux | hcn::kPortFlagPreserveDip : 0);
  h.portMappings = {pm};
  h.flags = (lb.dsr ? hcn::kLbFlagDsr : 0) | (lb.key.family == IpFamily::V6 ? hcn::kLbFlagIPv6 : 0);
  return h;
}

HcnEndpoint toHcn(const ManagedEndpoint& ep, const std::string& networkId) {
  HcnEndpoint h;
  h.network = networkId;
  h.ipConfigurations = {{ep.ip.str(), 0}};
  h.macAddress = ep.mac.str();
  h.flags = ep.isRemote() ? hcn::kEndpointFlagRemote : 0;
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
  return fromHcn(h, [&](const std::string& id) -> const std::vector<IpAddress>* {
    auto it = endpointIps.find(id);
    return it == endpointIps.end() ? nullptr : &it->second;
  });
}

std::optional<LoadBalancer> fromHcn(const HcnLoadBalancer& h, const EndpointIpsLookup& ipsOf) {
  if (h.portMappings.size() != 1 || h.frontendVips.size() > 1) return std::nullopt;
  const auto& pm = h.portMappings[0];
  LoadBalancer lb;
  lb.key.family = (h.flags & hcn::kLbFlagIPv6) ? IpFamily::V6 : IpFamily::V4;
  auto protocol = protocolFromNumber(pm.protocol);
  if (!protocol) return std::nullopt;
  lb.key.protocol = *protocol;
  if (!h.frontendVips.empty()) {
    auto vip = IpAddress::parse(h.frontendVips[0]);
    if (!vip) return std::nullopt;
    lb.key.vip = *vip;
  }
  lb.key.port = pm.externalPort;
  lb.internalPort = pm.internalPort;
  lb.dsr = (h.flags & hcn::kLbFlagDsr) != 0;
  lb.reachableFromHost = (pm.flags & hcn::kPortFlagLocalRoutedVip) != 0;
  lb.reachableFromOutside = (pm.flags & hcn::kPortFlagVipExternalIp) != 0;
  const std::uint32_t preserve = hcn::kPortFlagUseMux | hcn::kPortFlagPreserveDip;
  lb.preserveDestination = (pm.flags & preserve) == preserve;
  const std::uint32_t knownPortFlags = hcn::kPortFlagLocalRoutedVip | hcn::kPortFlagVipExternalIp | preserve;
  lb.foreignSettings = (h.flags & ~hcn::kLbFlagsKnown) != 0 || (pm.flags & ~knownPortFlags) != 0 ||
                       ((pm.flags & preserve) != 0 && !lb.preserveDestination);
  auto dist = distributionFrom(pm.distributionType);
  if (!dist) return std::nullopt;
  lb.distribution = *dist;
  if (!h.sourceVip.empty()) {
    auto s = IpAddress::parse(h.sourceVip);
    if (!s) return std::nullopt;
    lb.sourceVip = *s;
  }
  std::vector<IpAddress> backends;
  backends.reserve(h.endpoints.size());
  for (const auto& id : h.endpoints) {
    const std::vector<IpAddress>* ips = ipsOf(normalizeGuid(id));
    if (!ips) return std::nullopt;
    auto pick = std::find_if(ips->begin(), ips->end(), [&](const IpAddress& ip) { return ip.family() == lb.key.family; });
    if (pick == ips->end()) return std::nullopt;
    backends.push_back(*pick);
  }
  std::sort(backends.begin(), backends.end());
  backends.erase(std::unique(backends.begin(), backends.end()), backends.end());
  lb.backends = std::move(backends);
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
  ep.providerAddress = providerAddressOf(h.policies);
  return ep;
}

std::optional<IpAddress> providerAddressOf(const std::vector<HcnPolicy>& policies) {
  for (const auto& p : policies)
    if (equalsIgnoreCase(p.type, "ProviderAddress"))
      if (auto ip = ipSetting(p, "ProviderAddress")) return ip;
  return std::nullopt;
}

std::vector<IpAddress> addressesOf(const HcnEndpoint& e) {
  std::vector<IpAddress> out;
  for (const auto& c : e.ipConfigurations)
    if (auto ip = IpAddress::parse(c.ipAddress)) out.push_back(*ip);
  return out;
}

bool isOverlay(const HcnNetwork& n) { return equalsIgnoreCase(n.type, "Overlay"); }

NetworkRead networkInfoFrom(const HcnNetwork& n) {
  NetworkRead r;
  NetworkInfo& info = r.info;
  info.name = n.name;
  info.id = n.id;
  info.type = isOverlay(n)                            ? NetworkType::Overlay
              : equalsIgnoreCase(n.type, "L2Bridge") ? NetworkType::L2Bridge
                                                     : NetworkType::Other;
  for (const auto& p : n.policies) {
    if (equalsIgnoreCase(p.type, "RemoteSubnetRoute")) {
      const auto& s = p.settings;
      const auto* dest = member(s, "DestinationPrefix");
      auto prefix = dest && dest->is_string() ? Cidr::parse(dest->get<std::string>()) : std::nullopt;
      auto pa = ipSetting(p, "ProviderAddress");
      if (!prefix || !pa) {
        r.problems.push_back("network " + n.name + ": RemoteSubnetRoute policy ignored, it needs a valid "
                             "DestinationPrefix and ProviderAddress: " + s.dump());
        continue;
      }
      const auto* isoJson = member(s, "IsolationId");
      std::uint32_t iso = isoJson && isoJson->is_number_unsigned() ? isoJson->get<std::uint32_t>() : 0;
      info.remoteSubnets.push_back({*prefix, *pa, iso});
    } else if (equalsIgnoreCase(p.type, "ProviderAddress")) {
      info.providerAddress = ipSetting(p, "ProviderAddress");
    }
  }
  std::sort(info.remoteSubnets.begin(), info.remoteSubnets.end(),
            [](const auto& a, const auto& b) { return a.destinationPrefix < b.destinationPrefix; });
  if (n.ipams.is_array())
    for (const auto& ipam : n.ipams)
      if (const auto* subs = member(ipam, "Subnets"); subs && subs->is_array())
        for (const auto& sub : *subs)
          if (const auto* prefix = member(sub, "IpAddressPrefix"); prefix && prefix->is_string())
            if (auto c = Cidr::parse(prefix->get<std::string>())) info.subnets.push_back(*c);
  std::sort(info.subnets.begin(), info.subnets.end());
  return r;
}

HostEndpoint hostEndpointFrom(const HcnEndpoint& e) { return HostEndpoint{e.id, e.name, addressesOf(e), e.macAddress}; }

}  // namespace hnsproxy::hns

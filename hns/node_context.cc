#include "hns/node_context.h"

#include <algorithm>

namespace hnsproxy::hns {

using policy::IpAddress;

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

Result<NodeContextResult> nodeContextFrom(const HnsSnapshot& hns, const NodeContextOptions& opts) {
  const HcnNetwork* net = nullptr;
  for (const auto& n : hns.networks)
    if (n.name == opts.networkName) net = &n;
  if (!net) {
    std::string names;
    for (const auto& n : hns.networks) names += (names.empty() ? "" : ", ") + n.name;
    return Error(ErrorCode::NotFound, "HNS network '" + opts.networkName + "' not found (HNS has: " +
                                          (names.empty() ? "no networks" : names) + ")");
  }
  NodeContextResult out;
  policy::NodeContext& ctx = out.context;
  ctx.nodeName = opts.nodeName;
  ctx.zone = opts.zone;
  ctx.nodeIPs = opts.nodeIPs;
  ctx.caps = policy::Capabilities::fromVersion(hns.version);
  ctx.config = opts.config;
  ctx.network.name = net->name;
  ctx.network.id = net->id;
  ctx.network.type = equalsIgnoreCase(net->type, "Overlay")    ? policy::NetworkType::Overlay
                     : equalsIgnoreCase(net->type, "L2Bridge") ? policy::NetworkType::L2Bridge
                                                               : policy::NetworkType::Other;
  for (const auto& p : net->policies) {
    if (equalsIgnoreCase(p.type, "RemoteSubnetRoute")) {
      const auto& s = p.settings;
      auto prefix = s.contains("DestinationPrefix") && s["DestinationPrefix"].is_string()
                        ? policy::Cidr::parse(s["DestinationPrefix"].get<std::string>())
                        : std::nullopt;
      auto pa = s.contains("ProviderAddress") && s["ProviderAddress"].is_string()
                    ? IpAddress::parse(s["ProviderAddress"].get<std::string>())
                    : std::nullopt;
      if (!prefix || !pa) {
        out.warnings.push_back("network " + net->name + ": RemoteSubnetRoute policy ignored, it needs a valid "
                               "DestinationPrefix and ProviderAddress: " + s.dump());
        continue;
      }
      std::uint32_t iso = s.contains("IsolationId") && s["IsolationId"].is_number_unsigned()
                              ? s["IsolationId"].get<std::uint32_t>()
                              : 0;
      ctx.network.remoteSubnets.push_back({*prefix, *pa, iso});
    } else if (equalsIgnoreCase(p.type, "ProviderAddress")) {
      const auto& s = p.settings;
      if (s.contains("ProviderAddress") && s["ProviderAddress"].is_string())
        ctx.network.providerAddress = IpAddress::parse(s["ProviderAddress"].get<std::string>());
    }
  }
  std::sort(ctx.network.remoteSubnets.begin(), ctx.network.remoteSubnets.end(),
            [](const auto& a, const auto& b) { return a.destinationPrefix < b.destinationPrefix; });

  std::string rootMac;
  for (const auto& e : hns.endpoints) {
    if (!equalsIgnoreCase(e.network, net->id) || e.isRemote()) continue;
    for (const auto& c : e.ipConfigurations) {
      auto ip = IpAddress::parse(c.ipAddress);
      if (!ip) continue;
      ctx.localEndpointIPs.push_back(*ip);
      if (!opts.rootEndpointName.empty() && e.name == opts.rootEndpointName && !ctx.rootEndpointIP) {
        ctx.rootEndpointIP = *ip;
        rootMac = e.macAddress;
      }
    }
  }
  std::sort(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end());
  ctx.localEndpointIPs.erase(std::unique(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end()),
                             ctx.localEndpointIPs.end());
  // The overlay source-VIP endpoint is ours even though it is local: it must not count as a CNI
  // pod endpoint, or a sync would reference it instead of owning it.
  if (ctx.config.sourceVip) std::erase(ctx.localEndpointIPs, *ctx.config.sourceVip);
  ctx.hostMac = opts.hostMac.empty() ? rootMac : opts.hostMac;
  return out;
}

}  // namespace hnsproxy::hns

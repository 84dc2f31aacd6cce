#include "policy/node_context.h"

#include <algorithm>

namespace hnsproxy::policy {

namespace {

std::vector<IpAddress> nodeIPsOf(const HostView& host, const std::optional<Node>& node, const NodeConfig& cfg) {
  if (cfg.bindAddress) return {*cfg.bindAddress};
  std::vector<IpAddress> out;
  if (node) {
    for (const auto* list : {&node->internalIPs, &node->externalIPs})
      for (const auto& ip : *list)
        if (std::none_of(out.begin(), out.end(), [&](const IpAddress& x) { return x.family() == ip.family(); }))
          out.push_back(ip);
  }
  if (out.empty() && host.network.providerAddress) out.push_back(*host.network.providerAddress);
  return out;
}

}  // namespace

NodeContextResult makeNodeContext(const HostView& host, const std::optional<Node>& node, const NodeConfig& cfg) {
  NodeContextResult r;
  NodeContext& ctx = r.context;
  ctx.nodeName = cfg.nodeName;
  if (node) ctx.zone = node->zone;
  ctx.nodeIPs = nodeIPsOf(host, node, cfg);
  if (ctx.nodeIPs.empty()) {
    ctx.nodeIPs = {IpAddress::v4(127, 0, 0, 1)};
    r.assumedLoopback = true;
  }
  ctx.network = host.network;
  ctx.caps = host.caps;
  ctx.config = cfg.rules;
  for (const auto& e : host.localEndpoints) {
    for (const auto& ip : e.ips) {
      if (ctx.isSourceVip(ip)) continue;  // the overlay source VIP is ours, not a pod's
      ctx.localEndpointIPs.push_back(ip);
      if (!cfg.rootEndpointName.empty() && e.name == cfg.rootEndpointName && !ctx.rootEndpointIP) {
        ctx.rootEndpointIP = ip;
        if (!e.mac.empty()) {
          ctx.hostMac = e.mac;
          r.hostMacFrom = NodeContextResult::MacSource::RootEndpoint;
        }
      }
    }
  }
  // The NIC that owns the node IP (the first family's first), as upstream finds it.
  for (const auto& nodeIp : ctx.nodeIPs) {
    auto a = std::find_if(host.adapters.begin(), host.adapters.end(), [&](const HostAdapter& ad) {
      return !ad.mac.empty() && std::find(ad.ips.begin(), ad.ips.end(), nodeIp) != ad.ips.end();
    });
    if (a != host.adapters.end()) {
      ctx.hostMac = a->mac;
      r.hostMacFrom = NodeContextResult::MacSource::Adapter;
      break;
    }
  }
  std::sort(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end());
  ctx.localEndpointIPs.erase(std::unique(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end()),
                             ctx.localEndpointIPs.end());
  return r;
}

}  // namespace hnsproxy::policy

#include "hns/sim/vfp.h"

#include <fmt/format.h>

#include "hns/hcn_codes.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

using policy::IpAddress;

namespace {

std::uint64_t fnv(std::uint64_t h, const void* data, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::uint64_t hashIp(std::uint64_t h, const IpAddress& ip) { return fnv(h, ip.bytes().data(), ip.size()); }

std::string endpointOf(const Packet& p) {
  return fmt::format("{}:{}", p.dstIp.isV4() ? p.dstIp.str() : "[" + p.dstIp.str() + "]", p.dstPort);
}

const HcnEndpoint* findEndpoint(const HnsSnapshot& hns, const std::string& id) {
  for (const auto& e : hns.endpoints)
    if (normalizeGuid(e.id) == normalizeGuid(id)) return &e;
  return nullptr;
}

std::optional<IpAddress> firstIp(const HcnEndpoint& e) {
  for (const auto& c : e.ipConfigurations)
    if (auto ip = IpAddress::parse(c.ipAddress)) return ip;
  return std::nullopt;
}

bool hasLoopbackDsr(const HcnEndpoint& e, const IpAddress& own) {
  for (const auto& pol : e.policies) {
    if (pol.type != "OutBoundNAT" || !pol.settings.contains("Destinations")) continue;
    for (const auto& d : pol.settings["Destinations"])
      if (d.is_string() && IpAddress::parse(d.get<std::string>()) == own) return true;
  }
  return false;
}

}  // namespace

std::string Trace::str() const {
  std::string s;
  for (const auto& n : notes) s += "  " + n + "\n";
  s += delivered ? fmt::format("=> delivered {}:{} -> {} proto {}{}\n",
                               out.srcIp.isV4() ? out.srcIp.str() : "[" + out.srcIp.str() + "]", out.srcPort,
                               endpointOf(out), out.protocol,
                               remote ? (providerAddress ? " (remote, encapsulated to " + providerAddress->str() + ")"
                                                         : std::string(" (remote node)"))
                                      : std::string(""))
                 : std::string("=> not delivered\n");
  return s;
}

Trace tracePacket(const HnsSnapshot& hns, const std::vector<IpAddress>& nodeIPs, const Packet& p) {
  Trace t;
  t.out = p;
  if (p.protocol == 1 || p.protocol == 58) {
    t.notes.push_back("ICMP is not transposed by VFP: routed unchanged (Microsoft's Windows container networking docs: ICMP to a VIP)");
    t.delivered = true;
    return t;
  }
  bool toNode = std::find(nodeIPs.begin(), nodeIPs.end(), p.dstIp) != nodeIPs.end();
  const HcnLoadBalancer* match = nullptr;
  for (const auto& lb : hns.loadBalancers) {
    if (lb.portMappings.empty()) continue;
    const auto& pm = lb.portMappings[0];
    if (pm.protocol != p.protocol || pm.externalPort != p.dstPort) continue;
    bool vipMatch = false;
    if (lb.frontendVips.empty()) vipMatch = toNode;
    for (const auto& v : lb.frontendVips)
      if (IpAddress::parse(v) == p.dstIp) vipMatch = true;
    if (!vipMatch) continue;
    if (p.ingress == Ingress::Host && !(pm.flags & hcn::kPortFlagLocalRoutedVip)) {
      t.notes.push_back("load balancer " + lb.id +
                        " matches, but from the host only LocalRoutedVIP load balancers answer");
      continue;
    }
    if (p.ingress == Ingress::External && !lb.frontendVips.empty() && !(pm.flags & hcn::kPortFlagVipExternalIp)) {
      t.notes.push_back("load balancer " + lb.id + " matches, but its VIP is not reachable from outside the node");
      continue;
    }
    match = &lb;
    break;
  }
  if (!match) {
    t.notes.push_back("no load balancer matches " + endpointOf(p) + ": routed unchanged");
    t.delivered = !toNode || p.ingress == Ingress::Host;
    if (toNode && p.ingress != Ingress::Host) t.notes.push_back("addressed to the node on a port no load balancer serves");
    return t;
  }
  const auto& pm = match->portMappings[0];
  t.loadBalancerId = match->id;
  t.notes.push_back(fmt::format("matched load balancer {} ({} -> port {}, flags {}, port flags {})", match->id,
                                endpointOf(p), pm.internalPort, match->flags, pm.flags));
  if (match->endpoints.empty()) {
    t.notes.push_back("no backends: dropped");
    return t;
  }
  std::uint64_t h = 1469598103934665603ull;
  switch (pm.distributionType) {
    case hcn::kDistributionSourceIp: h = hashIp(h, p.srcIp); break;
    case hcn::kDistributionSourceIpProtocol:
      h = hashIp(h, p.srcIp);
      h = fnv(h, &p.protocol, sizeof p.protocol);
      break;
    default:
      h = hashIp(h, p.srcIp);
      h = hashIp(h, p.dstIp);
      h = fnv(h, &p.srcPort, sizeof p.srcPort);
      h = fnv(h, &p.dstPort, sizeof p.dstPort);
      h = fnv(h, &p.protocol, sizeof p.protocol);
  }
  const std::string& backendId = match->endpoints[h % match->endpoints.size()];
  const HcnEndpoint* be = findEndpoint(hns, backendId);
  t.backendEndpointId = backendId;
  if (!be || !firstIp(*be)) {
    t.notes.push_back("backend " + backendId + " does not exist: dropped");
    return t;
  }
  IpAddress backendIp = *firstIp(*be);
  t.notes.push_back(fmt::format("chose backend {} ({}) by distribution {}", backendIp.str(), backendId,
                                pm.distributionType == hcn::kDistributionSourceIp           ? "SourceIP"
                                : pm.distributionType == hcn::kDistributionSourceIpProtocol ? "SourceIPProtocol"
                                                                                            : "5-tuple"));
  bool dsr = match->flags & hcn::kLbFlagDsr;
  t.out.dstIp = (pm.flags & hcn::kPortFlagPreserveDip) ? p.dstIp : backendIp;
  t.out.dstPort = pm.internalPort;
  if (pm.flags & hcn::kPortFlagPreserveDip) t.notes.push_back("PreserveDIP: destination IP stays the VIP");
  if (dsr) {
    t.notes.push_back("DSR: client source kept, return traffic bypasses the load balancer");
  } else {
    std::optional<IpAddress> snat = IpAddress::parse(match->sourceVip);
    if (!snat) {
      if (!match->frontendVips.empty()) {
        snat = IpAddress::parse(match->frontendVips[0]);
        t.notes.push_back("no SourceVIP: HNS falls back to the VIP as source (kubernetes PR #137455)");
      } else {
        snat = p.dstIp;
      }
    }
    if (snat) t.out.srcIp = *snat;
    t.notes.push_back("source NAT to " + t.out.srcIp.str() + "");
  }
  if (p.ingress == Ingress::LocalEndpoint && normalizeGuid(p.fromEndpointId) == normalizeGuid(backendId) && dsr &&
      !hasLoopbackDsr(*be, backendIp)) {
    t.notes.push_back("hairpin under DSR without the loopback-DSR OutBoundNAT policy: times out");
    return t;
  }
  t.remote = be->isRemote();
  if (t.remote) {
    t.providerAddress = providerAddressOf(be->policies);
    t.notes.push_back(t.providerAddress ? "remote backend: encapsulated to PA " + t.providerAddress->str() + ""
                                        : std::string("remote backend: forwarded to its node"));
  }
  t.delivered = true;
  return t;
}

}  // namespace hnsproxy::hns

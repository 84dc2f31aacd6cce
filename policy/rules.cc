#include "policy/rules.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace hnsproxy::policy {

bool shouldSkipService(const Service& svc) {
  return svc.headless || svc.type == ServiceType::ExternalName || svc.hasProxyNameLabel || svc.clusterIPs.empty();
}

namespace {

std::optional<IpFamily> sliceFamily(AddressType t) {
  switch (t) {
    case AddressType::IPv4: return IpFamily::V4;
    case AddressType::IPv6: return IpFamily::V6;
    case AddressType::FQDN: return std::nullopt;
  }
  return std::nullopt;
}

// 64-bit FNV-1a followed by the splitmix64 finaliser: stable across platforms and runs.
std::uint64_t hashOf(std::string_view salt, const IpAddress& ip) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : salt) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  h = (h ^ 0xffu) * 1099511628211ull;
  for (std::size_t i = 0; i < ip.size(); ++i) h = (h ^ ip.bytes()[i]) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

bool contains(const std::vector<SharedName>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<PortEndpoint> mergeEndpoints(const ServicePort& port, IpFamily family,
                                         const std::vector<const EndpointSlice*>& slices) {
  std::vector<const EndpointSlice*> ordered(slices);
  std::sort(ordered.begin(), ordered.end(),
            [](const EndpointSlice* a, const EndpointSlice* b) { return a->name < b->name; });
  std::vector<PortEndpoint> out;
  std::map<std::pair<IpAddress, std::uint16_t>, std::size_t> seen;
  for (const EndpointSlice* slice : ordered) {
    if (sliceFamily(slice->addressType) != family) continue;
    std::uint16_t number = 0;
    for (const auto& sp : slice->ports) {
      if (!sp.name || *sp.name != port.name || sp.protocol != port.protocol || sp.port == 0) continue;
      number = sp.port;
      break;
    }
    if (number == 0) continue;
    for (const auto& ep : slice->endpoints) {
      if (ep.address.family() != family) continue;
      auto [it, inserted] = seen.emplace(std::make_pair(ep.address, number), out.size());
      if (inserted) {
        out.push_back({&ep, number});
      } else if (out[it->second].endpoint->terminating && !ep.terminating) {
        out[it->second].endpoint = &ep;
      }
    }
  }
  return out;
}

std::vector<IpAddress> capBackends(std::vector<std::pair<IpAddress, bool>> candidates, std::size_t limit,
                                   std::string_view salt) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   candidates.end());
  std::vector<IpAddress> out;
  if (candidates.size() > limit) {
    struct Ranked {
      bool remote;
      std::uint64_t negScore;
      IpAddress ip;
      auto operator<=>(const Ranked&) const = default;
    };
    std::vector<Ranked> ranked;
    ranked.reserve(candidates.size());
    for (const auto& [ip, local] : candidates) ranked.push_back({!local, ~hashOf(salt, ip), ip});
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(limit), ranked.end());
    for (std::size_t i = 0; i < limit; ++i) out.push_back(ranked[i].ip);
    std::sort(out.begin(), out.end());
    return out;
  }
  out.reserve(candidates.size());
  for (const auto& c : candidates) out.push_back(c.first);
  return out;
}

std::string conjureMac(const IpAddress& ip) {
  const auto& b = ip.bytes();
  std::uint8_t o[4];
  if (ip.isV4()) {
    for (int i = 0; i < 4; ++i) o[i] = b[i];
  } else {
    for (int i = 0; i < 4; ++i) o[i] = b[15 - i];
  }
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, "02-11-%02X-%02X-%02X-%02X", o[0], o[1], o[2], o[3]);
  return buf;
}

namespace {

// Overlay: the remote subnet route whose prefix holds the IP, or whose PA is the IP.
const RemoteSubnetRoute* findRoute(const IpAddress& ip, const NodeContext& ctx) {
  for (const auto& r : ctx.network.remoteSubnets)
    if (r.destinationPrefix.contains(ip) || r.providerAddress == ip) return &r;
  return nullptr;
}

}  // namespace

ManagedEndpoint remoteEndpointFor(const IpAddress& ip, const NodeContext& ctx) {
  ManagedEndpoint ep;
  ep.ip = ip;
  ep.kind = EndpointKind::Remote;
  ep.mac = conjureMac(ip);
  if (ctx.network.type == NetworkType::Overlay) {
    const RemoteSubnetRoute* r = findRoute(ip, ctx);
    ep.providerAddress = r ? std::optional<IpAddress>(r->providerAddress) : ctx.nodeIP(ip.family());
  }
  return ep;
}

std::vector<ManagedEndpoint> nodeEndpoints(const NodeContext& ctx) {
  std::vector<ManagedEndpoint> out;
  // Never an endpoint without a MAC: with no host MAC known, none (the reconciler warns).
  if (ctx.network.type == NetworkType::Overlay && ctx.config.sourceVip && !ctx.hostMac.empty()) {
    out.push_back({*ctx.config.sourceVip, EndpointKind::SourceVip, ctx.hostMac, std::nullopt});
  }
  return out;
}

namespace {

struct Candidate {
  const Endpoint* ep;
  bool local;
};

enum class TopologyMode { None, Node, Zone };

class ServiceRules {
 public:
  ServiceRules(const Service& svc, const std::vector<const EndpointSlice*>& slices, const NodeContext& ctx)
      : svc_(svc), slices_(slices), ctx_(ctx) {}

  ServiceResult run() {
    if (shouldSkipService(svc_)) return std::move(r_);
    const Capabilities& caps = ctx_.caps;
    etpLocal_ = svc_.externalTrafficPolicy == TrafficPolicy::Local;
    itpLocal_ = svc_.internalTrafficPolicy == TrafficPolicy::Local;
    clusterDsr_ = ctx_.config.enableDsr && caps.dsr;
    localTrafficDsr_ = etpLocal_ && caps.dsr;
    preserveDip_ = svc_.preserveDestination && caps.dsr;
    distribution_ = svc_.sessionAffinity == SessionAffinity::ClientIP ? Distribution::SourceIP : Distribution::None;
    limit_ = caps.maxBackends;
    if (ctx_.config.maxBackendsOverride != 0) limit_ = std::min(limit_, ctx_.config.maxBackendsOverride);
    serviceWarnings();
    for (IpFamily family : ctx_.families()) {
      auto clusterIP = firstOf(svc_.clusterIPs, family);
      if (!clusterIP) continue;
      if (ctx_.network.type == NetworkType::Overlay) r_.serviceVipEndpoints.push_back(*clusterIP);
      for (const auto& port : svc_.ports) programPort(port, family, *clusterIP);
    }
    std::sort(r_.serviceVipEndpoints.begin(), r_.serviceVipEndpoints.end());
    auto& missing = r_.missingLocalEndpoints;
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    return std::move(r_);
  }

 private:
  static std::optional<IpAddress> firstOf(const std::vector<IpAddress>& ips, IpFamily family) {
    for (const auto& ip : ips)
      if (ip.family() == family) return ip;
    return std::nullopt;
  }
  static std::vector<IpAddress> allOf(const std::vector<IpAddress>& ips, IpFamily family) {
    std::vector<IpAddress> out;
    for (const auto& ip : ips)
      if (ip.family() == family) out.push_back(ip);
    return out;
  }

  void warn(WarningReason reason, std::string message) {
    Warning w{svc_.id, reason, std::move(message)};
    if (std::find(r_.warnings.begin(), r_.warnings.end(), w) == r_.warnings.end()) r_.warnings.push_back(std::move(w));
  }

  bool hasExternalFrontends() const {
    return !svc_.externalIPs.empty() || (svc_.type == ServiceType::LoadBalancer && !svc_.ingressIPs.empty()) ||
           std::any_of(svc_.ports.begin(), svc_.ports.end(), [](const ServicePort& p) { return p.nodePort != 0; });
  }

  void serviceWarnings() {
    const std::string build = "HNS " + ctx_.caps.version.str();
    if (etpLocal_ && !ctx_.caps.dsr && hasExternalFrontends())
      warn(WarningReason::LocalTrafficWithoutDSR, "externalTrafficPolicy Local: " + build +
                                         " has no DSR; external traffic goes to local endpoints only, but the "
                                         "client source IP is not preserved");
    if (svc_.preserveDestination && !ctx_.caps.dsr)
      warn(WarningReason::PreserveDestinationUnsupported,
           "annotation preserve-destination needs DSR, which " + build + " lacks; ignored");
    if (svc_.sessionAffinity == SessionAffinity::ClientIP) {
      if (!ctx_.caps.sessionAffinity)
        warn(WarningReason::SessionAffinityUnsupported, "sessionAffinity ClientIP needs HNS 12.0 (Windows Server 2022); " + build +
                                               " may ignore the SourceIP distribution");
      if (svc_.affinityTimeoutSeconds != 10800)
        warn(WarningReason::SessionAffinityTimeoutIgnored, "sessionAffinityConfig.clientIP.timeoutSeconds=" +
                                                  std::to_string(svc_.affinityTimeoutSeconds) +
                                                  " cannot be honoured: HNS has no affinity timeout");
    }
  }

  TopologyMode topologyMode(const std::vector<Candidate>& cands) {
    bool anyReady = false, allNode = true, hasNode = false, allZone = true, hasZone = false;
    for (const auto& c : cands) {
      if (!c.ep->ready) continue;
      anyReady = true;
      if (c.ep->hintNodes().empty()) allNode = false;
      else if (contains(c.ep->hintNodes(), ctx_.nodeName)) hasNode = true;
      if (c.ep->hintZones().empty()) allZone = false;
      else if (contains(c.ep->hintZones(), ctx_.zone)) hasZone = true;
    }
    if (!anyReady) return TopologyMode::None;
    if (allNode && hasNode) return TopologyMode::Node;
    if (allZone) {
      if (hasZone) return TopologyMode::Zone;
      warn(WarningReason::TopologyHintsIgnored, ctx_.zone.empty() ? "ignoring topology hints: this node has no zone label"
                                                     : "ignoring topology hints: no endpoint has a hint for zone " +
                                                           ctx_.zone);
    }
    return TopologyMode::None;
  }

  bool availableForTopology(const Candidate& c, TopologyMode mode) const {
    switch (mode) {
      case TopologyMode::None: return true;
      case TopologyMode::Node: return contains(c.ep->hintNodes(), ctx_.nodeName);
      case TopologyMode::Zone: return contains(c.ep->hintZones(), ctx_.zone);
    }
    return true;
  }

  // KEP-1669: ready endpoints; when none is ready, the serving-and-terminating ones, so that
  // connections drain instead of being black-holed.
  std::vector<std::pair<IpAddress, bool>> pick(const std::vector<Candidate>& cands, bool localOnly,
                                               TopologyMode mode) const {
    std::vector<std::pair<IpAddress, bool>> out;
    for (const auto& c : cands)
      if (c.ep->ready && (!localOnly || c.local) && availableForTopology(c, mode))
        out.emplace_back(c.ep->address, c.local);
    if (!out.empty()) return out;
    for (const auto& c : cands)
      if (c.ep->serving && c.ep->terminating && (!localOnly || c.local)) out.emplace_back(c.ep->address, c.local);
    return out;
  }

  std::vector<IpAddress> capped(const std::vector<std::pair<IpAddress, bool>>& set, const ServicePort& port,
                                std::string_view what) {
    std::string salt = svc_.id.str() + "/" + port.name;
    auto out = capBackends(set, limit_, salt);
    std::size_t unique = set.size();
    {
      std::set<IpAddress> u;
      for (const auto& s : set) u.insert(s.first);
      unique = u.size();
    }
    if (unique > out.size()) {
      r_.backendsTruncated += static_cast<std::uint32_t>(unique - out.size());
      warn(WarningReason::BackendsTruncated, "port " + (port.name.empty() ? std::to_string(port.port) : port.name) + " " +
                                    std::string(what) + ": " + std::to_string(unique) +
                                    " usable endpoints exceed the HNS limit of " + std::to_string(limit_) +
                                    " backends per load balancer; programming a stable subset of " +
                                    std::to_string(out.size()) + " (local endpoints first)");
    }
    return out;
  }

  bool isNodeOrPublic(const IpAddress& ip) const {
    if (ctx_.nodeIP(ip.family()) == ip) return true;
    bool inSubnet = false;
    for (const auto& r : ctx_.network.remoteSubnets) {
      if (r.providerAddress == ip) return true;
      if (r.destinationPrefix.contains(ip)) inSubnet = true;
    }
    return !inSubnet;
  }

  void add(LoadBalancer lb) {
    for (const auto& existing : r_.loadBalancers) {
      if (existing.key == lb.key) {
        warn(WarningReason::DuplicateFrontend, lb.key.str() + " is claimed twice by this service (ports " + existing.portName +
                                      " and " + lb.portName + "); keeping the first");
        return;
      }
    }
    r_.loadBalancers.push_back(std::move(lb));
  }

  void programPort(const ServicePort& port, IpFamily family, const IpAddress& clusterIP) {
    const std::string portLabel = port.name.empty() ? std::to_string(port.port) : port.name;
    auto merged = mergeEndpoints(port, family, slices_);

    // One internal port per load balancer: the number the slices give (named targetPorts are
    // resolved by the EndpointSlice controller). When they disagree, HNS cannot express it:
    // take the port most endpoints use (lowest on a tie) and leave the others out.
    std::uint16_t internal = port.port;
    if (auto* n = std::get_if<std::uint16_t>(&port.targetPort); n && *n != 0) internal = *n;
    if (!merged.empty()) {
      std::map<std::uint16_t, std::size_t> counts;
      for (const auto& pe : merged) ++counts[pe.port];
      auto best = counts.begin();
      for (auto it = counts.begin(); it != counts.end(); ++it)
        if (it->second > best->second) best = it;
      internal = best->first;
      if (counts.size() > 1) {
        warn(WarningReason::InconsistentEndpointPorts,
             "port " + portLabel + ": endpoints use " + std::to_string(counts.size()) +
                 " different target ports; HNS supports one per load balancer, using " + std::to_string(internal) +
                 " and leaving out " + std::to_string(merged.size() - best->second) + " endpoint(s)");
        std::erase_if(merged, [&](const PortEndpoint& pe) { return pe.port != internal; });
      }
    }

    std::vector<Candidate> cands;
    for (const auto& pe : merged) {
      const Endpoint* ep = pe.endpoint;
      bool local = !ctx_.nodeName.empty() && ep->nodeName == ctx_.nodeName;
      if (local && !ctx_.hasLocalEndpoint(ep->address)) {
        r_.missingLocalEndpoints.push_back(ep->address);  // the CNI's endpoint is not known yet
        continue;
      }
      if (!local && ctx_.hasLocalEndpoint(ep->address)) {
        warn(WarningReason::EndpointIPReused, "endpoint " + ep->address.str() + " is listed on node '" + ep->nodeName.str() +
                                     "' but HNS holds a local endpoint with that IP; skipped");
        continue;
      }
      cands.push_back({ep, local});
    }

    TopologyMode mode = topologyMode(cands);
    auto clusterSet = pick(cands, false, mode);
    auto localSet = pick(cands, true, TopologyMode::None);

    const auto& internalSet = itpLocal_ ? localSet : clusterSet;
    const auto& externalIpSet = etpLocal_ ? localSet : clusterSet;
    const auto& ingressSet = (etpLocal_ || preserveDip_) ? localSet : clusterSet;
    auto externalIPs = allOf(svc_.externalIPs, family);
    auto ingressIPs = svc_.type == ServiceType::LoadBalancer ? allOf(svc_.ingressIPs, family)
                                                             : std::vector<IpAddress>{};
    const bool hasNodePort = port.nodePort != 0 && svc_.type != ServiceType::ClusterIP;
    if (!cands.empty()) {
      if (itpLocal_ && localSet.empty()) r_.noLocalEndpointsInternal = true;
      if (etpLocal_ && localSet.empty() && (hasNodePort || !externalIPs.empty() || !ingressIPs.empty()))
        r_.noLocalEndpointsExternal = true;
    }

    // Source VIP. Overlay: --source-vip, but the node IP when a remote backend is a node IP or
    // outside every remote subnet (upstream PR #91886). Elsewhere the node IP: upstream leaves it
    // empty on L2Bridge, and newer WS2019 builds then build the NAT pool from the VIP and break
    // hairpin (community#8890).
    std::optional<IpAddress> sourceVip = ctx_.nodeIP(family);
    if (ctx_.network.type == NetworkType::Overlay) {
      bool nodeOrPublic = false;
      for (const auto* set : {&clusterSet, &localSet})
        for (const auto& [ip, local] : *set)
          if (!local && isNodeOrPublic(ip)) nodeOrPublic = true;
      if (!nodeOrPublic && ctx_.config.sourceVip && ctx_.config.sourceVip->family() == family)
        sourceVip = ctx_.config.sourceVip;
    }

    // How each kind is reached (upstream's pkg/proxy/winkernel/proxier.go syncProxyRules): a node port from the host and from
    // outside; external and ingress IPs from outside; the cluster IP from pods only.
    struct Shape {
      bool dsr = false, fromHost = false, fromOutside = false, preserveDestination = false;
    };
    auto make = [&](LbKind kind, std::optional<IpAddress> vip, std::uint16_t extPort, std::vector<IpAddress> backends,
                    Shape shape) {
      if (backends.empty()) return;
      LoadBalancer lb;
      lb.key = LbKey{family, port.protocol, vip, extPort};
      lb.internalPort = internal;
      lb.dsr = shape.dsr;
      lb.reachableFromHost = shape.fromHost;
      lb.reachableFromOutside = shape.fromOutside;
      lb.preserveDestination = shape.preserveDestination;
      lb.distribution = distribution_;
      lb.sourceVip = sourceVip;
      lb.backends = std::move(backends);
      lb.service = svc_.id;
      lb.portName = port.name;
      lb.kind = kind;
      lb.allowModify = svc_.winProxyOptimization;
      add(std::move(lb));
    };

    make(LbKind::ClusterIP, clusterIP, port.port, capped(internalSet, port, "cluster IP"), Shape{clusterDsr_});
    if (hasNodePort) {
      make(LbKind::NodePort, std::nullopt, port.nodePort, capped(ingressSet, port, "node port"),
           Shape{localTrafficDsr_, true, true, false});
    }
    if (!externalIPs.empty()) {
      auto backends = capped(externalIpSet, port, "external IP");
      for (const auto& ip : externalIPs)
        make(LbKind::ExternalIP, ip, port.port, backends, Shape{localTrafficDsr_, false, true, false});
    }
    if (!ingressIPs.empty()) {
      auto backends = capped(ingressSet, port, "load balancer ingress");
      for (const auto& ip : ingressIPs)
        make(LbKind::Ingress, ip, port.port, backends,
             Shape{localTrafficDsr_ || preserveDip_, false, true, preserveDip_});
      if (ctx_.config.forwardHealthCheckVip && !backends.empty()) healthCheck(family, ingressIPs, sourceVip);
    }
  }

  // --forward-healthcheck-vip: <ingress IP>:<health port> → the host's root endpoint. TCP
  // always (health probes are HTTP, whatever the service's protocol). The healthz port is used
  // when the service has no healthCheckNodePort; if the healthz listener is bound to every
  // address that would collide with it (HCN_E_PORT_ALREADY_EXISTS, community#8883), so the
  // load balancer is left out and the operator told to bind healthz to the node IP.
  void healthCheck(IpFamily family, const std::vector<IpAddress>& ingressIPs,
                   const std::optional<IpAddress>& sourceVip) {
    std::uint16_t hport = svc_.healthCheckNodePort ? svc_.healthCheckNodePort : ctx_.config.healthzPort;
    if (hport == 0) return;
    if (!svc_.healthCheckNodePort && ctx_.config.healthzOnAllAddresses) {
      warn(WarningReason::HealthCheckPortCollision,
           "--forward-healthcheck-vip: the service has no healthCheckNodePort and the healthz port " +
               std::to_string(hport) +
               " is bound on all addresses, so a health-check load balancer would collide with it; not created "
               "(bind --healthz-bind-address to the node IP to enable it)");
      return;
    }
    if (!ctx_.rootEndpointIP || ctx_.rootEndpointIP->family() != family) {
      warn(WarningReason::RootEndpointMissing, "--forward-healthcheck-vip: HNS has no root endpoint (--root-hnsendpoint-name) of "
                                  "family " + std::string(toString(family)) + "; no health-check load balancer");
      return;
    }
    for (const auto& ip : ingressIPs) {
      LoadBalancer lb;
      lb.key = LbKey{family, Protocol::TCP, ip, hport};
      lb.internalPort = hport;
      lb.preserveDestination = preserveDip_;
      lb.sourceVip = sourceVip;
      lb.backends = {*ctx_.rootEndpointIP};
      lb.service = svc_.id;
      lb.portName = "healthcheck";
      lb.kind = LbKind::HealthCheck;
      lb.allowModify = svc_.winProxyOptimization;
      bool dup = std::any_of(r_.loadBalancers.begin(), r_.loadBalancers.end(),
                             [&](const LoadBalancer& o) { return o.key == lb.key; });
      if (!dup) r_.loadBalancers.push_back(std::move(lb));
    }
  }

  const Service& svc_;
  const std::vector<const EndpointSlice*>& slices_;
  const NodeContext& ctx_;
  ServiceResult r_;
  bool etpLocal_ = false, itpLocal_ = false, clusterDsr_ = false, localTrafficDsr_ = false, preserveDip_ = false;
  Distribution distribution_ = Distribution::None;
  std::uint32_t limit_ = 64;
};

}  // namespace

ServiceResult computeService(const Service& svc, const std::vector<const EndpointSlice*>& slices,
                             const NodeContext& ctx) {
  return ServiceRules(svc, slices, ctx).run();
}

}  // namespace hnsproxy::policy

#include "policy/engine.h"

#include <algorithm>
#include <tuple>

namespace hnsproxy::policy {

Engine::Engine(NodeContext ctx) : ctx_(std::move(ctx)) {
  // Two IPs a bucket on average: the bucket array of 100,000 IPs was 1.4 MB at a load of 0.6.
  ips_.max_load_factor(2.0F);
}

bool Engine::setContext(NodeContext ctx) {
  if (ctx == ctx_) return false;
  NodeContext probe = ctx;
  probe.localEndpointIPs = ctx_.localEndpointIPs;
  if (probe == ctx_) {
    setLocalEndpoints(std::move(ctx.localEndpointIPs));
    return true;
  }
  std::set_symmetric_difference(ctx_.localEndpointIPs.begin(), ctx_.localEndpointIPs.end(),
                                ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end(),
                                std::inserter(repointed_, repointed_.end()));
  ctx_ = std::move(ctx);
  contextDirty_ = true;
  return true;
}

void Engine::setLocalEndpoints(std::vector<IpAddress> ips) {
  std::vector<IpAddress> changed;
  std::set_symmetric_difference(ctx_.localEndpointIPs.begin(), ctx_.localEndpointIPs.end(), ips.begin(), ips.end(),
                                std::back_inserter(changed));
  ctx_.localEndpointIPs = std::move(ips);
  for (const auto& ip : changed) {
    touchedIps_.insert(ip);
    repointed_.insert(ip);
    if (auto it = ips_.find(ip); it != ips_.end()) it->second.forEachService([&](const ServiceName& svc) { dirty_.insert(svc); });
  }
}

void Engine::indexSlice(const EndpointSlice& s, const ServiceName& owner, int delta) {
  const ServiceName* key = &slices_.find(owner)->first;  // the caller keeps owner's entry in slices_
  for (const auto& e : s.endpoints) {
    auto it = ips_.try_emplace(e.address).first;
    it->second.list(key, delta);
    if (!it->second.listed() && !it->second.referenced()) ips_.erase(it);
  }
}

void Engine::IpUse::list(const ServiceName* svc, int delta) {
  if (first == svc) {
    firstCount += delta;
  } else if (more) {
    auto it = std::find_if(more->begin(), more->end(), [&](const auto& p) { return p.first == svc; });
    if (it != more->end()) {
      it->second += delta;
      if (it->second <= 0) more->erase(it);
      if (more->empty()) more.reset();
      return;
    }
  }
  if (first != svc) {
    if (delta <= 0) return;
    if (!first) {
      first = svc;
      firstCount = delta;
    } else {
      if (!more) more = std::make_unique<std::vector<std::pair<const ServiceName*, int>>>();
      more->emplace_back(svc, delta);
    }
    return;
  }
  if (firstCount > 0) return;
  first = nullptr;
  firstCount = 0;
  if (more) {  // the next service moves inline
    std::tie(first, firstCount) = more->front();
    more->erase(more->begin());
    if (more->empty()) more.reset();
  }
}

void Engine::upsertService(Service svc) {
  auto it = services_.find(svc.id);
  if (it != services_.end() && it->second == svc) return;
  if (it != services_.end()) indexHealthCheck(it->second, false);
  indexHealthCheck(svc, true);
  ServiceName id = svc.id;
  services_[id] = std::move(svc);
  dirty_.insert(id);
}

void Engine::deleteService(const ServiceName& id) {
  auto it = services_.find(id);
  if (it == services_.end()) return;
  indexHealthCheck(it->second, false);
  services_.erase(it);
  dirty_.insert(id);
}

void Engine::indexHealthCheck(const Service& s, bool add) {
  if (s.type != ServiceType::LoadBalancer || s.externalTrafficPolicy != TrafficPolicy::Local ||
      s.healthCheckNodePort == 0 || shouldSkipService(s))
    return;
  if (add) hcPorts_[s.healthCheckNodePort] = s.id;
  else if (auto h = hcPorts_.find(s.healthCheckNodePort); h != hcPorts_.end() && h->second == s.id) hcPorts_.erase(h);
}

const Service* Engine::service(const ServiceName& id) const {
  auto it = services_.find(id);
  return it == services_.end() ? nullptr : &it->second;
}

int Engine::localReadyEndpoints(const ServiceName& id) const {
  auto s = slices_.find(id);
  if (s == slices_.end()) return 0;
  std::set<IpAddress> ips;
  for (const auto& [name, slice] : s->second)
    for (const auto& e : slice.endpoints)
      if (e.ready && !e.terminating && !ctx_.nodeName.empty() && e.nodeName == ctx_.nodeName) ips.insert(e.address);
  return static_cast<int>(ips.size());
}

void Engine::upsertSlice(EndpointSlice slice) {
  auto key = std::make_pair(slice.ns, slice.name);
  auto owner = sliceOwner_.find(key);
  ServiceName newOwner{slice.ns, slice.serviceName};
  if (owner != sliceOwner_.end()) {
    if (owner->second == newOwner) {
      auto& stored = slices_[newOwner][slice.name];
      if (stored == slice) return;
      indexSlice(stored, newOwner, -1);
      indexSlice(slice, newOwner, +1);
      stored = std::move(slice);
      dirty_.insert(newOwner);
      return;
    }
    deleteSlice(slice.ns, slice.name);  // the slice moved to another service (or lost its label)
  }
  if (slice.serviceName.empty()) return;  // no kubernetes.io/service-name label: not ours to use
  sliceOwner_[key] = newOwner;
  auto& bucket = slices_[newOwner];
  indexSlice(slice, newOwner, +1);
  bucket[slice.name] = std::move(slice);
  dirty_.insert(newOwner);
}

void Engine::deleteSlice(const std::string& ns, const std::string& name) {
  auto owner = sliceOwner_.find({ns, name});
  if (owner == sliceOwner_.end()) return;
  auto svcSlices = slices_.find(owner->second);
  if (svcSlices != slices_.end()) {
    if (auto it = svcSlices->second.find(name); it != svcSlices->second.end()) indexSlice(it->second, owner->second, -1);
    svcSlices->second.erase(name);
    if (svcSlices->second.empty()) slices_.erase(svcSlices);
  }
  dirty_.insert(owner->second);
  sliceOwner_.erase(owner);
}

MissingLocalEndpoints Engine::missingLocalEndpoints() const {
  MissingLocalEndpoints out;
  for (const auto& [ip, n] : missingLocal_) out.insert(ip);
  return out;
}

void Engine::countMissing(const ServiceResult& r, int delta) {
  for (const auto& ip : r.missingLocalEndpoints) {
    missingLocal_[ip] += delta;
    if (missingLocal_[ip] <= 0) missingLocal_.erase(ip);
  }
}

const ServiceResult* Engine::result(const ServiceName& id) const {
  auto it = results_.find(id);
  return it == results_.end() ? nullptr : &it->second;
}

void Engine::markAllDirty() {
  for (const auto& [id, svc] : services_) dirty_.insert(id);
  for (const auto& [id, res] : results_) dirty_.insert(id);
}

bool Engine::isManagedBackend(const IpAddress& ip) const {
  return !ctx_.hasLocalEndpoint(ip) && ctx_.rootEndpointIP != ip;
}

void Engine::ref(const IpAddress& ip, EndpointKind kind, int delta, std::vector<IpAddress>& touched) {
  IpUse& r = ips_[ip];
  switch (kind) {
    case EndpointKind::Remote: r.remote += delta; break;
    case EndpointKind::ServiceVip: r.serviceVip += delta; break;
    case EndpointKind::SourceVip: r.sourceVip += delta; break;
  }
  touched.push_back(ip);
}

// Every backend use is counted, local or not; whether it needs a managed (remote) endpoint is
// decided when the IP is settled, so a pod's IP turning local or remote needs no recount.
void Engine::refBackends(const LoadBalancer& lb, int delta, std::vector<IpAddress>& touched) {
  for (const auto& b : lb.backends) ref(b, EndpointKind::Remote, delta, touched);
}

// One IP, one endpoint: a source-VIP or service-VIP use of an IP wins over a remote-backend
// use (they cannot coexist in HNS, and the VIP endpoints also serve as backends' targets).
void Engine::settleEndpoint(const IpAddress& ip) {
  auto it = ips_.find(ip);
  if (it == ips_.end()) {
    desired_.endpoints.erase(ip);
    return;
  }
  IpUse& r = it->second;
  if (r.sourceVip > 0) {
    desired_.endpoints.erase(ip);
    for (auto& ep : nodeEndpoints(ctx_))
      if (ep.ip == ip) desired_.endpoints[ip] = ep;
  } else if (r.serviceVip > 0 && !ctx_.hostMac.empty()) {  // never an endpoint without a MAC
    desired_.endpoints[ip] = ManagedEndpoint{ip, EndpointKind::ServiceVip, ctx_.hostMac, ctx_.nodeIP(ip.family())};
  } else if (r.remote > 0 && isManagedBackend(ip)) {
    desired_.endpoints[ip] = remoteEndpointFor(ip, ctx_);
  } else {
    desired_.endpoints.erase(ip);
    if (r.remote <= 0 && r.serviceVip <= 0) {
      r.remote = r.serviceVip = r.sourceVip = 0;
      if (!r.listed()) ips_.erase(it);
    }
  }
}

Changes Engine::recompute() {
  Changes changes;
  changes.scope.all = false;
  std::set<LbKey> keys;
  // The IPs whose uses changed, with repeats (sorted and made unique before they are settled): at
  // a cold start all 100,000 of them, where a set was 6 MB of nodes at the sync's peak.
  std::vector<IpAddress> ips;
  if (contextDirty_) {
    // Everything depends on the context: start over, and let the diff compare everything.
    for (const auto& [key, lb] : desired_.loadBalancers) keys.insert(key);
    ips.reserve(desired_.endpoints.size());
    for (const auto& [ip, ep] : desired_.endpoints) ips.push_back(ip);
    claims_.clear();
    results_.clear();
    claimOf_.clear();
    for (auto it = ips_.begin(); it != ips_.end();) {  // uses start over; the slices' listing stays
      it->second.remote = it->second.serviceVip = it->second.sourceVip = 0;
      it = it->second.listed() ? std::next(it) : ips_.erase(it);
    }
    desired_ = HnsState{};
    truncated_ = 0;
    conflicts_ = 0;
    missingLocal_.clear();
    noLocalInternal_ = noLocalExternal_ = 0;
    markAllDirty();
    for (const auto& ep : nodeEndpoints(ctx_)) ref(ep.ip, ep.kind, 1, ips);
    changes.scope.all = true;
    contextDirty_ = false;
  }

  // Conflicts are counted per frontend; the keys touched below are taken out first and put
  // back after, so the count stays O(changed) to maintain.
  auto conflictsAt = [&](const LbKey& key) -> std::size_t {
    auto c = claims_.find(key);
    return c == claims_.end() || c->second.empty() ? 0 : c->second.size() - 1;
  };
  std::vector<const EndpointSlice*> sliceList;
  for (const ServiceName& id : dirty_) {
    if (auto old = results_.find(id); old != results_.end()) {
      const Claim& claim = claimOf_[id];
      for (const auto& lb : old->second.loadBalancers) {
        conflicts_ -= conflictsAt(lb.key);
        auto c = claims_.find(lb.key);
        if (c != claims_.end()) c->second.erase(claim);
        conflicts_ += conflictsAt(lb.key);
        keys.insert(lb.key);
      }
      for (const auto& vip : old->second.serviceVipEndpoints) ref(vip, EndpointKind::ServiceVip, -1, ips);
      truncated_ -= old->second.backendsTruncated;
      countMissing(old->second, -1);
      noLocalInternal_ -= old->second.noLocalEndpointsInternal ? 1 : 0;
      noLocalExternal_ -= old->second.noLocalEndpointsExternal ? 1 : 0;
      results_.erase(old);
      claimOf_.erase(id);
    }
    auto svc = services_.find(id);
    if (svc == services_.end()) continue;
    sliceList.clear();
    if (auto s = slices_.find(id); s != slices_.end())
      for (const auto& [name, slice] : s->second) sliceList.push_back(&slice);
    ServiceResult res = computeService(svc->second, sliceList, ctx_);
    ++changes.servicesRecomputed;
    Claim claim{svc->second.created, id};
    for (const auto& lb : res.loadBalancers) {
      conflicts_ -= conflictsAt(lb.key);
      claims_[lb.key][claim] = &lb;  // res moves into results_ below: the elements stay put
      conflicts_ += conflictsAt(lb.key);
      keys.insert(lb.key);
    }
    for (const auto& vip : res.serviceVipEndpoints) ref(vip, EndpointKind::ServiceVip, 1, ips);
    truncated_ += res.backendsTruncated;
    countMissing(res, +1);
    noLocalInternal_ += res.noLocalEndpointsInternal ? 1 : 0;
    noLocalExternal_ += res.noLocalEndpointsExternal ? 1 : 0;
    changes.warnings.insert(changes.warnings.end(), res.warnings.begin(), res.warnings.end());
    claimOf_[id] = claim;
    results_[id] = std::move(res);
  }
  dirty_.clear();
  ips.insert(ips.end(), touchedIps_.begin(), touchedIps_.end());
  touchedIps_.clear();

  for (const LbKey& key : keys) {
    auto c = claims_.find(key);
    auto old = desired_.loadBalancers.find(key);
    if (old != desired_.loadBalancers.end()) {
      refBackends(old->second, -1, ips);
      desired_.loadBalancers.erase(old);
    }
    if (c != claims_.end() && !c->second.empty()) {
      const LoadBalancer& winner = *c->second.begin()->second;
      desired_.loadBalancers[key] = winner;
      refBackends(winner, +1, ips);
      if (c->second.size() > 1) {
        for (auto it = std::next(c->second.begin()); it != c->second.end(); ++it) {
          changes.warnings.push_back(
              {it->first.service, WarningReason::ConflictingFrontend,
               key.str() + " is also claimed by the older service " + winner.service.str() +
                   "; this service's " + std::string(toString(it->second->kind)) + " load balancer is not programmed"});
        }
      }
    } else if (c != claims_.end()) {
      claims_.erase(c);
    }
  }

  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  for (const auto& ip : ips) settleEndpoint(ip);
  if (!changes.scope.all) {
    changes.scope.loadBalancers = std::move(keys);
    changes.scope.endpoints = std::set<IpAddress>(ips.begin(), ips.end());  // sorted: linear
  }
  changes.scope.repointed = std::move(repointed_);
  repointed_.clear();
  return changes;
}

HnsState computeAll(const std::vector<Service>& services, const std::vector<EndpointSlice>& slices,
                    const NodeContext& ctx) {
  std::map<ServiceName, std::vector<const EndpointSlice*>> bySvc;
  for (const auto& s : slices)
    if (!s.serviceName.empty()) bySvc[ServiceName{s.ns, s.serviceName}].push_back(&s);

  // Oldest claim wins each frontend: (creationTimestamp, namespace/name).
  std::map<LbKey, std::pair<std::pair<Timestamp, ServiceName>, LoadBalancer>> winners;
  std::set<IpAddress> vips;
  for (const auto& svc : services) {
    ServiceResult r = computeService(svc, bySvc[svc.id], ctx);
    for (const auto& lb : r.loadBalancers) {
      auto prio = std::make_pair(svc.created, svc.id);
      auto it = winners.find(lb.key);
      if (it == winners.end() || prio < it->second.first) winners[lb.key] = {prio, lb};
    }
    vips.insert(r.serviceVipEndpoints.begin(), r.serviceVipEndpoints.end());
  }
  HnsState out;
  std::set<IpAddress> remotes;
  for (auto& [key, w] : winners) {
    for (const auto& b : w.second.backends)
      if (!ctx.hasLocalEndpoint(b) && ctx.rootEndpointIP != b) remotes.insert(b);
    out.loadBalancers[key] = std::move(w.second);
  }
  for (const auto& ip : remotes) out.endpoints[ip] = remoteEndpointFor(ip, ctx);
  if (!ctx.hostMac.empty())  // never an endpoint without a MAC
    for (const auto& ip : vips)
      out.endpoints[ip] = ManagedEndpoint{ip, EndpointKind::ServiceVip, ctx.hostMac, ctx.nodeIP(ip.family())};
  for (const auto& ep : nodeEndpoints(ctx)) out.endpoints[ep.ip] = ep;
  return out;
}

}  // namespace hnsproxy::policy

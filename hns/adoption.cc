#include "hns/adoption.h"

#include "hns/translate.h"

#include <string_view>
#include <unordered_map>

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

Adoption adopt(const Listing& l, const NodeContext& ctx, const HnsState& desired) {
  Adoption a;
  // Each endpoint ID's addresses, keyed by views of the listing's own IDs (alive until this returns):
  // 100,000 endpoints at restart.
  std::unordered_map<std::string_view, std::vector<IpAddress>> ipsOfId;
  ipsOfId.reserve(l.endpoints.size());
  for (const auto& e : l.endpoints) {
    auto ips = addressesOf(e);
    if (ips.empty()) continue;
    const bool sourceVip = !e.isRemote() && ips.size() == 1 && ctx.isSourceVip(ips[0]);
    if (!e.isRemote() && !sourceVip) {  // the CNI's: referenced, never changed
      for (const auto& ip : ips) a.ids.localEndpoints.emplace(ip, e.id);
      ipsOfId[std::string_view(e.id)] = std::move(ips);
      continue;
    }
    auto m = fromHcn(e, sourceVip ? EndpointKind::SourceVip : EndpointKind::Remote);  // kinds: annotate()
    if (!m) continue;
    if (a.ids.managedEndpoints.count(m->ip)) {
      // Two remote endpoints with one IP: keep the first, leave the other for the operator.
      a.ids.foreignEndpoints.insert(e.id);
      continue;
    }
    a.ids.managedEndpoints[m->ip] = e.id;
    a.applied.endpoints[m->ip] = *m;
    ipsOfId[std::string_view(e.id)] = {m->ip};
    ++a.adoptedEndpoints;
  }
  for (const auto& h : l.loadBalancers) {
    auto lb = fromHcn(h, [&](const std::string& id) -> const std::vector<IpAddress>* {
      auto it = ipsOfId.find(id);
      return it == ipsOfId.end() ? nullptr : &it->second;
    });
    if (!lb || lb->backends.empty()) continue;  // not built on this network's endpoints: not ours
    if (a.ids.loadBalancers.count(lb->key)) {
      a.duplicateLoadBalancers.push_back(h.id);
      continue;
    }
    a.ids.loadBalancers[lb->key] = h.id;
    a.applied.loadBalancers[lb->key] = std::move(*lb);
    ++a.adoptedLoadBalancers;
  }
  annotate(a, desired);  // provenance and endpoint kinds: the desired state's
  return a;
}

void annotate(Adoption& a, const HnsState& desired) {
  for (auto& [ip, m] : a.applied.endpoints) {
    if (m.kind == EndpointKind::SourceVip) continue;
    if (auto d = desired.endpoints.find(ip); d != desired.endpoints.end()) m.kind = d->second.kind;
  }
  for (auto& [key, lb] : a.applied.loadBalancers) {
    auto d = desired.loadBalancers.find(key);
    if (d == desired.loadBalancers.end()) continue;
    lb.service = d->second.service;
    lb.portName = d->second.portName;
    lb.kind = d->second.kind;
    lb.allowModify = d->second.allowModify;
  }
}

std::size_t driftBetween(const HnsState& before, const HnsState& after) {
  std::size_t drift = 0;
  for (const auto& [key, lb] : before.loadBalancers) {
    auto it = after.loadBalancers.find(key);
    if (it == after.loadBalancers.end() || !it->second.sameContent(lb)) ++drift;
  }
  for (const auto& [ip, ep] : before.endpoints) {
    auto it = after.endpoints.find(ip);
    if (it == after.endpoints.end() || !(it->second == ep)) ++drift;
  }
  return drift;
}

}  // namespace hnsproxy::hns

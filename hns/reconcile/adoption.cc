#include "hns/reconcile/adoption.h"

#include "hns/translate.h"

#include <string_view>
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

Adoption adopt(const Listing& l, const NodeContext& ctx, const HnsState& desired) {
  Adoption a;
  // Each endpoint ID's addresses, keyed by views of the listing's own IDs (alive until this returns):
  // 100,000 endpoints at restart.
  std::unordered_map<std::string_view, std::vector<IpAddress>> ipsOfId;
  ipsOfId.reserve(l.endpoints.size());
  // Ours, by IP. Several for one IP (a create that landed after its deadline, a second writer): one
  // is kept — the one most load balancers use, the first on a tie — and the others go.
  std::unordered_map<IpAddress, std::vector<std::pair<const HcnEndpoint*, ManagedEndpoint>>> ours;
  bool duplicates = false;
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
    ipsOfId[std::string_view(e.id)] = {m->ip};
    auto& same = ours[m->ip];
    duplicates = duplicates || !same.empty();
    same.emplace_back(&e, std::move(*m));
  }
  std::unordered_map<std::string_view, int> uses;
  if (duplicates)
    for (const auto& h : l.loadBalancers)
      for (const auto& id : h.endpoints) ++uses[std::string_view(id)];
  std::unordered_set<std::string_view> dropped;
  for (auto& [ip, same] : ours) {
    std::size_t keep = 0;
    for (std::size_t i = 1; i < same.size(); ++i)
      if (uses[same[i].first->id] > uses[same[keep].first->id]) keep = i;
    for (std::size_t i = 0; i < same.size(); ++i) {
      if (i == keep) continue;
      a.duplicateEndpoints.push_back(same[i].first->id);
      a.ids.foreignEndpoints.insert(same[i].first->id);  // known, not ours to use: deleted after the rewrite
      dropped.insert(same[i].first->id);
    }
    a.ids.managedEndpoints[ip] = same[keep].first->id;
    a.applied.endpoints[ip] = std::move(same[keep].second);
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
    // Built on a duplicate endpoint: the same backends by IP, but rewritten onto the kept one.
    if (!dropped.empty() && std::any_of(h.endpoints.begin(), h.endpoints.end(),
                                        [&](const std::string& id) { return dropped.count(std::string_view(id)) > 0; }))
      lb->foreignSettings = true;
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

#include "hns/reconcile/adoption.h"

#include "hns/translate.h"

#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

Adoption adopt(const Listing& l, const NodeContext& ctx, const HnsState& desired) {
  Adoption a;
  // Each endpoint ID's addresses, sorted by ID: 100,000 endpoints at a restart, so one flat array,
  // not a map of vectors.
  struct Address {
    HnsId id;
    IpAddress ip;
  };
  std::vector<Address> addresses;
  addresses.reserve(l.endpoints.size() + l.remote.size());
  // Ours, in listing order: remote endpoints, and the source-VIP endpoint (local); other local
  // ones are the CNI's. The listing holds remote ones in policy terms already; a listing made of
  // documents alone (tests, tools) has them among the documents.
  auto forEachOurs = [&](const std::function<void(const HnsId&, ManagedEndpoint&&)>& f, bool cni) {
    for (const auto& e : l.endpoints) {
      auto ips = addressesOf(e);
      if (ips.empty()) continue;
      std::optional<EndpointKind> kind;
      if (e.isRemote()) kind = EndpointKind::Remote;
      else if (ips.size() == 1 && ctx.isSourceVip(ips[0])) kind = EndpointKind::SourceVip;
      if (!kind) {  // the CNI's: referenced, never changed
        if (cni)
          for (const auto& ip : ips) {
            a.ids.localEndpoints.emplace(ip, e.id);
            addresses.push_back({HnsId(e.id), ip});
          }
        continue;
      }
      if (auto m = fromHcn(e, *kind)) f(HnsId(e.id), std::move(*m));  // kinds: annotate()
    }
    for (const auto& r : l.remote)
      if (r.endpoint) f(r.id, ManagedEndpoint(*r.endpoint));
  };
  // Ours go straight into the record, the first listed for each IP. Several for one IP (a create
  // that landed after its deadline, a second writer) are rare: those IPs are settled below.
  std::unordered_set<IpAddress> contested;
  forEachOurs(
      [&](const HnsId& id, ManagedEndpoint&& m) {
        addresses.push_back({id, m.ip});
        const IpAddress ip = m.ip;
        if (!a.applied.endpoints.try_emplace(ip, std::move(m)).second) {
          contested.insert(ip);
          return;
        }
        a.ids.managedEndpoints[ip] = id;
        ++a.adoptedEndpoints;
      },
      true);
  std::sort(addresses.begin(), addresses.end(), [](const Address& x, const Address& y) { return x.id < y.id; });
  std::set<std::string> dropped;
  if (!contested.empty()) {
    // Of several for one IP, the one most load balancers use is kept (the first listed on a tie);
    // the others go.
    std::unordered_map<std::string_view, int> uses;
    for (const auto& h : l.loadBalancers)
      for (const auto& id : h.endpoints) ++uses[std::string_view(id)];
    std::unordered_map<IpAddress, std::vector<std::pair<std::string, ManagedEndpoint>>> same;
    forEachOurs(
        [&](const HnsId& id, ManagedEndpoint&& m) {
          if (contested.count(m.ip)) same[m.ip].emplace_back(id.str(), std::move(m));
        },
        false);
    for (auto& [ip, group] : same) {
      std::size_t keep = 0;
      for (std::size_t i = 1; i < group.size(); ++i)
        if (uses[group[i].first] > uses[group[keep].first]) keep = i;
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (i == keep) continue;
        a.duplicateEndpoints.push_back(group[i].first);
        a.ids.foreignEndpoints.insert(group[i].first);  // known, not ours to use: deleted after the rewrite
        dropped.insert(group[i].first);
      }
      a.ids.managedEndpoints[ip] = group[keep].first;
      a.applied.endpoints[ip] = std::move(group[keep].second);
    }
  }
  std::vector<IpAddress> found;  // the addresses of the ID just looked up (fromHcn reads them at once)
  for (const auto& h : l.loadBalancers) {
    auto lb = fromHcn(h, [&](const std::string& id) -> const std::vector<IpAddress>* {
      const HnsId key(id);
      auto it = std::lower_bound(addresses.begin(), addresses.end(), key, [](const Address& x, const HnsId& k) { return x.id < k; });
      found.clear();
      for (; it != addresses.end() && it->id == key; ++it) found.push_back(it->ip);
      return found.empty() ? nullptr : &found;
    });
    if (!lb || lb->backends.empty()) continue;  // not built on this network's endpoints: not ours
    if (a.ids.loadBalancers.count(lb->key)) {
      a.duplicateLoadBalancers.push_back(h.id);
      continue;
    }
    // Built on a duplicate endpoint: the same backends by IP, but rewritten onto the kept one.
    if (!dropped.empty() &&
        std::any_of(h.endpoints.begin(), h.endpoints.end(), [&](const std::string& id) { return dropped.count(id) > 0; }))
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

#include "hns/reconcile/reader.h"

#include <thread>

#include "hns/query_all.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

HnsReader::HnsReader(Api& api, std::string networkName, int parallelism, Sleep sleep)
    : api_(api), networkName_(std::move(networkName)), parallelism_(std::max(1, parallelism)), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

Result<std::vector<HcnLoadBalancer>> HnsReader::loadBalancers() {
  return listAll<HcnLoadBalancer>(api_, ObjectKind::LoadBalancer, loadBalancerFromJson, defaultQuery(), parallelism_);
}

namespace {

// The IDs `enumerate` returned: what the cache holds of them goes to `fromCache` (ID, entry), the
// rest are queried and their documents go to `fromHns`.
template <typename T, typename Parse, typename Cached, typename FromCache, typename FromHns>
Status listWithCache(Api& api, ObjectKind kind, const std::string& query, Parse parse, int parallelism,
                     std::unordered_map<std::string, Cached>* cached, Listing& l, FromCache fromCache, FromHns fromHns) {
  auto ids = api.enumerate(kind, query);
  if (!ids) return ids.error();
  std::vector<std::string> unknown;
  if (cached && !cached->empty()) {
    l.cachedIds.reserve(l.cachedIds.size() + std::min(ids->size(), cached->size()));
    for (auto& id : *ids) {
      auto it = cached->find(normalizeGuid(id));
      if (it == cached->end()) {
        unknown.push_back(std::move(id));
        continue;
      }
      fromCache(id, std::move(it->second));
      l.cachedIds.emplace_back(id);
      ++l.fromCache;
      cached->erase(it);
    }
  } else {
    unknown = std::move(*ids);
  }
  auto read = queryAll<T>(api, kind, unknown, parse, parallelism);
  if (!read) return read.error();
  l.queried += read->size();
  for (auto& doc : *read) fromHns(std::move(doc));
  return Ok{};
}

}  // namespace

Result<Listing> HnsReader::list(CachedDocs* cache) {
  Listing l;
  auto v = api_.version();
  if (!v) return v.error();
  l.version = *v;
  auto nets = listAll<HcnNetwork>(api_, ObjectKind::Network, networkFromJson, filterQuery({{"Name", networkName_}}));
  if (!nets) return nets.error();
  if (nets->empty()) {
    // Say what HNS has instead: a typo in --network-name is the common cause.
    auto all = listAll<HcnNetwork>(api_, ObjectKind::Network, networkFromJson, defaultQuery());
    std::string names;
    if (all)
      for (const auto& n : *all) names += (names.empty() ? "" : ", ") + n.name;
    return Error(ErrorCode::NotFound, "HNS network '" + networkName_ + "' not found (HNS has: " +
                                          (names.empty() ? std::string("no networks") : names) + ")");
  }
  l.network = std::move(nets->front());
  if (cache && cache->networkId != normalizeGuid(l.network.id)) cache = nullptr;  // another network's
  if (isOverlay(l.network)) {
    if (auto a = api_.hostAdapters()) l.adapters = std::move(*a);
    else l.adaptersError = a.error().str();
  }
  // Remote endpoints are kept in policy terms as they arrive (from the cache already so), not as
  // documents; the CNI's (and the source VIP's) as documents.
  auto* cachedEps = cache ? &cache->endpoints : nullptr;
  auto* cachedLbs = cache ? &cache->loadBalancers : nullptr;
  if (cachedEps) l.remote.reserve(cachedEps->size());
  auto eps = listWithCache<HcnEndpoint>(
      api_, ObjectKind::Endpoint, filterQuery({{"VirtualNetwork", l.network.id}}), endpointFromJson, parallelism_, cachedEps, l,
      [&](const std::string& id, std::optional<policy::ManagedEndpoint>&& e) { l.remote.push_back({HnsId(id), std::move(e)}); },
      [&](HcnEndpoint&& e) {
        if (!e.isRemote()) return l.endpoints.push_back(std::move(e));
        l.remote.push_back({HnsId(normalizeGuid(e.id)), fromHcn(e, policy::EndpointKind::Remote)});
      });
  if (!eps) return eps.error();
  if (cachedLbs) l.loadBalancers.reserve(cachedLbs->size());
  auto lbs = listWithCache<HcnLoadBalancer>(
      api_, ObjectKind::LoadBalancer, defaultQuery(), loadBalancerFromJson, parallelism_, cachedLbs, l,
      [&](const std::string& id, HcnLoadBalancer&& lb) {
        lb.id = id;
        l.loadBalancers.push_back(std::move(lb));
      },
      [&](HcnLoadBalancer&& lb) { l.loadBalancers.push_back(std::move(lb)); });
  if (!lbs) return lbs.error();
  return l;
}

Result<Listing> HnsReader::listWaiting(CachedDocs* cache, const std::function<bool()>& stop,
                                      const std::function<void(const std::string&)>& log,
                                      std::chrono::milliseconds backoffInitial, std::chrono::milliseconds waitMax,
                                      std::chrono::milliseconds logEvery) {
  std::chrono::milliseconds delay = backoffInitial, sinceLog{0};
  bool logged = false;
  for (;;) {
    auto l = list(cache);
    if (l) {
      if (logged && log) log("HNS network '" + networkName_ + "' is available");
      return l;
    }
    bool waitable = l.error().code == ErrorCode::NotFound || l.error().retryable();
    if (!waitable || (stop && stop())) return l.error();
    if (!logged || sinceLog >= logEvery) {
      if (log) log("waiting for HNS: " + l.error().str());
      logged = true;
      sinceLog = std::chrono::milliseconds{0};
    }
    sleep_(delay);
    sinceLog += delay;
    delay = std::min(delay * 2, waitMax);
  }
}

Result<HcnNetwork> HnsReader::network() {
  auto nets = listAll<HcnNetwork>(api_, ObjectKind::Network, networkFromJson, filterQuery({{"Name", networkName_}}));
  if (!nets) return nets.error();
  if (nets->empty()) return Error(ErrorCode::NotFound, "HNS network '" + networkName_ + "' not found");
  HcnNetwork first = std::move(nets->front());
  return first;
}

Result<std::vector<std::string>> HnsReader::endpointIds(const std::string& networkId) {
  auto ids = api_.enumerate(ObjectKind::Endpoint, filterQuery({{"VirtualNetwork", networkId}}));
  if (!ids) return ids.error();
  for (auto& id : *ids) id = normalizeGuid(id);
  return ids;
}

Result<std::vector<std::string>> HnsReader::loadBalancerIds() {
  auto ids = api_.enumerate(ObjectKind::LoadBalancer, defaultQuery());
  if (!ids) return ids.error();
  for (auto& id : *ids) id = normalizeGuid(id);
  return ids;
}

Result<std::vector<std::optional<HcnEndpoint>>> HnsReader::endpoints(const std::vector<std::string>& ids) {
  return queryEach<HcnEndpoint>(api_, ObjectKind::Endpoint, ids, endpointFromJson, parallelism_);
}

Result<std::vector<std::optional<HcnLoadBalancer>>> HnsReader::loadBalancers(const std::vector<std::string>& ids) {
  return queryEach<HcnLoadBalancer>(api_, ObjectKind::LoadBalancer, ids, loadBalancerFromJson, parallelism_);
}

Result<EndpointDelta> HnsReader::endpointsSince(const std::string& networkId,
                                                const std::function<bool(const std::string& id)>& known) {
  auto ids = endpointIds(networkId);
  if (!ids) return ids.error();
  EndpointDelta d;
  std::vector<std::string> unknown;
  for (auto& g : *ids) {
    if (!known(g)) unknown.push_back(g);
    d.present.insert(std::move(g));
  }
  auto eps = queryAll<HcnEndpoint>(api_, ObjectKind::Endpoint, unknown, endpointFromJson, parallelism_);
  if (!eps) return eps.error();
  d.fresh = std::move(*eps);
  return d;
}

}  // namespace hnsproxy::hns

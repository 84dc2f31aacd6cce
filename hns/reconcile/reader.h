// Reading HNS: the listing taken at start-up and for verification, waiting while the network is
// missing, and learning the CNI endpoints that appeared since. Nothing here changes HNS.
// Thread-safety: one caller at a time (the reconciler's thread); queries of one listing may run
// on up to `parallelism` threads internally (the Api must be thread-safe for that).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hns/api.h"
#include "hns/hcn_json.h"
#include "hns/reconcile/id_registry.h"
#include "hns/reconcile/listing_cache.h"

namespace hnsproxy::hns {

using Sleep = std::function<void(std::chrono::milliseconds)>;

// One listing of HNS: the network, its endpoints, and every load balancer on the host.
// A remote endpoint of a listing as adoption reads it: its ID and its content in policy terms
// (nullopt: not one hnsproxy could have made, so not ours). Its HCN document is not kept: on a
// node of a 1,000-node cluster there are 100,000, at 400 bytes a document.
struct ListedRemote {
  HnsId id;
  std::optional<policy::ManagedEndpoint> endpoint;
};

struct Listing {
  policy::HnsVersion version;
  HcnNetwork network;
  std::vector<HcnEndpoint> endpoints;  // the network's endpoints that are not remote ones
  std::vector<ListedRemote> remote;    // its remote endpoints
  std::vector<HcnLoadBalancer> loadBalancers;
  // Overlay networks only: the host's adapters (the host MAC is the one owning the node IP), and
  // why they could not be listed.
  std::vector<policy::HostAdapter> adapters;
  std::string adaptersError;
  std::size_t fromCache = 0;  // documents taken from the listing cache instead of HNS
  std::size_t queried = 0;    // documents read from HNS
  // The IDs whose documents came from the cache, not from HNS: not verified yet.
  std::vector<HnsId> cachedIds;  // (16 bytes each, not a string: 100,000 of them at a restart)
};

// The endpoints now on the network: every ID, and the documents of those not known before.
struct EndpointDelta {
  std::set<std::string> present;
  std::vector<HcnEndpoint> fresh;
};

class HnsReader {
 public:
  HnsReader(Api& api, std::string networkName, int parallelism = 1, Sleep sleep = {});

  // The version, the network by name (NotFound when absent), its endpoints, and every load
  // balancer. 1 + 3 calls per object, as hcsshim lists (hcsshim hcn/hcnendpoint.go, hcnloadbalancer.go: List*). With `cache` (of
  // this network), an enumerated ID the cache holds is taken from it (moved out) instead of being
  // opened and queried: 1 call per kind plus 3 per object the cache does not hold.
  Result<Listing> list(CachedDocs* cache = nullptr);

  // list(), waiting while the network is missing or HNS is unreachable: retries with exponential
  // backoff (`backoffInitial` doubling up to `waitMax`), calling `log` on the first failure and
  // then at most once per `logEvery` of waiting (never silently, never flooding). Gives up when
  // `stop()` returns true, returning the last error.
  Result<Listing> listWaiting(CachedDocs* cache, const std::function<bool()>& stop, const std::function<void(const std::string&)>& log,
                              std::chrono::milliseconds backoffInitial = std::chrono::milliseconds(50),
                              std::chrono::milliseconds waitMax = std::chrono::seconds(30),
                              std::chrono::milliseconds logEvery = std::chrono::seconds(60));

  // One filtered enumerate of the network's endpoints, plus open/query/close of the IDs `known`
  // does not recognise.
  Result<EndpointDelta> endpointsSince(const std::string& networkId,
                                       const std::function<bool(const std::string& id)>& known);

  // Every load balancer on the host (to find what holds a contested frontend).
  Result<std::vector<HcnLoadBalancer>> loadBalancers();

  // For verification, a call or a few at a time: the network by name (NotFound when absent); the
  // IDs of the network's endpoints and of every load balancer (one enumerate each); the documents
  // of some IDs, each in its slot (nullopt: gone).
  Result<HcnNetwork> network();
  Result<std::vector<std::string>> endpointIds(const std::string& networkId);
  Result<std::vector<std::string>> loadBalancerIds();
  Result<std::vector<std::optional<HcnEndpoint>>> endpoints(const std::vector<std::string>& ids);
  Result<std::vector<std::optional<HcnLoadBalancer>>> loadBalancers(const std::vector<std::string>& ids);


 private:
  Api& api_;
  std::string networkName_;
  int parallelism_;
  Sleep sleep_;
};

}  // namespace hnsproxy::hns

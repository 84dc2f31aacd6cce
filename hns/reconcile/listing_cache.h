// The listing cache: the HCN documents of the objects hnsproxy programmed, kept in a file so that a
// restarted kube-proxy reads from HNS only what it cannot vouch for. HNS has no call that returns
// many objects' documents at once: a listing is one enumerate plus open/query/close per object
// (hcsshim's List* functions) — about 230,000 calls on a node of a 1,000-node cluster, minutes when a
// call takes 1 ms. With the cache, a restart enumerates the IDs (one call per kind) and queries
// only the IDs the cache does not hold: objects created since the last save, the CNI's endpoints,
// anyone else's objects.
//
// What the cache vouches for, and how a stale entry is ruled out:
//  - existence: never. The enumerate decides; an ID the cache holds and HNS does not is gone.
//  - the content of an object hnsproxy created: HNS changes it only through hnsproxy's modify.
//    Before a plan's modifies run, their IDs are appended to the file as "modified"; such an ID is
//    queried at the next restart, until the next full save (written from the applied record after
//    the plan) clears the mark. Another process changing hnsproxy's object in place is drift:
//    verification always reads HNS itself, never the cache.
//  - the network: the cache belongs to one network ID; after the CNI re-created the network it
//    is ignored.
// A damaged or foreign file is reported and ignored: the full listing is the fallback.
//
// Format, one JSON document a line: {"hnsproxyListingCache":1,"network":"<ID>"}, then
// {"lb":<HCN load balancer>}, {"ep":<HCN endpoint>} and {"modified":"<ID>"} lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hns/hcn_json.h"
#include "policy/desired.h"
#include "policy/result.h"

namespace hnsproxy::hns {

struct CachedDocs {
  std::string networkId;                                           // normalised
  std::unordered_map<std::string, HcnLoadBalancer> loadBalancers;  // by normalised ID
  // Remote endpoints only, by normalised ID, in policy terms (nullopt: not one hnsproxy could have
  // made): all adoption reads of them. Their documents were 400 bytes each, 100,000 at a restart.
  std::unordered_map<std::string, std::optional<policy::ManagedEndpoint>> endpoints;
  std::size_t modified = 0;  // entries left out because a modify may have changed them
  std::size_t ignored = 0;   // lines for endpoints that are not remote endpoints (never taken)
  bool empty() const { return loadBalancers.empty() && endpoints.empty(); }
};

// The largest cache read: a node of a 1,000-node cluster (114,000 objects) writes about 40 MB.
inline constexpr std::uint64_t kMaxListingCacheBytes = std::uint64_t{512} << 20;

// A missing file is an empty cache (not an error). The file must be a regular file (a FIFO or a
// device in its place is refused without blocking) of at most kMaxListingCacheBytes; `stop` is
// honoured while it is read. An error names the file and the line.
Result<CachedDocs> loadListingCache(const std::string& path, const std::function<bool()>& stop = {});

// Writes the file line by line (through a 64 KiB buffer, never the whole text in memory) to a
// temporary file that commit() renames over the path (0600, a fresh name: hns/hcn_json.h).
class ListingCacheWriter {
 public:
  ListingCacheWriter(const std::string& path, const std::string& networkId);
  void add(const HcnLoadBalancer& lb);
  void add(const HcnEndpoint& ep);
  std::size_t objects() const { return objects_; }
  Status commit();

 private:
  void line(const nlohmann::json& j);
  AtomicFile file_;
  std::string buffer_;
  std::size_t objects_ = 0;
};

// Appends "modified" lines for these IDs to an existing cache file (none: nothing to mark).
Status markModified(const std::string& path, const std::vector<std::string>& ids);

}  // namespace hnsproxy::hns

// Reading HNS objects through the Api the way hcsshim's List* does: enumerate, then open, query
// and close each ID. An object deleted between the enumerate and the open is skipped. Every
// enumerate and query sends a HostComputeQuery as hcsshim does (hcsshim hcn/hcn.go defaultQuery): HNS picks
// the output schema from its SchemaVersion.
#pragma once

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "hns/api.h"

namespace hnsproxy::hns {

// hcsshim's default query, {"SchemaVersion":{"Major":2,"Minor":0}}: what every query call sends.
std::string defaultQuery();
// The default query with a Filter (a JSON object, sent double-encoded as HNS wants it). The keys
// hcsshim uses: "ID", "Name", and "VirtualNetwork" for a network's endpoints (HNS does not yet
// convert the v2 key HostComputeNetwork, per hcsshim's ListEndpointsOfNetwork).
std::string filterQuery(const nlohmann::json& filter);

// One object: nullopt when it went between the enumerate and the open.
template <typename T, typename Parse>
Result<std::optional<T>> queryOne(Api& api, ObjectKind kind, const std::string& id, Parse& parse) {
  auto h = api.open(kind, id);
  if (!h) {
    if (h.error().code == ErrorCode::NotFound) return std::optional<T>{};
    return h.error();
  }
  auto doc = api.query(*h, defaultQuery());
  api.close(*h);
  if (!doc) {
    if (doc.error().code == ErrorCode::NotFound) return std::optional<T>{};
    return doc.error();
  }
  auto j = nlohmann::json::parse(*doc, nullptr, false);
  if (j.is_discarded())
    return Error(ErrorCode::Transient, std::string("HNS returned invalid JSON for ") + toString(kind) + " " + id);
  auto obj = parse(j);
  if (!obj) return obj.error();
  return std::optional<T>(std::move(obj).value());
}

// The objects with these IDs, each in its slot (nullopt: NotFound), up to `parallelism` queries at
// once (every HNS call is a round trip to the service; a start-up listing of a busy node is
// hundreds of them). The first error (other than NotFound) ends it.
template <typename T, typename Parse>
Result<std::vector<std::optional<T>>> queryEach(Api& api, ObjectKind kind, const std::vector<std::string>& ids,
                                                Parse parse, int parallelism = 1) {
  std::vector<std::optional<T>> slots(ids.size());
  std::optional<Error> failed;
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next++) < ids.size();) {
      auto r = queryOne<T>(api, kind, ids[i], parse);
      std::lock_guard<std::mutex> lock(mu);
      if (failed) return;
      if (!r) {
        failed = r.error();
        return;
      }
      slots[i] = std::move(*r);
    }
  };
  std::size_t extra = parallelism > 1 ? std::min<std::size_t>(static_cast<std::size_t>(parallelism), ids.size()) : 1;
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < extra; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failed) return *failed;
  return slots;
}

// The objects with these IDs that exist, in order (queryEach without the gaps).
template <typename T, typename Parse>
Result<std::vector<T>> queryAll(Api& api, ObjectKind kind, const std::vector<std::string>& ids, Parse parse,
                                int parallelism = 1) {
  auto slots = queryEach<T>(api, kind, ids, parse, parallelism);
  if (!slots) return slots.error();
  std::vector<T> out;
  out.reserve(ids.size());
  for (auto& s : *slots)
    if (s) out.push_back(std::move(*s));
  return out;
}

// Every object of a kind (an unfiltered enumerate, then queryAll).
template <typename T, typename Parse>
Result<std::vector<T>> listAll(Api& api, ObjectKind kind, Parse parse, const std::string& query = defaultQuery(),
                               int parallelism = 1) {
  auto ids = api.enumerate(kind, query);
  if (!ids) return ids.error();
  return queryAll<T>(api, kind, *ids, parse, parallelism);
}

}  // namespace hnsproxy::hns

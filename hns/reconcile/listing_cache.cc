#include "hns/reconcile/listing_cache.h"

#include "hns/translate.h"


#include <nlohmann/json.hpp>

namespace hnsproxy::hns {

using nlohmann::json;

namespace {

constexpr const char* kMagic = "hnsproxyListingCache";

Error damaged(const std::string& path, std::size_t line, const std::string& why) {
  return Error(ErrorCode::InvalidInput, "listing cache " + path + " line " + std::to_string(line) + ": " + why);
}

}  // namespace

Result<CachedDocs> loadListingCache(const std::string& path, const std::function<bool()>& stop) {
  CachedDocs out;
  std::size_t n = 0;
  std::vector<std::string> modified;
  auto st = readLines(path, kMaxListingCacheBytes, stop, [&](std::string_view line) -> Status {
    ++n;
    if (line.empty()) return Ok{};
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return damaged(path, n, "not a JSON object");
    if (n == 1) {
      if (!j.contains(kMagic) || j[kMagic] != 1 || !j.contains("network") || !j["network"].is_string())
        return damaged(path, n, "not an hnsproxy listing cache (version 1)");
      out.networkId = normalizeGuid(j["network"].get<std::string>());
      return Ok{};
    }
    if (auto it = j.find("lb"); it != j.end()) {
      auto lb = loadBalancerFromJson(*it);
      if (!lb) return damaged(path, n, lb.error().message);
      std::string id = normalizeGuid(lb->id);
      out.loadBalancers.insert_or_assign(std::move(id), std::move(*lb));
    } else if (auto ep = j.find("ep"); ep != j.end()) {
      auto e = endpointFromJson(*ep);
      if (!e) return damaged(path, n, e.error().message);
      // Only kube-proxy's own remote endpoints are taken from the file: the CNI's (and anything
      // else that is not a remote endpoint) are always read from HNS, whatever a line claims.
      if (!e->isRemote()) {
        ++out.ignored;
        return Ok{};
      }
      out.endpoints.insert_or_assign(normalizeGuid(e->id), fromHcn(*e, policy::EndpointKind::Remote));
    } else if (auto m = j.find("modified"); m != j.end() && m->is_string()) {
      modified.push_back(normalizeGuid(m->get<std::string>()));
    } else {
      return damaged(path, n, "unknown entry");
    }
    return Ok{};
  });
  if (!st) {
    if (st.error().code == ErrorCode::NotFound) return CachedDocs{};  // no file yet: nothing cached
    return st.error();
  }
  if (n == 0) return out;
  // Marks apply to whatever line came before them: the file is written whole, then only marked.
  for (const auto& id : modified) out.modified += out.loadBalancers.erase(id) + out.endpoints.erase(id);
  return out;
}

ListingCacheWriter::ListingCacheWriter(const std::string& path, const std::string& networkId) : file_(path) {
  line(json{{kMagic, 1}, {"network", networkId}});
}

void ListingCacheWriter::line(const json& j) {
  buffer_ += j.dump();
  buffer_ += '\n';
  if (buffer_.size() >= 65536) {
    file_.write(buffer_);
    buffer_.clear();
  }
}

void ListingCacheWriter::add(const HcnLoadBalancer& lb) {
  line(json{{"lb", toJson(lb)}});
  ++objects_;
}

void ListingCacheWriter::add(const HcnEndpoint& ep) {
  line(json{{"ep", toJson(ep)}});
  ++objects_;
}

Status ListingCacheWriter::commit() {
  file_.write(buffer_);
  buffer_.clear();
  return file_.commit();
}

Status markModified(const std::string& path, const std::vector<std::string>& ids) {
  if (ids.empty()) return Ok{};
  std::string text;
  for (const auto& id : ids) text += json{{"modified", id}}.dump() + "\n";
  return appendToFile(path, text);
}

}  // namespace hnsproxy::hns

// Reading HNS objects through the Api the way hcsshim's List* does: enumerate, then open, query
// and close each ID. An object deleted between the enumerate and the open is skipped.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hns/api.h"

namespace hnsproxy::hns {

template <typename T, typename Parse>
Result<std::vector<T>> queryAll(Api& api, ObjectKind kind, const std::vector<std::string>& ids, Parse parse) {
  std::vector<T> out;
  for (const auto& id : ids) {
    auto h = api.open(kind, id);
    if (!h) {
      if (h.error().code == ErrorCode::NotFound) continue;
      return h.error();
    }
    auto doc = api.query(*h, "");
    api.close(*h);
    if (!doc) {
      if (doc.error().code == ErrorCode::NotFound) continue;
      return doc.error();
    }
    auto j = nlohmann::json::parse(*doc, nullptr, false);
    if (j.is_discarded())
      return Error(ErrorCode::Transient, std::string("HNS returned invalid JSON for ") + toString(kind) + " " + id);
    auto obj = parse(j);
    if (!obj) return obj.error();
    out.push_back(std::move(obj).value());
  }
  return out;
}

// Every object of a kind (an unfiltered enumerate, then queryAll).
template <typename T, typename Parse>
Result<std::vector<T>> listAll(Api& api, ObjectKind kind, Parse parse, const std::string& query = "") {
  auto ids = api.enumerate(kind, query);
  if (!ids) return ids.error();
  return queryAll<T>(api, kind, *ids, parse);
}

}  // namespace hnsproxy::hns

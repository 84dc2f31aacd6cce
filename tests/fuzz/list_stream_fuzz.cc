// An API list page (or List manifest) read the streamed way — items handed over one by one, an
// EndpointSlice's endpoints decoded from the parser's events — must give what the tree gives: for
// every input the stream accepts, each item decodes to the same slice (or the same error) as
// decodeEndpointSlice on the whole document's tree, and the rest of the document is the tree's
// without its items. Any difference aborts.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "watch/decoder.h"
#include "watch/list_reader.h"

namespace {

using namespace hnsproxy;
using nlohmann::json;

bool same(const Result<policy::EndpointSlice>& a, const Result<policy::EndpointSlice>& b) {
  if (static_cast<bool>(a) != static_cast<bool>(b)) return false;
  return a ? *a == *b : a.error().message == b.error().message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::text(data, size);
  for (std::string_view kind : {"EndpointSlice", ""}) {
    std::vector<Result<policy::EndpointSlice>> streamed;
    auto rest = watch::readListItems(text, kind, [&](json& item, std::vector<policy::Endpoint>* eps) {
      if (!eps) {
        streamed.push_back(watch::decodeEndpointSlice(item));
        return true;
      }
      auto r = watch::decodeEndpointSliceStreamed(item, *eps);
      if (!r) return false;
      streamed.push_back(std::move(*r));
      return true;
    });
    if (!rest) continue;  // left to the tree
    json tree = json::parse(text, nullptr, false);
    if (tree.is_discarded() || !tree.is_object()) std::abort();  // the stream accepted what does not parse
    const bool hasItems = tree.contains("items");
    json items = hasItems ? tree["items"] : json::array();
    if (!items.is_array()) {
      if (!streamed.empty() || (*rest)["items"] != items) std::abort();
      continue;
    }
    if (items.size() != streamed.size()) std::abort();
    for (std::size_t i = 0; i < items.size(); ++i)
      if (!same(watch::decodeEndpointSlice(items[i]), streamed[i])) std::abort();
    if (hasItems) tree["items"] = json::array();
    if (*rest != tree) std::abort();
  }
  return 0;
}

// A list of Kubernetes objects (an API list page, a List manifest) read item by item as the parser
// reaches each one, with an EndpointSlice's endpoints decoded from the parser's events: at 100,000
// endpoints the JSON tree of the endpoints was a quarter of a cold start's CPU and most of its
// transient allocations.
#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/model.h"

namespace hnsproxy::watch {

// Called with each item as soon as the parser reaches its end (the item is dropped after). For an
// EndpointSlice, `endpoints` holds its decoded "endpoints" (for decodeEndpointSliceStreamed) and
// the item's own "endpoints" is empty; for anything else it is null and the item is whole.
// Returning false stops the read (readListItems then returns nullopt).
using ListItemFn = std::function<bool(nlohmann::json& item, std::vector<policy::Endpoint>* endpoints)>;

// Reads `text`, a JSON object whose top-level "items" is an array of objects. An item's endpoints
// are streamed when it is an EndpointSlice: `kind` when it is not empty (an API list's items carry
// no kind), else the item's own "kind" when it comes before "endpoints" (it does in what kubectl and
// the API server write). Returns the document without its items (the list's own metadata).
// nullopt: the text is not such a document, an item is not an object, an item's endpoints hold
// something the streamed decoder leaves to the tree (a wrong type, an invalid address) or onItem
// returned false. The caller then reads the text as a tree, which names what is wrong; items
// already given to onItem are given again then.
std::optional<nlohmann::json> readListItems(std::string_view text, std::string_view kind, const ListItemFn& onItem);

}  // namespace hnsproxy::watch

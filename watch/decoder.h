// Decoding Kubernetes objects (Service, EndpointSlice, Node) from JSON into the policy model.
// One decoder for the API client and the manifest directory. Every field the proxy uses is
// validated; a bad object is rejected with an error naming the object, the field and the value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policy/model.h"
#include "policy/result.h"

namespace hnsproxy::watch {

using Object = std::variant<policy::Service, policy::EndpointSlice, policy::Node>;

// RFC 3339 time as the API server writes it ("2026-02-01T09:00:00Z", with an optional fraction
// and a numeric offset); nullopt when it does not parse.
std::optional<policy::Timestamp> parseRfc3339(std::string_view s);

Result<policy::Service> decodeService(const nlohmann::json& j);
Result<policy::EndpointSlice> decodeEndpointSlice(const nlohmann::json& j);
Result<policy::Node> decodeNode(const nlohmann::json& j);

// The kinds decodeObject decodes: Service, EndpointSlice, Node.
bool kindUsed(std::string_view kind);
// Dispatches on "kind". Kinds the proxy does not use give NotFound (callers skip them).
Result<Object> decodeObject(const nlohmann::json& j);

// "Service default/web" for messages.
std::string describe(const Object& o);

}  // namespace hnsproxy::watch

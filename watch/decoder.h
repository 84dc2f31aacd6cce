// Decoding Kubernetes objects (Service, EndpointSlice, Node) from JSON into the policy model.
// One decoder for the API client and the manifest directory. Every field the proxy uses is
// validated; a bad object is rejected with an error naming the object, the field and the value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "policy/model.h"
#include "policy/result.h"
#include "watch/source.h"

namespace hnsproxy::watch {

// RFC 3339 time as the API server writes it ("2026-02-01T09:00:00Z", with an optional fraction
// and a numeric offset); nullopt when it does not parse.
std::optional<policy::Timestamp> parseRfc3339(std::string_view s);

Result<policy::Service> decodeService(const nlohmann::json& j);
Result<policy::EndpointSlice> decodeEndpointSlice(const nlohmann::json& j);
Result<policy::Node> decodeNode(const nlohmann::json& j);

// An EndpointSlice whose "endpoints" an EndpointsReader decoded while the rest was parsed into
// `j` (its own "endpoints" is not read). nullopt: the slice has an error that only
// decodeEndpointSlice, on the whole tree, names as written (an address of the other family).
std::optional<Result<policy::EndpointSlice>> decodeEndpointSliceStreamed(const nlohmann::json& j,
                                                                         std::vector<policy::Endpoint>& endpoints);

// An EndpointSlice's "endpoints" array decoded from the parser's events as they come (nlohmann's
// SAX), with decodeEndpointSlice's rules, so that a list of 100,000 endpoints is never a tree of
// 1,000,000 JSON values. Given the events after the array's start, up to its end. Whatever those
// rules reject — or anything unusual the reader does not decode (an address that is not an IP, a
// value of the wrong type) — is Failed: the caller decodes the tree instead, which names the error.
class EndpointsReader {
 public:
  enum class State : std::uint8_t { Reading, Done, Failed };
  State null() { return scalar(Scalar::Null); }
  State boolean(bool v) { return scalar(v ? Scalar::True : Scalar::False); }
  State number() { return scalar(Scalar::Number); }
  State string(std::string& v) { return scalar(Scalar::String, &v); }
  State startObject() { return open(true); }
  State startArray() { return open(false); }
  State end();
  State key(const std::string& k);
  State state() const { return state_; }
  // The decoded endpoints (once Done).
  std::vector<policy::Endpoint>& endpoints() { return out_; }

 private:
  enum class Scalar : std::uint8_t { Null, True, False, Number, String };
  enum class Frame : std::uint8_t { Endpoints, Endpoint, Addresses, Conditions, Hints, Zones, Nodes, HintItem, Skip };
  enum class Key : std::uint8_t { Other, Addresses, Conditions, NodeName, Zone, Hints, Ready, Serving, Terminating,
                                  ForZones, ForNodes, Name };
  struct Level {
    Frame frame;
    Key key = Key::Other;        // the key whose value comes next (objects)
    std::uint32_t count = 0;     // elements so far (arrays)
  };
  State scalar(Scalar s, std::string* text = nullptr);
  State open(bool object);
  State fail() { return state_ = State::Failed; }
  std::vector<policy::SharedName>& hintList(Frame f);

  std::vector<Level> stack_{Level{Frame::Endpoints}};
  policy::Endpoint cur_;
  std::uint32_t addresses_ = 0;  // the current endpoint's addresses
  std::vector<policy::Endpoint> out_;
  State state_ = State::Reading;
};

// The kinds decodeObject decodes: Service, EndpointSlice, Node.
bool kindUsed(std::string_view kind);
// Dispatches on "kind". Kinds the proxy does not use give NotFound (callers skip them).
Result<Object> decodeObject(const nlohmann::json& j);

// "Service default/web" for messages.
std::string describe(const Object& o);

}  // namespace hnsproxy::watch

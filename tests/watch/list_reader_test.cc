#include "catch.h"

#include <nlohmann/json.hpp>

#include "watch/decoder.h"
#include "watch/list_reader.h"

using namespace hnsproxy;
using namespace hnsproxy::policy;
using nlohmann::json;

namespace {

// Each item of `list` read both ways: streamed (readListItems, then decodeEndpointSliceStreamed)
// and as a tree (decodeObject). Returns the streamed results; nullopt when the stream left the list
// to the tree.
struct Read {
  std::vector<std::string> kinds;  // per item: "streamed", "tree" (no endpoints streamed)
  std::vector<Result<EndpointSlice>> slices;
  json rest;
};

std::optional<Read> readStreamed(const std::string& text, std::string_view kind = "EndpointSlice") {
  Read out;
  auto rest = watch::readListItems(text, kind, [&](json& item, std::vector<Endpoint>* eps) {
    if (!eps) {
      out.kinds.emplace_back("tree");
      out.slices.push_back(watch::decodeEndpointSlice(item));
      return true;
    }
    auto r = watch::decodeEndpointSliceStreamed(item, *eps);
    if (!r) return false;
    out.kinds.emplace_back("streamed");
    out.slices.push_back(std::move(*r));
    return true;
  });
  if (!rest) return std::nullopt;
  out.rest = std::move(*rest);
  return out;
}

std::string listOf(const std::string& item) {
  return R"({"kind":"EndpointSliceList","metadata":{"resourceVersion":"77","continue":"c1"},"items":[)" + item + "]}";
}

std::string slice(const std::string& endpoints, const std::string& addressType = "IPv4") {
  return R"({"metadata":{"name":"web-abc","namespace":"shop","labels":{"kubernetes.io/service-name":"web"}},)"
         R"("addressType":")" + addressType + R"(","ports":[{"name":"http","port":8080}],"endpoints":)" + endpoints + "}";
}

// The streamed result of one slice equals the tree's.
void sameAsTree(const std::string& item) {
  INFO(item);
  auto streamed = readStreamed(listOf(item));
  REQUIRE(streamed);
  REQUIRE(streamed->slices.size() == 1);
  CHECK(streamed->kinds[0] == "streamed");
  auto tree = watch::decodeEndpointSlice(json::parse(item));
  REQUIRE(static_cast<bool>(tree) == static_cast<bool>(streamed->slices[0]));
  if (tree) CHECK(*tree == *streamed->slices[0]);
  else CHECK(tree.error().message == streamed->slices[0].error().message);
}

}  // namespace

TEST_CASE("streamed endpoints decode to what the tree decodes") {
  sameAsTree(slice(R"([{"addresses":["10.0.0.1","10.0.0.9"],"conditions":{"ready":true,"serving":true,"terminating":false},
                       "nodeName":"win-1","zone":"z1","targetRef":{"kind":"Pod","name":"web-1","uid":"u"},
                       "hints":{"forZones":[{"name":"z1"},{"name":"z2"}],"forNodes":[{"name":"win-1"}]}},
                      {"addresses":["10.0.0.2"],"conditions":{"ready":false,"serving":null,"terminating":true}},
                      {"addresses":["10.0.0.3"],"conditions":null,"nodeName":null,"zone":null,"hints":null},
                      {"addresses":["10.0.0.4"],"deprecatedTopology":{"a":[1,{"b":[]}]},"hostname":"h"}])"));
  // Empty or absent endpoints; an IPv6 slice; an FQDN slice (never programmed) with IP addresses.
  sameAsTree(slice("[]"));
  sameAsTree(slice(R"([{"addresses":["fd00::1"],"nodeName":"win-2"}])", "IPv6"));
  sameAsTree(slice(R"([{"addresses":["10.0.0.1"]}])", "FQDN"));
  // A later duplicate key replaces the earlier value, as in the tree.
  sameAsTree(slice(R"([{"addresses":["10.0.0.1"],"addresses":["10.0.0.7"],"nodeName":"a","nodeName":"b",
                       "conditions":{"ready":false},"conditions":{"serving":false},
                       "hints":{"forZones":[{"name":"z1"}]},"hints":{"forNodes":[{"name":"n1","name":"n2"}]}}])"));
  sameAsTree(slice(R"([{"addresses":["10.0.0.1"],"hints":{"forZones":[{"name":"z1"}],"forZones":null,"forNodes":[]}}])"));
  // Hint entries that are not objects, or have no name, name "".
  sameAsTree(slice(R"([{"addresses":["10.0.0.1"],"hints":{"forZones":["z1",7,null,[1],{"other":1},{"name":null}]}}])"));
  // Errors found outside the endpoints are named as the tree names them.
  sameAsTree(slice(R"([{"addresses":["10.0.0.1"]}])", "Bogus"));
}

TEST_CASE("what the stream cannot decode exactly is left to the tree, which names it") {
  for (const std::string eps : {R"(["10.0.0.1"])", R"([{"addresses":[]}])", R"([{"addresses":null}])",
                                R"([{"nodeName":"a"}])", R"([{"addresses":["10.0.0.300"]}])", R"([{"addresses":[7]}])",
                                R"([{"addresses":"10.0.0.1"}])", R"([{"addresses":["10.0.0.1"],"conditions":{"ready":"yes"}}])",
                                R"([{"addresses":["10.0.0.1"],"conditions":[]}])", R"([{"addresses":["10.0.0.1"],"nodeName":7}])",
                                R"([{"addresses":["10.0.0.1"],"zone":{}}])", R"([{"addresses":["10.0.0.1"],"hints":{"forZones":{}}}])",
                                R"([{"addresses":["10.0.0.1"],"hints":{"forNodes":[{"name":1}]}}])",
                                R"([{"addresses":["fd00::1"]}])"}) {
    INFO(eps);
    const std::string item = slice(eps);
    CHECK_FALSE(readStreamed(listOf(item)));
    auto tree = watch::decodeEndpointSlice(json::parse(item));
    REQUIRE_FALSE(tree);
    CHECK(tree.error().message.find("EndpointSlice shop/web-abc: field endpoints[0]") == 0);
  }
  // Not a list, or an item that is not an object: the tree reading decides (skips, or refuses).
  CHECK_FALSE(readStreamed("[1,2]"));
  CHECK_FALSE(readStreamed("7"));
  CHECK_FALSE(readStreamed(R"({"items":[7]})"));
  CHECK_FALSE(readStreamed(R"({"items":[[]]})"));
  CHECK_FALSE(readStreamed(R"({"items":[{"metadata":{}}])"));  // truncated
  // Where the tree keeps only the last of two values the stream has used the first: a second
  // "items", or (items that name their kind) a second "kind" after streamed endpoints.
  CHECK_FALSE(readStreamed(R"({"items":[],"items":null})"));
  CHECK(readStreamed(R"({"items":[{"kind":"EndpointSlice","endpoints":[],"kind":"EndpointSlice"}]})", "EndpointSlice"));
  CHECK_FALSE(readStreamed(R"({"items":[{"kind":"EndpointSlice","endpoints":[],"kind":"Service"}]})", ""));
}

TEST_CASE("a list is read item by item: the rest of the document is the list's own") {
  const std::string two = listOf(slice(R"([{"addresses":["10.0.0.1"]}])") + "," +
                                 R"({"metadata":{"name":"b","namespace":"shop"},"addressType":"IPv4","endpoints":null})");
  auto r = readStreamed(two);
  REQUIRE(r);
  CHECK(r->kinds == std::vector<std::string>{"streamed", "tree"});
  REQUIRE(r->slices.size() == 2);
  REQUIRE(r->slices[0]);
  REQUIRE(r->slices[0]->endpoints.size() == 1);
  CHECK(r->slices[0]->endpoints[0].address.str() == "10.0.0.1");
  REQUIRE(r->slices[1]);
  CHECK(r->slices[1]->endpoints.empty());
  CHECK(r->rest["metadata"]["resourceVersion"] == "77");
  CHECK(r->rest["metadata"]["continue"] == "c1");
  CHECK(r->rest["items"].empty());

  // Items of other kinds are whole trees; a manifest List's items stream only once they say they
  // are EndpointSlices, before their endpoints.
  const std::string svc = R"({"kind":"Service","metadata":{"name":"s"},"endpoints":[{"x":1}]})";
  auto services = readStreamed(listOf(svc), "Service");
  REQUIRE(services);
  CHECK(services->kinds == std::vector<std::string>{"tree"});
  const std::string kindFirst = R"({"kind":"EndpointSlice",)" + slice(R"([{"addresses":["10.0.0.1"]}])").substr(1);
  std::string kindLast = slice(R"([{"addresses":["10.0.0.1"]}])");
  kindLast.insert(kindLast.size() - 1, R"(,"kind":"EndpointSlice")");
  auto own = readStreamed(listOf(kindFirst + "," + kindLast), "");
  REQUIRE(own);
  CHECK(own->kinds == std::vector<std::string>{"streamed", "tree"});
}

TEST_CASE("onItem can stop the read") {
  int seen = 0;
  auto rest = watch::readListItems(listOf(slice("[]") + "," + slice("[]")), "EndpointSlice",
                                   [&](json&, std::vector<Endpoint>*) { return ++seen < 1; });
  CHECK_FALSE(rest);
  CHECK(seen == 1);
}

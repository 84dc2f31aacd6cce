#include "catch.h"

#include <mutex>

#include "hns/query_all.h"
#include "hns/reconcile/reader.h"
#include "hns/sim/simulated_hns.h"
#include "hns/node_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::hns::test;
using nlohmann::json;

namespace {

// Records every query string the reader sends, and answers through the simulator.
class Recording final : public Api {
 public:
  explicit Recording(Api& inner) : inner_(inner) {}
  HNSPROXY_HNS_API_OVERRIDES
  std::vector<std::pair<std::string, std::string>> queries;  // (call, query)

 private:
  void note(std::string call, const std::string& q) {
    std::lock_guard<std::mutex> lock(mu_);
    queries.emplace_back(std::move(call), q);
  }
  Api& inner_;
  std::mutex mu_;
};

Result<std::vector<std::string>> Recording::enumerate(ObjectKind k, const std::string& q) {
  note(std::string("enumerate ") + toString(k), q);
  return inner_.enumerate(k, q);
}
Result<Handle> Recording::open(ObjectKind k, const std::string& id) { return inner_.open(k, id); }
Result<std::string> Recording::query(Handle h, const std::string& q) {
  note("query", q);
  return inner_.query(h, q);
}
Result<Handle> Recording::create(ObjectKind k, const std::string& id, const std::string& s, Handle n) {
  return inner_.create(k, id, s, n);
}
Status Recording::modify(Handle h, const std::string& s) { return inner_.modify(h, s); }
Status Recording::remove(ObjectKind k, const std::string& id) { return inner_.remove(k, id); }
void Recording::close(Handle h) { inner_.close(h); }
Result<policy::HnsVersion> Recording::version() { return inner_.version(); }

}  // namespace

TEST_CASE("reader: every query is hcsshim's (SchemaVersion 2.0); a network's endpoints filter on VirtualNetwork") {
  auto sim = makeNode("ws2022");
  Recording rec(*sim);
  auto l = HnsReader(rec, "cbr0").list();
  REQUIRE(l);
  CHECK(l->endpoints.size() + l->remote.size() == 10);
  REQUIRE_FALSE(rec.queries.empty());
  for (const auto& [call, q] : rec.queries) {
    INFO(call << " " << q);
    auto j = json::parse(q);
    CHECK(j["SchemaVersion"] == json({{"Major", 2}, {"Minor", 0}}));
    if (j.contains("Filter")) CHECK(j["Filter"].is_string());  // double-encoded, as HNS wants
  }
  bool endpointFilter = false;
  for (const auto& [call, q] : rec.queries)
    if (call == "enumerate Endpoint") {
      auto filter = json::parse(json::parse(q)["Filter"].get<std::string>());
      CHECK(filter == json({{"VirtualNetwork", l->network.id}}));
      endpointFilter = true;
    }
  CHECK(endpointFilter);
}

TEST_CASE("reader: endpointsSince queries only the IDs it is not told it knows") {
  auto sim = makeNode("ws2022");
  HnsReader reader(*sim, "cbr0");
  auto l = reader.list();
  REQUIRE(l);
  std::set<std::string> known;
  for (const auto& e : l->endpoints) known.insert(e.id);
  auto net = sim->open(ObjectKind::Network, l->network.id);
  REQUIRE(sim->create(ObjectKind::Endpoint, "", R"({"Name":"new","IpConfigurations":[{"IpAddress":"10.244.1.30"}]})", *net));
  sim->resetCallLog();
  auto d = reader.endpointsSince(l->network.id, [&](const std::string& id) { return known.count(id) > 0; });
  REQUIRE(d);
  CHECK(d->present.size() == 11);
  REQUIRE(d->fresh.size() == 1);
  CHECK(d->fresh[0].name == "new");
  CHECK(sim->callCounts()["HcnQueryEndpointProperties"] == 1);
}

TEST_CASE("queryAll in parallel: the serial result, in order; vanished objects skipped; the first error returned") {
  SimulatedHns sim(*profileByName("ws2025-updated"));
  auto net = sim.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  REQUIRE(net);
  for (int i = 0; i < 40; ++i) {
    auto e = sim.create(ObjectKind::Endpoint, "",
                        json{{"Name", "pod" + std::to_string(i)}, {"IpConfigurations", {{{"IpAddress", fmt::format("10.244.0.{}", i + 2)}}}}}.dump(),
                        *net);
    REQUIRE(e);
    sim.close(*e);
  }
  auto listed = sim.enumerate(ObjectKind::Endpoint, "");
  REQUIRE(listed);
  std::vector<std::string> ids = *listed;
  auto serial = queryAll<HcnEndpoint>(sim, ObjectKind::Endpoint, ids, endpointFromJson, 1);
  REQUIRE(serial);
  REQUIRE(serial->size() == 40);
  auto names = [](const std::vector<HcnEndpoint>& v) {
    std::vector<std::string> n;
    for (const auto& e : v) n.push_back(e.name);
    return n;
  };
  auto parallel = queryAll<HcnEndpoint>(sim, ObjectKind::Endpoint, ids, endpointFromJson, 4);
  REQUIRE(parallel);
  CHECK(names(*parallel) == names(*serial));

  // Two objects deleted between the enumerate and the queries: skipped, the rest in order.
  REQUIRE(sim.remove(ObjectKind::Endpoint, ids[3]));
  REQUIRE(sim.remove(ObjectKind::Endpoint, ids[27]));
  auto fewer = queryAll<HcnEndpoint>(sim, ObjectKind::Endpoint, ids, endpointFromJson, 4);
  REQUIRE(fewer);
  auto expected = names(*serial);
  expected.erase(expected.begin() + 27);
  expected.erase(expected.begin() + 3);
  CHECK(names(*fewer) == expected);

  // Any other failure ends the listing with that error.
  sim.failNthCall(10, hcn::kHcnInvalidJson);
  auto failed = queryAll<HcnEndpoint>(sim, ObjectKind::Endpoint, ids, endpointFromJson, 4);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().hresult == hcn::kHcnInvalidJson);
}

TEST_CASE("reader: an overlay listing carries the host's adapters (for the host MAC); an l2bridge one does not ask") {
  SimulatedHns sim(*profileByName("ws2022"));
  REQUIRE(sim.create(ObjectKind::Network, "", R"({"Name":"vxlan0","Type":"Overlay"})", 0));
  REQUIRE(sim.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0));
  const std::vector<policy::HostAdapter> adapters{
      {"Ethernet", "00-0D-3A-0A-00-04", {*policy::IpAddress::parse("10.0.0.4")}}};
  sim.setHostAdapters(adapters);
  auto overlay = HnsReader(sim, "vxlan0").list();
  REQUIRE(overlay);
  CHECK(overlay->adapters == adapters);
  CHECK(overlay->adaptersError.empty());
  auto l2 = HnsReader(sim, "cbr0").list();
  REQUIRE(l2);
  CHECK(l2->adapters.empty());

  // A backend that cannot list adapters: the listing says why, and still succeeds.
  Recording rec(sim);  // the Api default: NotImplemented
  auto none = HnsReader(rec, "vxlan0").list();
  REQUIRE(none);
  CHECK(none->adapters.empty());
  CHECK(none->adaptersError.find("cannot list the host's network adapters") != std::string::npos);
}

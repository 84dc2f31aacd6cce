#include "catch.h"

#include <set>

#include "hns/sim/simulated_hns.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using nlohmann::json;

namespace {

struct SimNode {
  SimulatedHns hns;
  Handle net = 0;
  std::vector<std::string> eps;
  explicit SimNode(const std::string& profile, int endpoints = 3) : hns(*profileByName(profile)) {
    auto n = hns.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
    REQUIRE(n);
    net = *n;
    for (int i = 0; i < endpoints; ++i) eps.push_back(endpoint("10.244.2." + std::to_string(i + 1)));
  }
  std::string endpoint(const std::string& ip) {
    auto h = hns.create(ObjectKind::Endpoint, kZeroGuid,
                        json{{"IpConfigurations", {{{"IpAddress", ip}}}}, {"Flags", 1}}.dump(), net);
    REQUIRE(h);
    auto doc = json::parse(*hns.query(*h, ""));
    hns.close(*h);
    return doc["ID"];
  }
  static std::string lb(const std::vector<std::string>& eps, const std::string& vip = "10.96.0.10", int port = 80,
                        int flags = 0) {
    json j{{"HostComputeEndpoints", eps},
           {"FrontendVIPs", {vip}},
           {"PortMappings", {{{"Protocol", 6}, {"InternalPort", 8080}, {"ExternalPort", port}}}}};
    if (flags) j["Flags"] = flags;
    return j.dump();
  }
};

}  // namespace

TEST_CASE("simulator: unique GUIDs, enumerate with filters, query by handle") {
  SimNode n("ws2022");
  std::set<std::string> ids(n.eps.begin(), n.eps.end());
  CHECK(ids.size() == 3);
  for (const auto& id : ids) CHECK(isGuid(id));
  auto all = n.hns.enumerate(ObjectKind::Endpoint, "");
  REQUIRE(all);
  CHECK(all->size() == 3);
  std::string lower = n.eps[1];
  for (auto& c : lower) c = static_cast<char>(std::tolower(c));
  auto one = n.hns.enumerate(ObjectKind::Endpoint, json{{"Filter", json{{"ID", lower}}.dump()}}.dump());
  REQUIRE(one);
  CHECK(*one == std::vector<std::string>{n.eps[1]});
  auto byName = n.hns.enumerate(ObjectKind::Network, R"({"SchemaVersion":{"Major":2,"Minor":0},"Filter":"{\"Name\":\"cbr0\"}"})");
  REQUIRE(byName);
  CHECK(byName->size() == 1);
  auto bad = n.hns.enumerate(ObjectKind::Network, "{not json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().hresult == hcn::kHcnInvalidJson);
}

TEST_CASE("simulator: each misuse gets HNS's HRESULT and classification") {
  SimNode n("ws2022");
  auto lb = n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0);
  REQUIRE(lb);
  struct Case {
    const char* what;
    Status st;
    std::uint32_t hr;
    ErrorCode code;
  };
  auto asStatus = [](auto r) -> Status {
    if (r) return Ok{};
    return r.error();
  };
  std::vector<Case> cases;
  cases.push_back({"open missing", asStatus(n.hns.open(ObjectKind::LoadBalancer, "AAAAAAAA-0000-4000-8000-000000000000")),
                   hcn::kErrorNotFound, ErrorCode::NotFound});
  cases.push_back({"duplicate LB", asStatus(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0)),
                   hcn::kErrorAlreadyExists, ErrorCode::AlreadyExists});
  cases.push_back({"port in use", asStatus(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[1]}), 0)),
                   hcn::kHcnPortAlreadyExists, ErrorCode::PortInUse});
  cases.push_back({"missing endpoint",
                   asStatus(n.hns.create(ObjectKind::LoadBalancer, "",
                                         SimNode::lb({"AAAAAAAA-0000-4000-8000-000000000001"}, "10.96.0.11"), 0)),
                   hcn::kHcnInvalidJsonReference, ErrorCode::InvalidArgument});
  cases.push_back({"no backends", asStatus(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({}, "10.96.0.12"), 0)),
                   hcn::kEInvalidArg, ErrorCode::InvalidArgument});
  cases.push_back({"invalid VIP", asStatus(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}, "10.96.0.999"), 0)),
                   hcn::kHcnInvalidIp, ErrorCode::InvalidArgument});
  cases.push_back({"modify not implemented", n.hns.modify(*lb, SimNode::lb({n.eps[1]})), hcn::kENotImpl,
                   ErrorCode::NotImplemented});
  cases.push_back({"delete referenced endpoint", n.hns.remove(ObjectKind::Endpoint, n.eps[0]), hcn::kHcnEntityHasReferences,
                   ErrorCode::InvalidArgument});
  cases.push_back({"delete missing", n.hns.remove(ObjectKind::LoadBalancer, "AAAAAAAA-0000-4000-8000-000000000000"),
                   hcn::kErrorNotFound, ErrorCode::NotFound});
  cases.push_back({"invalid endpoint IP",
                   asStatus(n.hns.create(ObjectKind::Endpoint, "", R"({"IpConfigurations":[{"IpAddress":"10.1"}]})", n.net)),
                   hcn::kHcnInvalidIp, ErrorCode::InvalidArgument});
  cases.push_back({"malformed MAC",
                   asStatus(n.hns.create(ObjectKind::Endpoint, "",
                                         R"({"IpConfigurations":[{"IpAddress":"10.244.2.50"}],"MacAddress":"00-15-5D-1"})",
                                         n.net)),
                   hcn::kEInvalidArg, ErrorCode::InvalidArgument});
  cases.push_back({"IPv4 frontend on an IPv6 load balancer",
                   asStatus(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[2]}, "10.96.0.13", 80, static_cast<int>(hcn::kLbFlagIPv6)), 0)),
                   hcn::kEInvalidArg, ErrorCode::InvalidArgument});
  for (const auto& c : cases) {
    INFO(c.what);
    REQUIRE_FALSE(c.st);
    CHECK(c.st.error().hresult == c.hr);
    CHECK(c.st.error().code == c.code);
  }
}

TEST_CASE("simulator profiles: backend limit, DSR, and modify per Windows build") {
  SECTION("ws2019-early: 64 destinations, no DSR") {
    SimNode n("ws2019-early", 65);
    auto too = n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb(n.eps), 0);
    REQUIRE_FALSE(too);
    CHECK(too.error().hresult == hcn::kEInvalidArg);
    CHECK(too.error().message.find("invalid number of destinations") != std::string::npos);
    std::vector<std::string> first64(n.eps.begin(), n.eps.begin() + 64);
    CHECK(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb(first64), 0));
    CHECK_FALSE(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}, "10.96.0.20", 80, 1), 0));
  }
  SECTION("ws2025 (15.4): modify succeeds but keeps the old backends") {
    SimNode n("ws2025");
    auto lb = n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0);
    REQUIRE(lb);
    REQUIRE(n.hns.modify(*lb, SimNode::lb({n.eps[0], n.eps[1]})));
    CHECK(json::parse(*n.hns.query(*lb, ""))["HostComputeEndpoints"].size() == 1);
  }
  SECTION("ws2025-updated: modify works") {
    SimNode n("ws2025-updated");
    auto lb = n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0);
    REQUIRE(lb);
    REQUIRE(n.hns.modify(*lb, SimNode::lb({n.eps[0], n.eps[1]})));
    CHECK(json::parse(*n.hns.query(*lb, ""))["HostComputeEndpoints"].size() == 2);
  }
  CHECK(profileForVersion({15, 4}).modify == ModifyBehaviour::IgnoresBackends);
  CHECK(profileForVersion({9, 2}).maxBackends == 64);
}

TEST_CASE("simulator faults: nth call, service restart, and a call log") {
  SimNode n("ws2022");
  n.hns.resetCallLog();
  n.hns.failNthCall(2, hcn::kHcnManagerStopped);
  CHECK(n.hns.enumerate(ObjectKind::Endpoint, ""));
  auto failed = n.hns.enumerate(ObjectKind::Endpoint, "");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::Transient);
  CHECK(n.hns.enumerate(ObjectKind::Endpoint, ""));
  CHECK(n.hns.callCounts().at("HcnEnumerateEndpoints") == 3);

  auto lb = n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0);
  REQUIRE(lb);
  CHECK(n.hns.mutatingCalls() == 1);
  n.hns.restartService(2);
  CHECK(n.hns.enumerate(ObjectKind::LoadBalancer, "").error().hresult == hcn::kRpcServerUnavailable);
  CHECK_FALSE(n.hns.enumerate(ObjectKind::LoadBalancer, ""));
  auto after = n.hns.enumerate(ObjectKind::LoadBalancer, "");
  REQUIRE(after);
  CHECK(after->size() == 1);  // load balancers persist across the restart
  CHECK_FALSE(n.hns.query(*lb, ""));  // handles do not
}

TEST_CASE("simulator service notifications: a restart is announced to each subscriber until it unsubscribes") {
  SimNode n("ws2022");
  REQUIRE(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0]}), 0));
  std::vector<std::uint32_t> first, second;
  auto a = n.hns.subscribe([&](const ServiceNotification& e) { first.push_back(e.type); });
  auto b = n.hns.subscribe([&](const ServiceNotification& e) { second.push_back(e.type); });
  REQUIRE(a);
  REQUIRE(b);
  n.hns.restartService(0);
  CHECK(first == std::vector<std::uint32_t>{hcn::kNotificationServiceDisconnect});
  CHECK(second == first);
  a->reset();  // unsubscribed: no further notification
  n.hns.restartService(0, /*dropLoadBalancers=*/true);
  CHECK(first.size() == 1);
  CHECK(second.size() == 2);
  auto lbs = n.hns.enumerate(ObjectKind::LoadBalancer, "");
  REQUIRE(lbs);
  CHECK(lbs->empty());  // this restart lost them, as some nodes' HNS does
  CHECK(n.hns.enumerate(ObjectKind::Endpoint, "")->size() == 3);  // endpoints stay
}

TEST_CASE("simulator state survives a snapshot round trip") {
  SimNode n("ws2022");
  REQUIRE(n.hns.create(ObjectKind::LoadBalancer, "", SimNode::lb({n.eps[0], n.eps[2]}), 0));
  auto snap = n.hns.snapshot();
  SimulatedHns copy(snapshotFromJson(toJson(snap)).value());
  CHECK(copy.profile().version == policy::HnsVersion{13, 2});
  auto lbs = copy.enumerate(ObjectKind::LoadBalancer, "");
  REQUIRE(lbs);
  CHECK(lbs->size() == 1);
  CHECK(copy.snapshot().endpoints == snap.endpoints);
  CHECK_FALSE(copy.remove(ObjectKind::Endpoint, n.eps[0]));  // still referenced after reload
}

TEST_CASE("simulator: MACs kept in HNS's form, one assigned when none is given; GUIDs differ per instance") {
  SimNode n("ws2022", 0);
  auto mac = [&](const std::string& body) {
    auto h = n.hns.create(ObjectKind::Endpoint, "", body, n.net);
    REQUIRE(h);
    auto doc = json::parse(*n.hns.query(*h, ""));
    n.hns.close(*h);
    return doc.value("MacAddress", std::string());
  };
  CHECK(mac(R"({"IpConfigurations":[{"IpAddress":"10.244.2.60"}],"MacAddress":"02:11:0a:f4:02:3c"})") == "02-11-0A-F4-02-3C");
  CHECK(mac(R"({"IpConfigurations":[{"IpAddress":"10.244.2.61"}],"MacAddress":"02-11-0A-F4-02-3D"})") == "02-11-0A-F4-02-3D");
  const std::string assigned = mac(R"({"IpConfigurations":[{"IpAddress":"10.244.2.62"}]})");
  CHECK(assigned.rfind("00-15-5D-", 0) == 0);
  CHECK(assigned.size() == 17);

  // Two simulators (two HNS services, or one restarted) never hand out the same IDs.
  SimNode a("ws2022", 2), b("ws2022", 2);
  std::set<std::string> all(a.eps.begin(), a.eps.end());
  all.insert(b.eps.begin(), b.eps.end());
  CHECK(all.size() == 4);
  // ...unless a test seeds them alike.
  SimulatedHns c(*profileByName("ws2022")), d(*profileByName("ws2022"));
  c.seedIds(7);
  d.seedIds(7);
  auto cn = c.create(ObjectKind::Network, "", R"({"Name":"x","Type":"L2Bridge"})", 0);
  auto dn = d.create(ObjectKind::Network, "", R"({"Name":"x","Type":"L2Bridge"})", 0);
  REQUIRE(cn);
  REQUIRE(dn);
  CHECK(json::parse(*c.query(*cn, ""))["ID"] == json::parse(*d.query(*dn, ""))["ID"]);
}

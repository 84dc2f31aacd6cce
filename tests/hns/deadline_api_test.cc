#include "catch.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "eventually.h"
#include "hns/deadline_api.h"
#include "hns/query_all.h"
#include "hns/sim/simulated_hns.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace std::chrono_literals;
using nlohmann::json;
using hnsproxy::test::eventually;

namespace {

struct HungNode {
  std::shared_ptr<SimulatedHns> sim = std::make_shared<SimulatedHns>(*profileByName("ws2022"));
  std::string network;
  HungNode() {
    auto n = sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
    REQUIRE(n);
    network = json::parse(sim->query(*n, defaultQuery()).value()).value("ID", "");
    auto e = sim->create(ObjectKind::Endpoint, kZeroGuid,
                         json{{"IpConfigurations", {{{"IpAddress", "10.244.2.7"}}}}, {"Flags", 1}}.dump(), *n);
    REQUIRE(e);
    endpoint = json::parse(sim->query(*e, defaultQuery()).value()).value("ID", "");
    sim->close(*e);
    sim->close(*n);
    lb = json{{"SchemaVersion", {{"Major", 2}, {"Minor", 0}}},
              {"HostComputeEndpoints", {endpoint}},
              {"FrontendVIPs", {"10.96.0.10"}},
              {"PortMappings", {{{"Protocol", 6}, {"InternalPort", 8080}, {"ExternalPort", 80}}}}}
             .dump();
  }
  std::string endpoint, lb;
};

}  // namespace

TEST_CASE("deadline: a call that returns in time is the inner call's result, errors included") {
  HungNode n;
  DeadlineApi api(n.sim, 2s);
  auto ids = api.enumerate(ObjectKind::Network, defaultQuery());
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{n.network});
  auto missing = api.open(ObjectKind::LoadBalancer, "00000000-0000-0000-0000-00000000abcd");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().hresult == hcn::kErrorNotFound);
  CHECK(api.timedOut() == 0);
}

TEST_CASE("deadline: a hung create is reported in time, later calls fail fast, and its late success is handed back") {
  HungNode n;
  DeadlineApi api(n.sim, 100ms);
  std::atomic<int> lateCalls{0};
  std::atomic<bool> lateSucceeded{false};
  std::string lateFunction, lateObject;
  std::mutex mu;
  api.setLateHandler([&](const std::string& f, const std::string& o, std::chrono::milliseconds took, bool ok) {
    std::lock_guard<std::mutex> lock(mu);
    lateFunction = f;
    lateObject = o;
    lateSucceeded = ok;
    CHECK(took >= 100ms);
    ++lateCalls;
  });
  std::vector<std::string> timeouts;  // on the caller's thread
  api.setTimeoutHandler([&](const std::string& f, const std::string& o) { timeouts.push_back(f + " " + o); });
  n.sim->setLatency(std::chrono::microseconds(800000));  // HNS hangs for 0.8 s on every call
  const std::string id = "5EAD11E5-0000-4000-8000-000000000001";
  auto started = std::chrono::steady_clock::now();
  auto created = api.create(ObjectKind::LoadBalancer, id, n.lb, 0);
  auto waited = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(created);
  CHECK(created.error().code == ErrorCode::Transient);
  CHECK(created.error().hresult == hcn::kErrorTimeout);
  CHECK(created.error().message.find("HcnCreateLoadBalancer (LoadBalancer " + id + ") did not return within 100 ms") == 0);
  CHECK(waited < 700ms);  // the caller was not held for the whole hang
  CHECK(api.outstanding() == 1);
  CHECK(timeouts == std::vector<std::string>{"HcnCreateLoadBalancer LoadBalancer " + id});

  // While HNS has not answered, nothing else is sent to it.
  auto next = api.enumerate(ObjectKind::LoadBalancer, defaultQuery());
  REQUIRE_FALSE(next);
  CHECK(next.error().message.find("not attempted: HNS has not answered HcnCreateLoadBalancer") != std::string::npos);
  CHECK(api.timedOut() == 1);

  // The create completes late: the handler hears of it, its handle is closed, and the object is
  // there to be re-read (the reconciler's verification adopts it).
  REQUIRE(eventually([&] { return lateCalls.load() == 1; }, 3s));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(lateFunction == "HcnCreateLoadBalancer");
    CHECK(lateObject == "LoadBalancer " + id);
  }
  CHECK(lateSucceeded);
  CHECK(api.outstanding() == 0);
  n.sim->setLatency(std::chrono::microseconds(0));
  auto lbs = api.enumerate(ObjectKind::LoadBalancer, defaultQuery());
  REQUIRE(lbs);
  CHECK(*lbs == std::vector<std::string>{id});
}

TEST_CASE("deadline: a wrapper destroyed while a call hangs returns at once, and the late call still lands") {
  HungNode n;
  std::atomic<int> handled{0};
  {
    DeadlineApi api(n.sim, 50ms);
    api.setLateHandler([&](const std::string&, const std::string&, std::chrono::milliseconds, bool) { ++handled; });
    n.sim->setLatency(std::chrono::microseconds(400000));
    CHECK_FALSE(api.create(ObjectKind::LoadBalancer, "5EAD11E5-0000-4000-8000-000000000002", n.lb, 0));
  }  // the destructor returns without waiting for the hung call
  // The handler was cleared with the wrapper: nothing calls into a destroyed owner.
  std::this_thread::sleep_for(600ms);
  CHECK(handled == 0);
  n.sim->setLatency(std::chrono::microseconds(0));
  CHECK(n.sim->enumerate(ObjectKind::LoadBalancer, "")->size() == 1);  // the create happened; the simulator (shared) lives on
}

TEST_CASE("deadline: 0 disables it (calls run on the caller's thread)") {
  HungNode n;
  DeadlineApi api(n.sim, 0ms);
  n.sim->setLatency(std::chrono::microseconds(150000));
  auto created = api.create(ObjectKind::LoadBalancer, "5EAD11E5-0000-4000-8000-000000000003", n.lb, 0);
  REQUIRE(created);
  api.close(*created);
  CHECK(api.timedOut() == 0);
}

TEST_CASE("deadline: a handle closed while HNS does not answer is closed once it answers, never left open") {
  HungNode n;
  auto api = std::make_unique<DeadlineApi>(n.sim, 100ms);
  auto net = api->open(ObjectKind::Network, n.network);
  REQUIRE(net);
  CHECK(n.sim->openHandles() == 1);
  n.sim->setFunctionLatency("HcnCreateLoadBalancer", std::chrono::microseconds(600000));
  REQUIRE_FALSE(api->create(ObjectKind::LoadBalancer, "5EAD11E5-0000-4000-8000-000000000003", n.lb, 0));
  api->close(*net);  // not attempted now: HNS has not answered the create
  CHECK(api->outstanding() == 1);
  CHECK(n.sim->openHandles() == 1);
  // The create returns late (its own handle is closed then), and so is the network's.
  REQUIRE(eventually([&] { return api->outstanding() == 0; }, 3s));
  REQUIRE(eventually([&] { return n.sim->openHandles() == 0; }, 3s));

  // A close refused because kube-proxy is stopping, while HNS answers: closed at once all the same.
  auto again = api->open(ObjectKind::Network, n.network);
  REQUIRE(again);
  api->setStop([] { return true; });
  api->close(*again);
  CHECK(n.sim->openHandles() == 0);
}

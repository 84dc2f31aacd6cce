#include "catch.h"

#include <fmt/ranges.h>

#include "hns/instrumented_api.h"
#include "hns/reconcile/reconciler.h"
#include "hns/node_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::hns::test;
using namespace hnsproxy::policy;

namespace {

// A reconciler on a node, with the test's clock and sleep.
struct Rig {
  std::unique_ptr<SimulatedHns> sim;
  InstrumentedApi api;
  FakeClock clock;
  Sleeps sleeps;
  Reconciler r;

  explicit Rig(const std::string& profile, ReconcilerOptions o = nodeOptions())
      : Rig(makeNode(profile), std::move(o)) {}
  Rig(std::unique_ptr<SimulatedHns> s, ReconcilerOptions o)
      : sim(std::move(s)), api(*sim), r(api, std::move(o), clock.fn(), sleeps.fn()) {}

  void start() {
    auto s = r.start([] { return false; }, {});
    REQUIRE(s);
  }
  SyncReport sync() { return r.sync(); }
  // Every slice of verification due now, as the sync runner would run them between syncs.
  VerifyReport verifyDue() {
    VerifyReport total;
    for (int i = 0; i < 100000 && r.verificationDue() <= clock.now; ++i) {
      auto v = r.verifySlice();
      if (!v.ran) break;
      total.ran = true;
      total.existencePass = total.existencePass || v.existencePass;
      total.read += v.read;
      total.drift += v.drift;
      total.adopted += v.adopted;
      total.duplicates += v.duplicates;
      total.contextChanged = total.contextChanged || v.contextChanged;
      total.networkChanged = total.networkChanged || v.networkChanged;
      total.fullReadDone = total.fullReadDone || v.fullReadDone;
      if (v.failed) {
        total.failed = v.failed;
        break;
      }
    }
    return total;
  }
  // HNS holds exactly what the engine wants.
  bool converged() { return hnsHolds(sim->snapshot()) == expectedHolds(r.engine().desired()); }
  std::string failures(const SyncReport& rep) {
    std::vector<std::string> v;
    for (const auto& f : rep.applied.failures) v.push_back(f.str());
    return fmt::format("{}", fmt::join(v, "\n"));
  }
};

}  // namespace

TEST_CASE("reconciler: the first sync adopts and programs exactly the desired state, one mutating call per object") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 30);
  auto rep = n.sync();
  INFO(n.failures(rep));
  REQUIRE(rep.ok());
  REQUIRE(rep.adoption);
  CHECK(rep.adoption->first);
  CHECK(rep.fullDiff);
  const auto& d = n.r.engine().desired();
  CHECK(d.loadBalancers.size() == 40);  // 30 ClusterIP + 10 NodePort
  CHECK(n.api.mutatingCalls() == d.loadBalancers.size() + d.endpoints.size());
  CHECK(n.api.calls("enumerate LoadBalancer") == 1);  // the one start-up listing
  CHECK(n.converged());
  CHECK(sameContent(n.r.applied(), d));
}

TEST_CASE("reconciler: a restart over an unchanged cluster adopts everything and mutates nothing") {
  auto sim = makeNode("ws2022");
  {
    Rig first(std::move(sim), nodeOptions());
    first.start();
    fill(first.r.engine(), 20);
    REQUIRE(first.sync().ok());
    sim = std::move(first.sim);
  }
  Rig second(std::move(sim), nodeOptions());
  second.start();
  fill(second.r.engine(), 20);
  auto rep = second.sync();
  CHECK(rep.ok());
  CHECK(rep.applied.succeeded == 0);
  CHECK(second.api.mutatingCalls() == 0);
  CHECK(second.r.stats().adoptedLoadBalancers == 27);
  CHECK(rep.adoption->loadBalancers == 27);
}

TEST_CASE("reconciler: a steady-state sync with nothing changed makes no HNS call; one endpoint costs one modify") {
  for (const char* profile : {"ws2025-updated", "ws2022", "ws2025"}) {
    INFO(profile);
    Rig n(profile);
    n.start();
    fill(n.r.engine(), 10);
    REQUIRE(n.sync().ok());
    n.api.reset();
    auto idle = n.sync();
    CHECK(idle.plan.empty());
    CHECK(n.api.totalCalls() == 0);
    n.r.engine().upsertSlice(slice("s1", "s1-a",
                                   {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "n2"), ep("10.244.3.2", "n3"),
                                    ep("10.244.4.9", "n4")}));
    auto rep = n.sync();
    REQUIRE(rep.ok());
    CHECK_FALSE(rep.fullDiff);
    CHECK(rep.servicesRecomputed == 1);
    CHECK(n.api.calls("create Endpoint") == 1);
    if (std::string(profile) == "ws2025-updated") {
      CHECK(n.api.calls("modify") == 1);
      CHECK(n.api.calls("create LoadBalancer") == 0);
    } else {
      // No modify (ws2022), or one HNS ignores (ws2025 = 15.4): replace the one load balancer.
      CHECK(n.api.calls("modify") == 0);
      CHECK(n.api.calls("delete LoadBalancer") == 1);
      CHECK(n.api.calls("create LoadBalancer") == 1);
    }
    CHECK(n.converged());
  }
}

TEST_CASE("reconciler: E_NOTIMPL on modify falls back to delete + create, and the effective capabilities drop modify") {
  // A build that reports 15.6 but answers E_NOTIMPL: what the capabilities promise is not trusted.
  Profile odd{"odd", {15, 6}, 1024, true, ModifyBehaviour::NotImplemented};
  Rig n(makeNode(odd), nodeOptions());
  n.start();
  fill(n.r.engine(), 5);
  REQUIRE(n.sync().ok());
  CHECK(n.r.hostView()->caps.modifyLoadBalancer);
  n.r.engine().upsertSlice(slice("s2", "s2-a", {ep("10.244.2.99", "n2")}));
  auto rep = n.sync();
  REQUIRE(rep.ok());
  CHECK(rep.plan.count(OpKind::ModifyLoadBalancer) == 1);  // planned as a modify, done as a replace
  CHECK_FALSE(n.r.programmerStats().opsFailed);
  CHECK_FALSE(n.r.hostView()->caps.modifyLoadBalancer);
  CHECK_FALSE(n.r.engine().context().caps.modifyLoadBalancer);
  CHECK(n.converged());
  n.r.engine().upsertSlice(slice("s2", "s2-a", {ep("10.244.2.98", "n2")}));
  auto next = n.sync();
  REQUIRE(next.ok());
  CHECK(next.plan.count(OpKind::ModifyLoadBalancer) == 0);  // replaced from the plan on
  CHECK(n.converged());
}

TEST_CASE("reconciler: a failure at any step of a plan ends in the desired state once faults stop") {
  const std::uint32_t kinds[] = {hcn::kHcnManagerStopped, hcn::kEInvalidArg, hcn::kErrorNotFound, hcn::kRpcServerUnavailable};
  int steps = 0;
  {
    Rig n("ws2025-updated");
    n.start();
    fill(n.r.engine(), 6);
    REQUIRE(n.sync().ok());
    steps = n.sim->totalCalls();
  }
  REQUIRE(steps > 20);
  for (std::uint32_t hr : kinds) {
    for (int call = 1; call <= steps; call += 3) {
      INFO("HRESULT " << hr << " at call " << call);
      Rig n("ws2025-updated");
      n.sim->failNthCall(call, hr);
      if (!n.r.start([] { return false; }, {})) n.start();  // the start-up listing failed: retried
      fill(n.r.engine(), 6);
      n.sync();
      for (int round = 0; round < 3 && !n.r.applied().loadBalancers.empty() && !n.converged(); ++round) n.sync();
      n.sim->clearFaults();  // a fault scheduled past the end of the plan has not fired
      CHECK(n.converged());
      CHECK(sameContent(n.r.applied(), n.r.engine().desired()));
    }
  }
}

TEST_CASE("reconciler: failed operations are carried to the next sync, which retries exactly them") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 4);
  REQUIRE(n.sync().ok());
  n.sim->failFraction("HcnCreateLoadBalancer", 1.0, hcn::kEInvalidArg);  // not retryable: fails this sync
  n.r.engine().upsertService(svc("late", "10.96.9.9"));
  n.r.engine().upsertSlice(slice("late", "late-a", {ep("10.244.2.77", "n2")}));
  auto failed = n.sync();
  CHECK_FALSE(failed.ok());
  REQUIRE(failed.applied.failures.size() == 1);
  CHECK(failed.applied.failures[0].error.code == ErrorCode::InvalidArgument);
  CHECK(failed.applied.failures[0].error.hresult == hcn::kEInvalidArg);
  n.sim->failFraction("HcnCreateLoadBalancer", 0, 0);
  n.api.reset();
  auto again = n.sync();  // nothing changed in the cluster: the failed create alone is planned
  REQUIRE(again.ok());
  CHECK(again.plan.ops.size() == 1);
  CHECK(again.plan.ops[0].kind == OpKind::CreateLoadBalancer);
  CHECK(n.converged());
}

TEST_CASE("reconciler: transient failures are retried within the sync with growing, jittered backoff") {
  Rig n("ws2025-updated");
  n.sim->failFraction("HcnCreateLoadBalancer", 0.5, hcn::kHcnManagerStopped, 3);
  n.start();
  fill(n.r.engine(), 20);
  auto rep = n.sync();
  CHECK(rep.applied.retries > 0);
  CHECK(n.sleeps.taken.size() == rep.applied.retries);
  for (auto d : n.sleeps.taken) {
    CHECK(d.count() >= 5);
    CHECK(d.count() <= 100);
  }
  for (int round = 0; round < 5 && !n.converged(); ++round) n.sync();
  n.sim->failFraction("HcnCreateLoadBalancer", 0, 0);
  n.sync();
  CHECK(n.converged());
}

TEST_CASE("reconciler: verification runs between syncs when its period has passed, and the next sync repairs drift") {
  ReconcilerOptions o = nodeOptions();
  o.verifyPeriod = std::chrono::minutes(5);
  o.verifyContentPercent = 100;  // every object's content each period (the default re-reads 4%)
  Rig n(makeNode("ws2025-updated"), o);
  n.start();
  fill(n.r.engine(), 8);
  REQUIRE(n.sync().ok());
  // Behind our back: one load balancer deleted (`hnsdiag delete loadbalancers`, kubernetes#135802),
  // another changed.
  auto lbs = n.sim->snapshot().loadBalancers;
  REQUIRE(lbs.size() >= 2);
  REQUIRE(n.sim->remove(ObjectKind::LoadBalancer, lbs[0].id));
  auto h = n.sim->open(ObjectKind::LoadBalancer, lbs[1].id);
  auto doc = json::parse(*n.sim->query(*h, ""));
  doc["PortMappings"][0]["InternalPort"] = 9999;
  REQUIRE(n.sim->modify(*h, doc.dump()));
  n.sim->close(*h);
  CHECK_FALSE(n.converged());

  n.api.reset();
  n.clock.now += std::chrono::minutes(4);
  CHECK(n.r.verificationDue() > n.clock.now);  // not due: no call
  CHECK_FALSE(n.verifyDue().ran);
  CHECK(n.sync().plan.empty());  // and syncs never read HNS
  CHECK(n.api.totalCalls() == 0);

  n.clock.now += std::chrono::minutes(1);
  auto first = n.r.verifySlice();  // the existence pass: one enumerate per kind, and the network
  CHECK(first.existencePass);
  CHECK(first.drift == 1);
  CHECK(n.api.calls("enumerate LoadBalancer") == 1);
  CHECK(n.api.calls("enumerate Endpoint") == 1);
  CHECK(n.api.totalCalls() <= 6);
  auto rest = n.verifyDue();  // the content, in slices
  CHECK(rest.drift == 1);
  CHECK(n.r.stats().driftRepaired == 2);
  auto repaired = n.sync();
  CHECK(repaired.ok());
  CHECK(repaired.plan.ops.size() == 2);  // exactly the two objects: no full diff
  CHECK(n.converged());
  n.clock.now += std::chrono::minutes(5);
  CHECK(n.verifyDue().drift == 0);
}

TEST_CASE("reconciler: a requested re-read (an HNS notification) runs in slices whatever the period; a change is programmed between slices") {
  ReconcilerOptions o = nodeOptions();
  o.verifyPeriod = std::chrono::nanoseconds(0);  // periodic verification off
  o.verifySliceObjects = 4;
  Rig n(makeNode("ws2025-updated"), o);
  n.start();
  fill(n.r.engine(), 20);
  REQUIRE(n.sync().ok());
  REQUIRE(n.sim->remove(ObjectKind::LoadBalancer, n.sim->snapshot().loadBalancers[0].id));
  n.clock.now += std::chrono::hours(24);
  CHECK(n.r.verificationDue() == std::chrono::steady_clock::time_point::max());
  n.r.requestVerification();
  CHECK(n.r.verificationDue() <= n.clock.now);
  CHECK(n.r.verifySlice().existencePass);
  auto one = n.r.verifySlice();  // one slice of the re-read: 4 objects
  CHECK(one.read == 4);
  // A change now is programmed at once, as when no verification runs: one modify, no listing.
  n.api.reset();
  n.r.engine().upsertSlice(slice("s3", "s3-a", {ep("10.244.1.13", "win-node-1"), ep("10.244.2.90", "n2")}));
  auto rep = n.sync();
  CHECK(rep.ok());
  CHECK(n.api.calls("enumerate LoadBalancer") == 0);
  CHECK(n.api.mutatingCalls() <= 5);  // the change's 4, and the load balancer the existence pass found gone
  auto done = n.verifyDue();
  CHECK(done.fullReadDone);
  CHECK(n.sync().ok());
  CHECK(n.converged());
  CHECK(n.r.verificationDue() == std::chrono::steady_clock::time_point::max());  // done: not again
}

TEST_CASE("reconciler: with the default budget a period costs a few percent of a listing; the node is re-read in rotation") {
  ReconcilerOptions o = nodeOptions();
  o.verifyPeriod = std::chrono::seconds(30);
  Rig n(makeNode("ws2025-updated"), o);
  n.start();
  fill(n.r.engine(), 200);
  REQUIRE(n.sync().ok());
  const std::size_t objects = n.r.applied().loadBalancers.size() + n.r.applied().endpoints.size();
  const std::size_t listingCalls = 3 * (objects + 10) + 6;  // open/query/close per object (and the CNI's)
  std::set<std::string> read;
  n.api.reset();
  std::size_t periods = 0, maxCalls = 0;
  for (; periods < 30; ++periods) {
    n.clock.now += std::chrono::seconds(30);
    const auto before = n.api.totalCalls();
    // Over the period, as the runner would: slices when due.
    for (int step = 0; step < 30; ++step) {
      n.verifyDue();
      n.clock.now += std::chrono::seconds(1);
    }
    n.clock.now -= std::chrono::seconds(30);
    maxCalls = std::max<std::size_t>(maxCalls, static_cast<std::size_t>(n.api.totalCalls() - before));
  }
  INFO("objects " << objects << ", listing " << listingCalls << " calls, largest period " << maxCalls << " calls");
  CHECK(maxCalls * 100 <= listingCalls * 5);  // ≤ 5% of a listing per period
  CHECK(n.api.calls("open LoadBalancer") >= n.r.applied().loadBalancers.size());  // each read within 25 periods
}

TEST_CASE("reconciler: adoption deletes stale and duplicate load balancers on our network and leaves others alone") {
  auto sim = makeNode("ws2025-updated");
  std::string localId = sim->enumerate(ObjectKind::Endpoint, "")->front();
  auto lbDoc = [&](const std::string& vip, const std::vector<std::string>& eps, int internal = 8080) {
    return json{{"HostComputeEndpoints", eps},
                {"FrontendVIPs", {vip}},
                {"PortMappings", {{{"Protocol", 6}, {"InternalPort", internal}, {"ExternalPort", 80}}}}}
        .dump();
  };
  REQUIRE(sim->create(ObjectKind::LoadBalancer, "", lbDoc("10.96.9.9", {localId}), 0));  // stale, ours
  // Something else's network and endpoint: not ours to touch.
  auto otherNet = sim->create(ObjectKind::Network, "", R"({"Name":"nat","Type":"NAT"})", 0);
  auto otherEp = sim->create(ObjectKind::Endpoint, "", R"({"IpConfigurations":[{"IpAddress":"172.20.0.2"}]})", *otherNet);
  std::string otherId = json::parse(*sim->query(*otherEp, ""))["ID"];
  REQUIRE(sim->create(ObjectKind::LoadBalancer, "", lbDoc("172.20.0.100", {otherId}), 0));
  Rig n(std::move(sim), nodeOptions());
  n.start();
  fill(n.r.engine(), 3);
  REQUIRE(n.sync().ok());
  auto lbs = n.sim->snapshot().loadBalancers;
  CHECK(lbs.size() == n.r.engine().desired().loadBalancers.size() + 1);  // the NAT network's survives
  CHECK(std::none_of(lbs.begin(), lbs.end(), [](const HcnLoadBalancer& l) {
    return !l.frontendVips.empty() && l.frontendVips[0] == "10.96.9.9";
  }));
}

TEST_CASE("reconciler: an HNS restart fails calls for a while; a process that lost its record adopts what HNS rehydrated") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 5);
  REQUIRE(n.sync().ok());
  n.sim->restartService(2);
  n.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.2.50", "n2")}));
  auto rep = n.sync();
  CHECK(rep.ok());
  CHECK(rep.applied.retries >= 1);
  // A new process whose start-up listing missed the load balancers (kubernetes#139519): its
  // creates meet identical ones and adopt them instead of replacing them.
  InstrumentedApi api(*n.sim);
  FakeClock clock;
  Reconciler blank(api, nodeOptions(), clock.fn(), [](std::chrono::milliseconds) {});
  auto hidden = n.sim->snapshot().loadBalancers;
  for (const auto& lb : hidden) REQUIRE(n.sim->remove(ObjectKind::LoadBalancer, lb.id));
  REQUIRE(blank.start([] { return false; }, {}));
  for (const auto& lb : hidden) REQUIRE(n.sim->create(ObjectKind::LoadBalancer, lb.id, toJson(lb).dump(), 0));
  fill(blank.engine(), 5);
  blank.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.2.50", "n2")}));
  auto again = blank.sync();
  CHECK(again.ok());
  CHECK(api.calls("delete LoadBalancer") == 0);  // identical ones are adopted, not replaced
  CHECK(n.sim->snapshot().loadBalancers.size() == blank.engine().desired().loadBalancers.size());
}

TEST_CASE("reconciler: parallel programming reaches the same state") {
  auto sim = makeNode("ws2025-updated");
  sim->setLatency(std::chrono::microseconds(200));
  Rig n(std::move(sim), nodeOptions(4));
  n.start();
  fill(n.r.engine(), 25);
  REQUIRE(n.sync().ok());
  CHECK(n.converged());
}

TEST_CASE("reconciler: an operation that finds the network gone requests verification; the new network is programmed") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 4);
  REQUIRE(n.sync().ok());
  const std::string oldId = n.r.hostView()->network.id;
  // The CNI re-creates the network: everything on it is gone; new pod endpoints appear.
  auto snap = n.sim->snapshot();
  for (const auto& lb : snap.loadBalancers) REQUIRE(n.sim->remove(ObjectKind::LoadBalancer, lb.id));
  for (const auto& e : snap.endpoints) REQUIRE(n.sim->remove(ObjectKind::Endpoint, e.id));
  REQUIRE(n.sim->remove(ObjectKind::Network, snap.networks[0].id));
  auto net = n.sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  for (int i = 10; i < 20; ++i)
    REQUIRE(n.sim->create(ObjectKind::Endpoint, "",
                          json{{"Name", "pod" + std::to_string(i)},
                               {"IpConfigurations", {{{"IpAddress", "10.244.1." + std::to_string(i)}}}}}.dump(),
                          *net));
  // A change that needs a new remote endpoint: opening the old network fails as "network gone".
  n.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.2.60", "n2")}));
  auto gone = n.sync();
  CHECK_FALSE(gone.ok());
  CHECK(gone.applied.networkGone());
  auto rep = n.sync();
  REQUIRE(rep.networkChanged);
  CHECK(rep.networkChanged->first == oldId);
  CHECK(rep.networkChanged->second == n.r.hostView()->network.id);
  CHECK(rep.adoption->drift == 0);  // a new network is not drift
  INFO(n.failures(rep));
  CHECK(rep.ok());
  CHECK(n.converged());
}

TEST_CASE("reconciler: a missing network is waited for with backoff, logged once per interval, then used") {
  auto sim = std::make_unique<SimulatedHns>(*profileByName("ws2022"));
  auto* raw = sim.get();
  ReconcilerOptions o = nodeOptions();
  o.waitInitial = std::chrono::milliseconds(100);
  o.waitMax = std::chrono::milliseconds(1600);
  o.waitLogEvery = std::chrono::milliseconds(5000);
  Rig n(std::move(sim), o);
  n.sleeps.hook = [&](std::chrono::milliseconds) {
    if (n.sleeps.taken.size() == 12) REQUIRE(raw->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0));
  };
  std::vector<std::string> logs;
  auto s = n.r.start([] { return false; }, [&](const std::string& m) { logs.push_back(m); });
  REQUIRE(s);
  CHECK(s->view.network.name == "cbr0");
  const auto& sleeps = n.sleeps.taken;
  REQUIRE(sleeps.size() == 12);
  CHECK(sleeps[0].count() == 100);
  CHECK(sleeps[1].count() == 200);
  CHECK(sleeps[4].count() == 1600);
  CHECK(sleeps[11].count() == 1600);  // capped
  // First failure, then once per 5 s of waiting (~16.3 s in all), then "available".
  CHECK(logs.size() >= 3);
  CHECK(logs.size() <= 5);
  CHECK(logs.front().find("not found") != std::string::npos);
  CHECK(logs.back().find("available") != std::string::npos);

  Rig empty(std::make_unique<SimulatedHns>(*profileByName("ws2022")), nodeOptions());
  int polls = 0;
  auto gaveUp = empty.r.start([&] { return ++polls > 3; }, {});
  REQUIRE_FALSE(gaveUp);
  CHECK(gaveUp.error().code == ErrorCode::NotFound);
}

TEST_CASE("reconciler: start-up refuses what this node's HNS cannot do for the configuration") {
  struct Case {
    Profile profile;
    const char* network;
    std::function<void(ReconcilerOptions&)> tweak;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {{"old", {9, 1}, 64, false, ModifyBehaviour::NotImplemented}, "L2Bridge", {}, "Windows HNS Api V2 required"},
      {*profileByName("ws2022"), "Overlay", {}, "source-vip flag not set"},
      {*profileByName("ws2022"), "Overlay",
       [](ReconcilerOptions& o) {
         o.node.rules.sourceVip = ip("10.244.1.250");
         o.winOverlay = false;
       },
       "WinOverlay feature gate not enabled"},
      {*profileByName("ws2019-early"), "L2Bridge", [](ReconcilerOptions& o) { o.node.rules.enableDsr = true; },
       "DSR is not supported by HNS 9.2"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    auto sim = std::make_unique<SimulatedHns>(c.profile);
    REQUIRE(sim->create(ObjectKind::Network, "", json{{"Name", "cbr0"}, {"Type", c.network}}.dump(), 0));
    ReconcilerOptions o = nodeOptions();
    if (c.tweak) c.tweak(o);
    Rig n(std::move(sim), o);
    auto s = n.r.start([] { return false; }, {});
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("reconciler: a pod started since the listing is learned with one enumerate, once, and re-points its IP") {
  for (const char* profile : {"ws2025-updated", "ws2022"}) {
    INFO(profile);
    Rig n(profile);
    n.start();
    fill(n.r.engine(), 3);
    REQUIRE(n.sync().ok());
    // s1's endpoint 10.244.2.2 was remote; its pod is replaced by one on this node with the same IP.
    auto before = n.sim->snapshot();
    std::string remoteId;
    for (const auto& e : before.endpoints)
      if (e.isRemote() && e.ipConfigurations[0].ipAddress == "10.244.2.2") remoteId = e.id;
    REQUIRE(!remoteId.empty());
    auto net = n.sim->open(ObjectKind::Network, n.r.hostView()->network.id);
    auto local = n.sim->create(ObjectKind::Endpoint, "",
                               R"({"Name":"moved","IpConfigurations":[{"IpAddress":"10.244.2.2"}]})", *net);
    REQUIRE(local);
    std::string localId = json::parse(*n.sim->query(*local, ""))["ID"];
    n.api.reset();
    n.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "win-node-1"),
                                                  ep("10.244.3.2", "n3")}));
    auto rep = n.sync();
    INFO(n.failures(rep));
    REQUIRE(rep.ok());
    CHECK(n.api.calls("enumerate Endpoint") == 1);  // one filtered enumerate; only the new ID queried
    CHECK(n.api.calls("query") == 1);
    CHECK(rep.missingLocalEndpoints.empty());
    auto snap = n.sim->snapshot();
    CHECK(std::none_of(snap.endpoints.begin(), snap.endpoints.end(), [&](const HcnEndpoint& e) { return e.id == remoteId; }));
    bool pointed = false;
    for (const auto& lb : snap.loadBalancers)
      if (!lb.frontendVips.empty() && lb.frontendVips[0] == "10.96.0.2")
        pointed = std::find(lb.endpoints.begin(), lb.endpoints.end(), localId) != lb.endpoints.end();
    CHECK(pointed);
    CHECK(n.converged());
  }
}

TEST_CASE("reconciler: a local endpoint HNS never shows is asked about once, not at every sync") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 2);
  REQUIRE(n.sync().ok());
  n.api.reset();
  // A host-network pod: on this node, but with an IP HNS holds no endpoint for.
  n.r.engine().upsertSlice(slice("s0", "s0-a", {ep("10.244.1.10", "win-node-1"), ep("10.0.0.4", "win-node-1")}));
  auto first = n.sync();
  CHECK(n.api.calls("enumerate Endpoint") == 1);
  CHECK(first.missingLocalEndpoints == MissingLocalEndpoints{ip("10.0.0.4")});
  n.api.reset();
  n.r.engine().upsertSlice(slice("s0", "s0-a", {ep("10.244.1.10", "win-node-1"), ep("10.0.0.4", "win-node-1"),
                                                ep("10.244.2.40", "n2")}));
  auto second = n.sync();
  CHECK(n.api.calls("enumerate Endpoint") == 0);
  CHECK(second.missingLocalEndpoints == MissingLocalEndpoints{ip("10.0.0.4")});
  // A failed refresh is tried again at the next sync.
  n.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.77", "win-node-1")}));
  n.sim->failFraction("HcnEnumerateEndpoints", 1.0, hcn::kRpcServerUnavailable);
  auto failed = n.sync();
  CHECK(failed.localRefreshFailed);
  n.sim->failFraction("HcnEnumerateEndpoints", 0, 0);
  n.api.reset();
  n.sync();
  CHECK(n.api.calls("enumerate Endpoint") == 1);
}

TEST_CASE("reconciler: the Node is part of the node context; its IP change re-programs the source VIPs") {
  ReconcilerOptions o = nodeOptions();
  o.node.bindAddress.reset();  // the node IP comes from the Rig object
  Rig n(makeNode("ws2025-updated"), o);
  n.start();
  fill(n.r.engine(), 2);
  policy::Node nodeObj;
  nodeObj.name = "win-node-1";
  nodeObj.internalIPs = {ip("10.0.0.4")};
  n.r.setNode(nodeObj);
  auto first = n.sync();
  REQUIRE(first.ok());
  CHECK_FALSE(first.assumedLoopback);
  CHECK(n.r.engine().desired().loadBalancers.begin()->second.sourceVip == ip("10.0.0.4"));
  nodeObj.internalIPs = {ip("10.0.0.40")};
  n.r.setNode(nodeObj);
  auto rep = n.sync();
  REQUIRE(rep.ok());
  CHECK(n.r.engine().desired().loadBalancers.begin()->second.sourceVip == ip("10.0.0.40"));
  CHECK(rep.plan.count(OpKind::ModifyLoadBalancer) == n.r.engine().desired().loadBalancers.size());
  CHECK(n.converged());
  n.r.setNode(std::nullopt);
  CHECK(n.sync().assumedLoopback);  // no IP from the flag, the Rig or the network
}

TEST_CASE("reconciler: plan() applies nothing; cleanup() removes ours and leaves the CNI's endpoints") {
  Rig n("ws2025-updated");
  n.start();
  fill(n.r.engine(), 3);
  auto dry = n.r.plan();
  REQUIRE_FALSE(dry.error);
  CHECK(dry.plan.count(OpKind::CreateLoadBalancer) == n.r.engine().desired().loadBalancers.size());
  CHECK(n.api.mutatingCalls() == 0);
  REQUIRE(n.sync().ok());

  Rig c(std::move(n.sim), nodeOptions());
  c.start();
  auto clean = c.r.cleanup();
  REQUIRE_FALSE(clean.error);
  CHECK(clean.applied.complete());
  auto snap = c.sim->snapshot();
  CHECK(snap.loadBalancers.empty());
  CHECK(snap.endpoints.size() == 10);  // the pods'
  CHECK(std::none_of(snap.endpoints.begin(), snap.endpoints.end(), [](const HcnEndpoint& e) { return e.isRemote(); }));
}

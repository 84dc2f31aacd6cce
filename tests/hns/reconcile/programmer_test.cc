// The programmer's execution contracts, on plans written for the test: the record advances only
// for what succeeded, failures are typed, deletes of what is gone succeed, a contested frontend is
// adopted or cleared, modify falls back, phases run in order (in parallel within one).
#include "catch.h"

#include "hns/reconcile/adoption.h"
#include "hns/instrumented_api.h"
#include "hns/reconcile/programmer.h"
#include "hns/reconcile/reader.h"
#include "hns/node_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::hns::test;
using namespace hnsproxy::policy;

namespace {

// A programmer over a node, its record reset from a listing as the reconciler would.
struct Exec {
  std::unique_ptr<SimulatedHns> sim;
  InstrumentedApi api;
  IdRegistry ids;
  Sleeps sleeps;
  Programmer prog;
  NodeContext ctx;

  explicit Exec(const std::string& profile, int parallelism = 1)
      : sim(makeNode(profile)), api(*sim), prog(api, ids, options(parallelism), sleeps.fn()) {
    ctx = policy::test::l2bridge();
    reread();
  }
  static ProgrammerOptions options(int parallelism) {
    ProgrammerOptions o;
    o.parallelism = parallelism;
    o.backoffInitial = std::chrono::milliseconds(10);
    o.backoffMax = std::chrono::milliseconds(100);
    o.jitterSeed = 3;
    return o;
  }
  void reread(const HnsState& desired = {}) {
    auto l = HnsReader(*sim, "cbr0").list();
    REQUIRE(l);
    Adoption a = adopt(*l, ctx, desired);
    ids.reset(std::move(a.ids));
    prog.reset(std::move(a.applied), std::move(a.duplicateLoadBalancers), l->network.id);
  }
};

LoadBalancer lbOf(const std::string& vip, std::vector<IpAddress> backends, std::uint16_t internal = 8080) {
  LoadBalancer lb;
  lb.key = {IpFamily::V4, Protocol::TCP, ip(vip), 80};
  lb.internalPort = internal;
  lb.sourceVip = ip("10.0.0.4");
  lb.backends = std::move(backends);
  return lb;
}

Op createLb(const LoadBalancer& lb) { return Op{OpKind::CreateLoadBalancer, kPhaseCreateLoadBalancers, {}, lb, "new"}; }
Op createEp(const std::string& addr) {
  return Op{OpKind::CreateEndpoint, kPhaseCreateEndpoints, remoteEndpointFor(ip(addr), policy::test::l2bridge()), {}, "new"};
}

}  // namespace

TEST_CASE("programmer: the record advances only for operations that succeeded; failures are typed and pending") {
  Exec x("ws2025-updated");
  Plan plan;
  plan.ops = {createEp("10.244.2.5"), createEp("10.244.2.6"), createLb(lbOf("10.96.0.1", ips({"10.244.2.5"}))),
              createLb(lbOf("10.96.0.2", ips({"10.244.2.6"})))};
  x.sim->failNthCall(3, hcn::kHcnInvalidIp);  // the second endpoint create (open network, create, create)
  auto r = x.prog.apply(plan);
  CHECK(r.succeeded == 2);
  CHECK(r.failed == 2);  // the endpoint, and the load balancer whose backend has no endpoint
  REQUIRE(r.failures.size() == 2);
  CHECK(r.failures[0].error.code == ErrorCode::InvalidArgument);
  CHECK(r.failures[0].error.hresult == hcn::kHcnInvalidIp);
  CHECK(r.failures[0].operation.find("create-endpoint 10.244.2.6") != std::string::npos);
  CHECK(r.failures[1].error.message.find("backend 10.244.2.6 has no HNS endpoint") != std::string::npos);
  CHECK(x.prog.applied().endpoints.count(ip("10.244.2.5")));
  CHECK_FALSE(x.prog.applied().endpoints.count(ip("10.244.2.6")));
  CHECK(x.prog.applied().loadBalancers.size() == 1);
  CHECK(x.prog.pending().endpoints == std::set<IpAddress>{ip("10.244.2.6")});
  CHECK(x.prog.pending().loadBalancers.size() == 1);
  CHECK(x.prog.stats().opsFailed == 2);
}

TEST_CASE("programmer: deleting what HNS no longer holds succeeds and leaves the record clean") {
  Exec x("ws2025-updated");
  Plan create;
  create.ops = {createEp("10.244.2.5"), createLb(lbOf("10.96.0.1", ips({"10.244.2.5"})))};
  REQUIRE(x.prog.apply(create).complete());
  for (const auto& lb : x.sim->snapshot().loadBalancers) REQUIRE(x.sim->remove(ObjectKind::LoadBalancer, lb.id));
  Plan del;
  del.ops = {Op{OpKind::DeleteLoadBalancer, kPhaseDeleteLoadBalancers, {}, lbOf("10.96.0.1", ips({"10.244.2.5"})), "gone"},
             Op{OpKind::DeleteEndpoint, kPhaseDeleteEndpoints, create.ops[0].endpoint, {}, "unused"}};
  auto r = x.prog.apply(del);
  CHECK(r.complete());
  CHECK(x.prog.applied().loadBalancers.empty());
  CHECK(x.prog.applied().endpoints.empty());
  CHECK(x.ids.loadBalancer(del.ops[0].lb->key) == std::nullopt);
}

TEST_CASE("programmer: a frontend held by an identical load balancer is adopted; by a different one, replaced") {
  Exec x("ws2025-updated");
  auto pod = ip("10.244.1.10");
  auto podId = x.ids.backend(pod);
  REQUIRE(podId);
  auto doc = [&](int internal) {
    return json{{"HostComputeEndpoints", {*podId}}, {"SourceVIP", "10.0.0.4"}, {"FrontendVIPs", {"10.96.0.1"}},
                {"PortMappings", {{{"Protocol", 6}, {"InternalPort", internal}, {"ExternalPort", 80}}}}}
        .dump();
  };
  auto same = x.sim->create(ObjectKind::LoadBalancer, "", doc(8080), 0);  // e.g. rehydrated after an HNS restart
  REQUIRE(same);
  std::string sameId = json::parse(*x.sim->query(*same, ""))["ID"];
  Plan plan;
  plan.ops = {createLb(lbOf("10.96.0.1", {pod}))};
  x.api.reset();
  REQUIRE(x.prog.apply(plan).complete());
  CHECK(x.api.calls("delete LoadBalancer") == 0);
  CHECK(x.ids.loadBalancer(plan.ops[0].lb->key) == sameId);

  auto other = x.sim->create(ObjectKind::LoadBalancer, "", [&] {
    auto j = json::parse(doc(9999));
    j["FrontendVIPs"] = {"10.96.0.2"};
    return j.dump();
  }(), 0);
  REQUIRE(other);
  Plan plan2;
  plan2.ops = {createLb(lbOf("10.96.0.2", {pod}))};
  auto r = x.prog.apply(plan2);
  CHECK(r.complete());
  CHECK(r.retries == 1);  // cleared, then created again
  int on96_2 = 0;
  for (const auto& lb : x.sim->snapshot().loadBalancers)
    if (lb.frontendVips[0] == "10.96.0.2") {
      ++on96_2;
      CHECK(lb.portMappings[0].internalPort == 8080);
    }
  CHECK(on96_2 == 1);
}

TEST_CASE("programmer: E_NOTIMPL on modify turns modify off for the process and replaces instead") {
  Exec x("ws2022");
  Plan create;
  create.ops = {createEp("10.244.2.5"), createLb(lbOf("10.96.0.1", ips({"10.244.2.5"})))};
  REQUIRE(x.prog.apply(create).complete());
  CHECK(x.prog.modifySupported());
  Plan modify;
  modify.ops = {Op{OpKind::ModifyLoadBalancer, kPhaseModifyLoadBalancers, {}, lbOf("10.96.0.1", ips({"10.244.2.5"}), 9090), "x"}};
  x.api.reset();
  auto r = x.prog.apply(modify);
  CHECK(r.complete());
  CHECK_FALSE(x.prog.modifySupported());
  CHECK(x.api.calls("modify") == 1);
  CHECK(x.api.calls("delete LoadBalancer") == 1);
  CHECK(x.api.calls("create LoadBalancer") == 1);
  x.api.reset();
  REQUIRE(x.prog.apply(modify).complete());
  CHECK(x.api.calls("modify") == 0);  // not tried again
}

TEST_CASE("programmer: a network that is gone is a typed failure, however HNS says it") {
  SECTION("opening the network by ID misses (ERROR_NOT_FOUND)") {
    Exec x("ws2025-updated");
    auto net = x.sim->snapshot().networks[0].id;
    for (const auto& e : x.sim->snapshot().endpoints) REQUIRE(x.sim->remove(ObjectKind::Endpoint, e.id));
    REQUIRE(x.sim->remove(ObjectKind::Network, net));
    Plan plan;
    plan.ops = {createEp("10.244.2.5")};
    auto r = x.prog.apply(plan);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].error.code == ErrorCode::NetworkNotFound);
    CHECK(r.networkGone());
  }
  SECTION("an endpoint create on a network handle answers HCN_E_NETWORK_NOT_FOUND") {
    Exec x("ws2025-updated");
    x.sim->failFraction("HcnCreateEndpoint", 1.0, hcn::kHcnNetworkNotFound);
    Plan plan;
    plan.ops = {createEp("10.244.2.5")};
    auto r = x.prog.apply(plan);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].error.code == ErrorCode::NetworkNotFound);
    CHECK(r.failures[0].error.hresult == hcn::kHcnNetworkNotFound);
    CHECK(r.retries == 0);  // not retried as is: the host must be re-read
  }
}

TEST_CASE("programmer: phases run in order; within one, operations run in parallel and the outcome is the same") {
  for (int parallelism : {1, 4}) {
    INFO("parallelism " << parallelism);
    Exec x("ws2025-updated", parallelism);
    x.sim->setLatency(std::chrono::microseconds(100));
    Plan plan;
    for (int i = 1; i <= 12; ++i) {
      plan.ops.push_back(createEp("10.244.2." + std::to_string(i)));
      plan.ops.push_back(createLb(lbOf("10.96.0." + std::to_string(i), ips({("10.244.2." + std::to_string(i)).c_str()}))));
    }
    std::stable_sort(plan.ops.begin(), plan.ops.end(), [](const Op& a, const Op& b) { return a.phase < b.phase; });
    auto r = x.prog.apply(plan);
    REQUIRE(r.complete());
    CHECK(r.succeeded == 24);
    CHECK(hnsHolds(x.sim->snapshot()) == expectedHolds(x.prog.applied()));
  }
}

TEST_CASE("programmer: when HNS stops answering, the plan is cut short after a run of failures and kept pending") {
  Exec x("ws2025-updated");
  x.sim->failFraction("HcnCreateEndpoint", 1.0, hcn::kRpcServerUnavailable);
  Plan plan;
  for (int i = 1; i <= 40; ++i) plan.ops.push_back(createEp("10.244.2." + std::to_string(i)));
  auto r = x.prog.apply(plan);
  CHECK(r.abandoned);
  CHECK(r.failed == 40);
  CHECK(x.api.calls("create Endpoint") == 16 * 4);  // 16 operations through their retries, then none
  CHECK(x.prog.pending().endpoints.size() == 40);
  x.sim->failFraction("HcnCreateEndpoint", 0, 0);
  auto again = x.prog.apply(plan);
  CHECK(again.complete());
  CHECK_FALSE(again.abandoned);
}

TEST_CASE("programmer: a stop request ends the plan within one call; nothing is retried after it") {
  Exec x("ws2025-updated");
  bool stopping = false;
  ProgrammerOptions o = Exec::options(1);
  o.stop = [&] { return stopping; };
  Programmer prog(x.api, x.ids, o, [&](std::chrono::milliseconds) { stopping = true; });  // SIGTERM during backoff
  x.sim->failFraction("HcnCreateEndpoint", 1.0, hcn::kHcnManagerStopped);
  Plan plan;
  for (int i = 1; i <= 10; ++i) plan.ops.push_back(createEp("10.244.2." + std::to_string(i)));
  auto l = HnsReader(*x.sim, "cbr0").list();
  prog.reset({}, {}, l->network.id);
  x.api.reset();
  auto r = prog.apply(plan);
  CHECK(r.failed == 10);
  CHECK(x.api.calls("create Endpoint") == 1);  // the first attempt; its retry and every other op skipped
}

namespace {
// An HNS whose creates land but whose replies are lost, as a call past --hns-call-timeout is: the
// object is made, the caller hears of a timeout.
class LateCreates final : public Api {
 public:
  explicit LateCreates(Api& inner) : inner_(inner) {}
  bool late = true;
  Result<std::vector<std::string>> enumerate(ObjectKind k, const std::string& q) override { return inner_.enumerate(k, q); }
  Result<Handle> open(ObjectKind k, const std::string& id) override { return inner_.open(k, id); }
  Result<std::string> query(Handle h, const std::string& q) override { return inner_.query(h, q); }
  Result<Handle> create(ObjectKind k, const std::string& id, const std::string& s, Handle n) override {
    auto r = inner_.create(k, id, s, n);
    if (!late || !r) return r;
    inner_.close(*r);
    return Error(ErrorCode::Transient, "did not return within 1000 ms", hcn::kErrorTimeout);
  }
  Status modify(Handle h, const std::string& s) override { return inner_.modify(h, s); }
  Status remove(ObjectKind k, const std::string& id) override { return inner_.remove(k, id); }
  void close(Handle h) override { inner_.close(h); }
  Result<policy::HnsVersion> version() override { return inner_.version(); }

 private:
  Api& inner_;
};
}  // namespace

TEST_CASE("programmer: a create whose reply was lost is made again under the same ID: adopted, never twice") {
  auto sim = makeNode("ws2025-updated");
  LateCreates late(*sim);
  IdRegistry ids;
  Sleeps sleeps;
  ProgrammerOptions o = Exec::options(1);
  o.maxAttempts = 1;  // every attempt of this sync lands late
  Programmer prog(late, ids, o, sleeps.fn());
  auto l = HnsReader(*sim, "cbr0").list();
  REQUIRE(l);
  Adoption a = adopt(*l, policy::test::l2bridge(), {});
  ids.reset(std::move(a.ids));
  prog.reset(std::move(a.applied), {}, l->network.id);
  Plan plan;
  plan.ops = {createEp("10.244.2.5"), createLb(lbOf("10.96.0.1", ips({"10.244.2.5"})))};
  auto first = prog.apply(plan);
  CHECK(first.failed == 2);  // the endpoint timed out (it was made); the load balancer had no backend ID
  auto countFor = [&](const std::string& addr) {
    int n = 0;
    for (const auto& e : sim->snapshot().endpoints)
      for (const auto& c : e.ipConfigurations) n += c.ipAddress == addr;
    return n;
  };
  CHECK(countFor("10.244.2.5") == 1);
  // The next sync retries: the same ID, so HNS answers AlreadyExists and the object is adopted.
  late.late = false;
  auto second = prog.apply(plan);
  CHECK(second.complete());
  CHECK(countFor("10.244.2.5") == 1);
  CHECK(sim->snapshot().loadBalancers.size() == 1);
  // A late create of a load balancer that is then no longer wanted: the delete removes it.
  late.late = true;
  Plan lb2;
  lb2.ops = {createLb(lbOf("10.96.0.2", ips({"10.244.2.5"})))};
  CHECK_FALSE(prog.apply(lb2).complete());
  CHECK(sim->snapshot().loadBalancers.size() == 2);  // it landed
  late.late = false;
  Plan gone;
  gone.ops = {Op{OpKind::DeleteLoadBalancer, kPhaseDeleteLoadBalancers, {}, lbOf("10.96.0.2", ips({"10.244.2.5"})), "gone"}};
  CHECK(prog.apply(gone).complete());
  CHECK(sim->snapshot().loadBalancers.size() == 1);
}

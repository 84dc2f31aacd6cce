#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hns/instrumented_api.h"
#include "hns/node_context.h"
#include "hns/programmer.h"
#include "hns/query_all.h"
#include "hns/simulated_hns.h"
#include "hns/translate.h"
#include "policy/fixtures.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;
using nlohmann::json;

namespace {

// A node: the CNI's network and ten local pod endpoints in a simulated HNS.
std::unique_ptr<SimulatedHns> makeNode(const std::string& profile) {
  auto sim = std::make_unique<SimulatedHns>(*profileByName(profile));
  auto net = sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  REQUIRE(net);
  for (int i = 10; i < 20; ++i) {
    auto e = sim->create(ObjectKind::Endpoint, "",
                         json{{"Name", "pod" + std::to_string(i)},
                              {"IpConfigurations", {{{"IpAddress", "10.244.1." + std::to_string(i)}}}}}
                             .dump(),
                         *net);
    REQUIRE(e);
    sim->close(*e);
  }
  sim->close(*net);
  sim->resetCallLog();
  return sim;
}

// The cluster: n services with a mix of local and remote endpoints, some NodePort.
void fill(Engine& e, int n) {
  for (int i = 0; i < n; ++i) {
    auto s = svc("s" + std::to_string(i), "10.96.0." + std::to_string(i + 1),
                 {{"http", Protocol::TCP, 80, std::uint16_t{8080}, static_cast<std::uint16_t>(i % 3 == 0 ? 30000 + i : 0)}});
    if (i % 3 == 0) s.type = ServiceType::NodePort;
    e.upsertService(s);
    e.upsertSlice(slice(s.id.name, s.id.name + "-a",
                        {ep("10.244.1." + std::to_string(10 + i % 10), "win-node-1"),
                         ep("10.244.2." + std::to_string(1 + i), "n2"), ep("10.244.3." + std::to_string(1 + i % 5), "n3")}));
  }
}

struct Proxy {
  Api& api;
  ProgrammerOptions opts;
  Programmer prog;
  Engine engine;
  NodeContext ctx;
  std::vector<std::chrono::milliseconds> sleeps;

  explicit Proxy(Api& a, int parallelism = 1)
      : api(a), opts{"cbr0", parallelism, 4, std::chrono::milliseconds(10), std::chrono::milliseconds(100), 7},
        prog(a, opts, [this](std::chrono::milliseconds d) { sleeps.push_back(d); }) {}

  // Start-up: one listing, the context from it, adoption, and the first sync.
  ApplyReport start(int services) {
    auto l = prog.list();
    REQUIRE(l);
    NodeContextOptions o;
    o.networkName = "cbr0";
    o.nodeName = "win-node-1";
    o.nodeIPs = {ip("10.0.0.4")};
    auto c = nodeContextFrom(l->snapshot(), o);
    REQUIRE(c);
    ctx = c->context;
    engine.setContext(ctx);
    fill(engine, services);
    engine.recompute();
    prog.adopt(*l, ctx, engine.desired());
    return prog.apply(diff(prog.applied(), engine.desired(), ctx.caps));
  }
  // A steady-state sync: recompute what changed, diff it plus what failed before.
  ApplyReport sync() {
    auto ch = engine.recompute();
    DiffScope scope = ch.scope;
    if (!scope.all) {
      scope.loadBalancers.insert(prog.pending().loadBalancers.begin(), prog.pending().loadBalancers.end());
      scope.endpoints.insert(prog.pending().endpoints.begin(), prog.pending().endpoints.end());
    }
    prog.clearPending();
    return prog.apply(diff(prog.applied(), engine.desired(), ctx.caps, scope));
  }
  // Periodic verification: list once, re-adopt, repair.
  std::size_t verify() {
    auto l = prog.list();
    REQUIRE(l);
    std::size_t drift = prog.adopt(*l, ctx, engine.desired());
    auto r = prog.apply(diff(prog.applied(), engine.desired(), ctx.caps));
    CHECK(r.complete());
    return drift;
  }
};

// What HNS holds, read back independently through a fresh programmer's adoption.
HnsState hnsHolds(Api& api, const NodeContext& ctx, const HnsState& desired) {
  Programmer reader(api, ProgrammerOptions{"cbr0"});
  auto l = reader.list();
  REQUIRE(l);
  reader.adopt(*l, ctx, desired);
  return reader.applied();
}

}  // namespace

TEST_CASE("cold start programs exactly the desired state with one mutating call per object") {
  auto sim = makeNode("ws2025-updated");
  InstrumentedApi api(*sim);
  Proxy p(api);
  auto r = p.start(30);
  INFO(fmt::format("{}", fmt::join(r.errors, "\n")));
  REQUIRE(r.complete());
  const auto& d = p.engine.desired();
  CHECK(d.loadBalancers.size() == 40);  // 30 ClusterIP + 10 NodePort
  CHECK(api.mutatingCalls() == d.loadBalancers.size() + d.endpoints.size());
  CHECK(api.calls("enumerate LoadBalancer") == 1);  // the one start-up listing
  CHECK(sameContent(hnsHolds(*sim, p.ctx, d), d));
  CHECK(sameContent(p.prog.applied(), d));
}

TEST_CASE("restart over an unchanged cluster: adoption, zero mutating calls") {
  auto sim = makeNode("ws2022");
  {
    Proxy first(*sim);
    REQUIRE(first.start(20).complete());
  }
  InstrumentedApi api(*sim);
  Proxy second(api);
  auto r = second.start(20);
  CHECK(r.complete());
  CHECK(r.succeeded == 0);
  CHECK(api.mutatingCalls() == 0);
  CHECK(second.prog.stats().adoptedLoadBalancers == 27);
}

TEST_CASE("one endpoint added: one modify (+1 endpoint) with modify, delete+create without; nothing when idle") {
  for (const char* profile : {"ws2025-updated", "ws2022", "ws2025"}) {
    INFO(profile);
    auto sim = makeNode(profile);
    InstrumentedApi api(*sim);
    Proxy p(api);
    REQUIRE(p.start(10).complete());
    api.reset();
    CHECK(p.sync().succeeded == 0);  // periodic sync, nothing changed
    CHECK(api.totalCalls() == 0);
    p.engine.upsertSlice(slice("s1", "s1-a",
                               {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "n2"), ep("10.244.3.2", "n3"),
                                ep("10.244.4.9", "n4")}));
    REQUIRE(p.sync().complete());
    CHECK(api.calls("create Endpoint") == 1);
    if (std::string(profile) == "ws2025-updated") {
      CHECK(api.calls("modify") == 1);
      CHECK(api.calls("create LoadBalancer") == 0);
    } else {
      // No modify (ws2022), or one HNS ignores (ws2025 = 15.4): replace the one load balancer.
      CHECK(api.calls("modify") == 0);
      CHECK(api.calls("delete LoadBalancer") == 1);
      CHECK(api.calls("create LoadBalancer") == 1);
    }
    CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
  }
}

TEST_CASE("E_NOTIMPL on modify: fall back to delete + create, and stop trying modify") {
  auto sim = makeNode("ws2022");  // HNS without modify...
  Proxy p(*sim);
  REQUIRE(p.start(5).complete());
  p.ctx.caps.modifyLoadBalancer = true;  // ...while the capabilities claim it
  p.engine.setContext(p.ctx);
  p.engine.recompute();
  p.engine.upsertSlice(slice("s2", "s2-a", {ep("10.244.2.99", "n2")}));
  auto r = p.sync();
  REQUIRE(r.complete());
  CHECK_FALSE(p.prog.modifySupported());
  CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
}

TEST_CASE("a failure at any step of a plan ends in the desired state once faults stop") {
  const std::uint32_t kinds[] = {kHcnManagerStopped, kEInvalidArg, kErrorNotFound, kRpcServerUnavailable};
  int steps = 0;
  {
    auto sim = makeNode("ws2025-updated");
    Proxy p(*sim);
    REQUIRE(p.start(6).complete());
    steps = sim->totalCalls();
  }
  REQUIRE(steps > 20);
  for (std::uint32_t hr : kinds) {
    for (int n = 1; n <= steps; n += 3) {
      INFO("HRESULT " << hr << " at call " << n);
      auto sim = makeNode("ws2025-updated");
      Proxy p(*sim);
      sim->failNthCall(n, hr);
      auto l = p.prog.list();
      if (!l) {  // the listing itself failed: a real proxy retries it; so do we
        l = p.prog.list();
        REQUIRE(l);
      }
      NodeContextOptions o{"cbr0", "win-node-1", "", {ip("10.0.0.4")}, "cbr0", "", {}};
      p.ctx = nodeContextFrom(l->snapshot(), o)->context;
      p.engine.setContext(p.ctx);
      fill(p.engine, 6);
      p.engine.recompute();
      p.prog.adopt(*l, p.ctx, p.engine.desired());
      p.prog.apply(diff(p.prog.applied(), p.engine.desired(), p.ctx.caps));
      for (int round = 0; round < 3 && !p.prog.pending().empty(); ++round) p.sync();
      sim->clearFaults();  // a fault scheduled past the end of the plan has not fired
      CHECK(p.prog.pending().empty());
      CHECK(sameContent(p.prog.applied(), p.engine.desired()));
      CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
    }
  }
}

TEST_CASE("transient failures are retried with growing, jittered backoff") {
  auto sim = makeNode("ws2025-updated");
  Proxy p(*sim);
  sim->failFraction("HcnCreateLoadBalancer", 0.5, kHcnManagerStopped, 3);
  auto r = p.start(20);
  CHECK(r.retries > 0);
  CHECK(p.sleeps.size() == r.retries);
  for (auto d : p.sleeps) {
    CHECK(d.count() >= 5);
    CHECK(d.count() <= 100);
  }
  for (int round = 0; round < 5 && !p.prog.pending().empty(); ++round) p.sync();
  sim->failFraction("HcnCreateLoadBalancer", 0, 0);
  p.sync();
  CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
}

TEST_CASE("drift: objects deleted or changed behind the proxy's back are put back by verification") {
  auto sim = makeNode("ws2025-updated");
  Proxy p(*sim);
  REQUIRE(p.start(8).complete());
  auto key = p.engine.desired().loadBalancers.begin()->first;
  auto id = p.prog.loadBalancerId(key);
  REQUIRE(id);
  REQUIRE(sim->remove(ObjectKind::LoadBalancer, *id));  // `hnsdiag delete loadbalancers` (kubernetes#135802)
  auto other = std::next(p.engine.desired().loadBalancers.begin())->first;
  auto oid = p.prog.loadBalancerId(other);
  auto h = sim->open(ObjectKind::LoadBalancer, *oid);
  auto doc = json::parse(*sim->query(*h, ""));
  doc["PortMappings"][0]["InternalPort"] = 9999;
  REQUIRE(sim->modify(*h, doc.dump()));
  sim->close(*h);
  CHECK(p.verify() == 2);
  CHECK(p.prog.stats().driftRepaired == 2);
  CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
  CHECK(p.verify() == 0);
}

TEST_CASE("adoption deletes stale and duplicate load balancers on our network, and leaves others alone") {
  auto sim = makeNode("ws2025-updated");
  std::string localId;
  {
    auto ids = sim->enumerate(ObjectKind::Endpoint, "");
    localId = ids->front();
  }
  auto lbDoc = [&](const std::string& vip, const std::vector<std::string>& eps) {
    return json{{"HostComputeEndpoints", eps},
                {"FrontendVIPs", {vip}},
                {"PortMappings", {{{"Protocol", 6}, {"InternalPort", 8080}, {"ExternalPort", 80}}}}}
        .dump();
  };
  REQUIRE(sim->create(ObjectKind::LoadBalancer, "", lbDoc("10.96.9.9", {localId}), 0));  // stale, ours
  // Something else's network and endpoint: not ours to touch.
  auto otherNet = sim->create(ObjectKind::Network, "", R"({"Name":"nat","Type":"NAT"})", 0);
  auto otherEp = sim->create(ObjectKind::Endpoint, "", R"({"IpConfigurations":[{"IpAddress":"172.20.0.2"}]})", *otherNet);
  std::string otherId = json::parse(*sim->query(*otherEp, ""))["ID"];
  REQUIRE(sim->create(ObjectKind::LoadBalancer, "", lbDoc("172.20.0.100", {otherId}), 0));
  Proxy p(*sim);
  REQUIRE(p.start(3).complete());
  auto lbs = sim->snapshot().loadBalancers;
  CHECK(lbs.size() == p.engine.desired().loadBalancers.size() + 1);  // the NAT network's survives
  CHECK(std::none_of(lbs.begin(), lbs.end(), [](const HcnLoadBalancer& l) {
    return !l.frontendVips.empty() && l.frontendVips[0] == "10.96.9.9";
  }));
}

TEST_CASE("HNS restart: calls fail for a while, handles die, load balancers persist; create of an existing one adopts it") {
  auto sim = makeNode("ws2025-updated");
  Proxy p(*sim);
  REQUIRE(p.start(5).complete());
  sim->restartService(2);
  p.engine.upsertSlice(slice("s1", "s1-a", {ep("10.244.2.50", "n2")}));
  auto r = p.sync();
  CHECK(r.complete());
  CHECK(r.retries >= 1);
  // A new programmer that lost its record (kubernetes#139519) creates into rehydrated state.
  InstrumentedApi api(*sim);
  Programmer blank(api, ProgrammerOptions{"cbr0"}, [](std::chrono::milliseconds) {});
  auto l = blank.list();
  REQUIRE(l);
  Listing noLbs = *l;
  noLbs.loadBalancers.clear();  // as if HNS had not yet shown them
  blank.adopt(noLbs, p.ctx, p.engine.desired());
  auto rep = blank.apply(diff(blank.applied(), p.engine.desired(), p.ctx.caps));
  INFO(fmt::format("{}", fmt::join(rep.errors, "\n")));
  CHECK(rep.complete());
  CHECK(api.calls("delete LoadBalancer") == 0);  // identical ones are adopted, not replaced
  CHECK(sim->snapshot().loadBalancers.size() == p.engine.desired().loadBalancers.size());
}

TEST_CASE("parallel programming reaches the same state") {
  auto sim = makeNode("ws2025-updated");
  sim->setLatency(std::chrono::microseconds(200));
  Proxy p(*sim, 4);
  REQUIRE(p.start(25).complete());
  CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
}

TEST_CASE("a new network ID drops the record; the next sync re-programs onto the new network") {
  auto sim = makeNode("ws2025-updated");
  Proxy p(*sim);
  REQUIRE(p.start(4).complete());
  // The CNI recreated the network: old objects are gone with it, new local endpoints exist.
  auto snap = sim->snapshot();
  for (const auto& lb : snap.loadBalancers) REQUIRE(sim->remove(ObjectKind::LoadBalancer, lb.id));
  for (const auto& e : snap.endpoints) REQUIRE(sim->remove(ObjectKind::Endpoint, e.id));
  REQUIRE(sim->remove(ObjectKind::Network, snap.networks[0].id));
  auto net = sim->create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  for (int i = 10; i < 20; ++i)
    REQUIRE(sim->create(ObjectKind::Endpoint, "",
                        json{{"IpConfigurations", {{{"IpAddress", "10.244.1." + std::to_string(i)}}}}}.dump(), *net));
  auto l = p.prog.list();
  REQUIRE(l);
  CHECK(l->network.id != snap.networks[0].id);
  p.prog.adopt(*l, p.ctx, p.engine.desired());
  CHECK(p.prog.applied().loadBalancers.empty());
  REQUIRE(p.prog.apply(diff(p.prog.applied(), p.engine.desired(), p.ctx.caps)).complete());
  CHECK(sameContent(hnsHolds(*sim, p.ctx, p.engine.desired()), p.engine.desired()));
}

TEST_CASE("a missing network is waited for with backoff, logged once per interval, then used") {
  SimulatedHns sim(*profileByName("ws2022"));
  std::vector<std::chrono::milliseconds> sleeps;
  std::vector<std::string> logs;
  ProgrammerOptions o{"cbr0", 1, 4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 1};
  Programmer prog(sim, o, [&](std::chrono::milliseconds d) {
    sleeps.push_back(d);
    if (sleeps.size() == 12) REQUIRE(sim.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0));
  });
  auto l = prog.listWaiting([] { return false; }, [&](const std::string& m) { logs.push_back(m); },
                            std::chrono::milliseconds(1600), std::chrono::milliseconds(5000));
  REQUIRE(l);
  CHECK(l->network.name == "cbr0");
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

  SimulatedHns empty(*profileByName("ws2022"));
  Programmer stopping(empty, o, [](std::chrono::milliseconds) {});
  int polls = 0;
  auto gaveUp = stopping.listWaiting([&] { return ++polls > 3; }, {});
  REQUIRE_FALSE(gaveUp);
  CHECK(gaveUp.error().code == ErrorCode::NotFound);
}

TEST_CASE("a pod IP that moves from another node to this one: load balancers re-pointed to the local endpoint") {
  for (const char* profile : {"ws2025-updated", "ws2022"}) {
    INFO(profile);
    auto sim = makeNode(profile);
    Proxy p(*sim);
    REQUIRE(p.start(3).complete());
    // s1 has remote endpoint 10.244.2.2. Its pod is replaced by one on this node with the same IP.
    auto remoteId = p.prog.endpointId(ip("10.244.2.2"));
    REQUIRE(remoteId);
    auto net = sim->open(ObjectKind::Network, p.prog.list()->network.id);
    auto local = sim->create(ObjectKind::Endpoint, "", R"({"IpConfigurations":[{"IpAddress":"10.244.2.2"}]})", *net);
    REQUIRE(local);
    std::string localId = json::parse(*sim->query(*local, ""))["ID"];
    auto ctx = p.ctx;
    auto locals = p.prog.refreshLocalEndpoints(std::nullopt);
    REQUIRE(locals);
    CHECK(locals->size() == 11);
    ctx.localEndpointIPs = *locals;
    p.ctx = ctx;
    p.engine.setContext(ctx);
    p.engine.upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "win-node-1"),
                                              ep("10.244.3.2", "n3")}));
    auto r = p.sync();
    INFO(fmt::format("{}", fmt::join(r.errors, "\n")));
    REQUIRE(r.complete());
    auto snap = sim->snapshot();
    bool remoteGone = std::none_of(snap.endpoints.begin(), snap.endpoints.end(),
                                   [&](const HcnEndpoint& e) { return e.id == *remoteId; });
    CHECK(remoteGone);
    auto lbId = p.prog.loadBalancerId({IpFamily::V4, Protocol::TCP, ip("10.96.0.2"), 80});
    REQUIRE(lbId);
    for (const auto& lb : snap.loadBalancers)
      if (lb.id == *lbId) CHECK(std::find(lb.endpoints.begin(), lb.endpoints.end(), localId) != lb.endpoints.end());
  }
}

TEST_CASE("queryAll in parallel: the serial result, in order; vanished objects skipped; the first error returned") {
  SimulatedHns sim(*profileByName("ws2025-updated"));
  auto net = sim.create(ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  REQUIRE(net);
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    auto e = sim.create(ObjectKind::Endpoint, "",
                        json{{"Name", "pod" + std::to_string(i)}, {"IpConfigurations", {{{"IpAddress", fmt::format("10.244.0.{}", i + 2)}}}}}.dump(),
                        *net);
    REQUIRE(e);
    sim.close(*e);
  }
  auto listed = sim.enumerate(ObjectKind::Endpoint, "");
  REQUIRE(listed);
  ids = *listed;
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
  sim.failNthCall(10, kHcnInvalidJson);
  auto failed = queryAll<HcnEndpoint>(sim, ObjectKind::Endpoint, ids, endpointFromJson, 4);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().hresult == kHcnInvalidJson);
}

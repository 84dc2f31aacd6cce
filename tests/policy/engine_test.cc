// The incremental engine: conflicts, what wakes a recompute, slices changing owner, local endpoints
// the rules miss; and the property that incremental equals from scratch.
#include "catch.h"

#include <random>

#include "fixtures.h"

using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;

TEST_CASE("engine: conflicts go to the oldest service; the loser takes over when the winner leaves") {
  Engine e(l2bridge());
  auto older = svc("old", "10.96.0.1");
  older.externalIPs = ips({"192.0.2.1"});
  older.created = jan2026(1);
  auto newer = svc("new", "10.96.0.2");
  newer.externalIPs = ips({"192.0.2.1"});
  newer.created = jan2026(2);
  e.upsertService(newer);
  e.upsertService(older);
  e.upsertSlice(slice("old", "o", {ep("10.244.2.1", "n2")}));
  e.upsertSlice(slice("new", "n", {ep("10.244.2.2", "n2")}));
  auto ch = e.recompute();
  LbKey ext{IpFamily::V4, Protocol::TCP, ip("192.0.2.1"), 80};
  REQUIRE(e.desired().loadBalancers.count(ext));
  CHECK(e.desired().loadBalancers.at(ext).service.name == "old");
  CHECK(e.conflictingFrontends() == 1);
  CHECK(std::any_of(ch.warnings.begin(), ch.warnings.end(),
                    [](const Warning& w) { return w.reason == WarningReason::ConflictingFrontend && w.service.name == "new"; }));
  e.deleteService(older.id);
  auto ch2 = e.recompute();
  CHECK(e.desired().loadBalancers.at(ext).service.name == "new");
  CHECK(e.desired().loadBalancers.at(ext).backends == ips({"10.244.2.2"}));
  CHECK(e.conflictingFrontends() == 0);
  CHECK(ch2.servicesRecomputed == 0);  // a deletion computes nothing
  CHECK_FALSE(ch2.scope.all);
  CHECK(ch2.scope.loadBalancers.count(ext));
  CHECK(ch2.scope.endpoints.count(ip("10.244.2.1")));  // no longer used
  CHECK_FALSE(e.desired().endpoints.count(ip("10.244.2.1")));
}

TEST_CASE("engine: unchanged objects wake nothing; a context change recomputes everything") {
  Engine e(l2bridge());
  e.upsertService(svc("a", "10.96.0.1"));
  e.upsertService(svc("b", "10.96.0.2"));
  e.upsertSlice(slice("a", "a1", {ep("10.244.2.1", "n2")}));
  CHECK(e.recompute().servicesRecomputed == 2);
  e.upsertService(svc("a", "10.96.0.1"));
  e.upsertSlice(slice("a", "a1", {ep("10.244.2.1", "n2")}));
  CHECK_FALSE(e.pending());
  CHECK_FALSE(e.setContext(l2bridge()));
  auto ctx = l2bridge();
  ctx.config.enableDsr = true;
  CHECK(e.setContext(ctx));
  auto ch = e.recompute();
  CHECK(ch.scope.all);
  CHECK(ch.servicesRecomputed == 2);
  CHECK(flags(e.desired().loadBalancers.begin()->second) == "DSR");
}

TEST_CASE("engine: a slice that moves to another service or loses its label") {
  Engine e(l2bridge());
  e.upsertService(svc("a", "10.96.0.1"));
  e.upsertService(svc("b", "10.96.0.2"));
  e.upsertSlice(slice("a", "s", {ep("10.244.2.1", "n2")}));
  e.recompute();
  CHECK(e.desired().loadBalancers.size() == 1);
  e.upsertSlice(slice("b", "s", {ep("10.244.2.1", "n2")}));
  e.recompute();
  REQUIRE(e.desired().loadBalancers.size() == 1);
  CHECK(e.desired().loadBalancers.begin()->second.service.name == "b");
  e.upsertSlice(slice("", "s", {ep("10.244.2.1", "n2")}));
  e.recompute();
  CHECK(e.desired().loadBalancers.empty());
  CHECK(e.desired().endpoints.empty());
  CHECK(e.sliceCount() == 0);
}

// ---- Properties over random clusters and random event sequences ----

namespace {

struct World {
  std::map<ServiceName, Service> services;
  std::map<std::string, EndpointSlice> slices;  // by name (namespace default)
};

Service randomService(std::mt19937& rng, int idx) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Service s = svc("s" + std::to_string(idx), "10.96.0." + std::to_string(idx + 1));
  s.created = jan2026(1 + pick(9));
  s.type = static_cast<ServiceType>(pick(3));
  std::uint16_t nodePort = s.type == ServiceType::ClusterIP ? 0 : static_cast<std::uint16_t>(30000 + pick(4));
  s.ports = {ServicePort{"http", pick(4) == 0 ? Protocol::UDP : Protocol::TCP, static_cast<std::uint16_t>(80 + pick(2)),
                         std::uint16_t{8080}, nodePort}};
  if (pick(3) == 0) s.externalIPs = {ip("192.0.2." + std::to_string(1 + pick(3)))};
  if (s.type == ServiceType::LoadBalancer) s.ingressIPs = {ip("20.0.0." + std::to_string(1 + pick(3)))};
  s.externalTrafficPolicy = pick(3) == 0 ? TrafficPolicy::Local : TrafficPolicy::Cluster;
  s.internalTrafficPolicy = pick(4) == 0 ? TrafficPolicy::Local : TrafficPolicy::Cluster;
  s.sessionAffinity = pick(4) == 0 ? SessionAffinity::ClientIP : SessionAffinity::None;
  s.preserveDestination = pick(6) == 0;
  s.winProxyOptimization = pick(5) != 0;
  if (pick(10) == 0) s.headless = true;
  return s;
}

EndpointSlice randomSlice(std::mt19937& rng, int svcIdx, int sliceIdx) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<Endpoint> eps;
  int n = pick(6);
  for (int i = 0; i < n; ++i) {
    int node = pick(4);
    std::string addr = node == 0 ? "10.244.1." + std::to_string(10 + pick(12))  // some not in HNS
                                 : "10.244." + std::to_string(1 + node) + "." + std::to_string(1 + pick(20));
    auto e = ep(addr, node == 0 ? "win-node-1" : "n" + std::to_string(node), pick(4) != 0, pick(5) != 0, pick(4) == 0);
    eps.push_back(e);
  }
  std::uint16_t port = pick(8) == 0 ? 9090 : 8080;
  auto s = slice("s" + std::to_string(svcIdx), "s" + std::to_string(svcIdx) + "-" + std::to_string(sliceIdx), eps,
                 {{std::string("http"), pick(4) == 0 ? Protocol::UDP : Protocol::TCP, port}});
  if (pick(15) == 0) s.serviceName = "";
  return s;
}

HnsState fromScratch(const World& w, const NodeContext& ctx) {
  std::vector<Service> svcs;
  std::vector<EndpointSlice> slices;
  for (const auto& [k, v] : w.services) svcs.push_back(v);
  for (const auto& [k, v] : w.slices) slices.push_back(v);
  return computeAll(svcs, slices, ctx);
}

void checkReferences(const HnsState& s, const NodeContext& ctx) {
  for (const auto& [key, l] : s.loadBalancers) {
    CHECK(l.backends.size() <= ctx.caps.maxBackends);
    CHECK_FALSE(l.backends.empty());
    for (const auto& b : l.backends) {
      bool ok = ctx.hasLocalEndpoint(b) || ctx.rootEndpointIP == b || s.endpoints.count(b) > 0;
      INFO(key.str() << " backend " << b.str());
      CHECK(ok);
    }
  }
}

}  // namespace

TEST_CASE("property: incremental equals from-scratch, and the plans converge HNS, over random event sequences") {
  const unsigned seeds[] = {1, 2, 3, 4, 5, 6, 7, 8, 42, 1234};
  for (unsigned seed : seeds) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    NodeContext ctxs[] = {l2bridge(), l2bridge({9, 2}), overlay(), l2bridge({15, 4})};
    NodeContext ctx = ctxs[seed % 4];
    ctx.config.maxBackendsOverride = 3;  // exercise the cap
    Engine engine(ctx);
    World world;
    HnsState applied;  // what a perfect programmer would have applied so far
    for (int step = 0; step < 150; ++step) {
      int what = pick(10);
      int idx = pick(8);
      ServiceName id{"default", "s" + std::to_string(idx)};
      if (what < 3) {
        auto s = randomService(rng, idx);
        world.services[id] = s;
        engine.upsertService(s);
      } else if (what == 3) {
        world.services.erase(id);
        engine.deleteService(id);
      } else if (what < 8) {
        auto s = randomSlice(rng, idx, pick(2));
        world.slices[s.name] = s;
        engine.upsertSlice(s);
      } else if (what == 8) {
        std::string name = "s" + std::to_string(idx) + "-" + std::to_string(pick(2));
        world.slices.erase(name);
        engine.deleteSlice("default", name);
      } else if (pick(2) == 0) {
        // Only the CNI's local endpoints change: a pod starts or goes (or an IP is reused).
        IpAddress toggled = pick(3) == 0 ? ip("10.244.2." + std::to_string(1 + pick(20)))
                                          : ip("10.244.1." + std::to_string(10 + pick(12)));
        auto& locals = ctx.localEndpointIPs;
        auto at = std::lower_bound(locals.begin(), locals.end(), toggled);
        if (at != locals.end() && *at == toggled) locals.erase(at);
        else locals.insert(at, toggled);
        engine.setContext(ctx);
      } else {
        NodeContext next = ctxs[pick(4)];
        next.config.maxBackendsOverride = 3;
        if (pick(2)) next.config.enableDsr = true;
        ctx = next;
        engine.setContext(ctx);
      }
      if (pick(3) != 0) continue;  // let events pile up, like a burst before a sync
      auto changes = engine.recompute();
      const HnsState& desired = engine.desired();
      HnsState scratch = fromScratch(world, ctx);
      REQUIRE(sameContent(desired, scratch));
      checkReferences(desired, ctx);
      Plan plan = diff(applied, desired, ctx.caps, changes.scope);
      HnsState after = apply(applied, plan);
      REQUIRE(sameContent(after, desired));
      CHECK(diff(after, desired, ctx.caps).empty());  // the scoped diff missed nothing
      // Every intermediate state keeps references valid: replay op by op.
      HnsState mid = applied;
      for (const auto& op : plan.ops) {
        applyOp(mid, op);
        for (const auto& [key, l] : mid.loadBalancers)
          for (const auto& b : l.backends)
            if (!ctx.hasLocalEndpoint(b) && ctx.rootEndpointIP != b && !changes.scope.repointed.count(b)) {
              INFO("step " << step << " op " << op.str() << " lb " << l.str() << " backend " << b.str()
                            << " in applied eps " << applied.endpoints.count(b) << " desired eps "
                            << desired.endpoints.count(b) << "\n" << plan.text());
              REQUIRE(mid.endpoints.count(b));
            }
      }
      for (const auto& r : changes.scope.repointed)
        for (const auto& [key, l] : desired.loadBalancers)
          if (std::binary_search(l.backends.begin(), l.backends.end(), r) && applied.loadBalancers.count(key)) {
            bool touched = std::any_of(plan.ops.begin(), plan.ops.end(), [&](const Op& op) {
              return (op.kind == OpKind::ModifyLoadBalancer || op.kind == OpKind::CreateLoadBalancer) && op.lb->key == key;
            });
            INFO(key.str() << " uses re-pointed " << r.str());
            CHECK(touched);
          }
      applied = after;
    }
  }
}

TEST_CASE("engine: local endpoints HNS does not hold yet are tracked over every service, and clear when seen") {
  Engine e(l2bridge());
  e.upsertService(svc("a", "10.96.0.1"));
  e.upsertService(svc("b", "10.96.0.2"));
  e.upsertSlice(slice("a", "a1", {ep("10.244.1.50", "win-node-1"), ep("10.244.2.1", "n2")}));
  e.upsertSlice(slice("b", "b1", {ep("10.244.1.50", "win-node-1"), ep("10.244.1.51", "win-node-1")}));
  e.recompute();
  CHECK(e.missingLocalEndpoints() == MissingLocalEndpoints{ip("10.244.1.50"), ip("10.244.1.51")});
  // b changes and no longer uses .51: it stops being missing; .50 is still missing through a.
  e.upsertSlice(slice("b", "b1", {ep("10.244.1.50", "win-node-1")}));
  auto ch = e.recompute();
  CHECK(ch.servicesRecomputed == 1);
  CHECK(e.missingLocalEndpoints() == MissingLocalEndpoints{ip("10.244.1.50")});
  // HNS shows the pod: both services are recomputed and reference it.
  auto ctx = l2bridge();
  ctx.localEndpointIPs.push_back(ip("10.244.1.50"));
  std::sort(ctx.localEndpointIPs.begin(), ctx.localEndpointIPs.end());
  e.setContext(ctx);
  auto seen = e.recompute();
  CHECK(seen.servicesRecomputed == 2);
  CHECK(e.missingLocalEndpoints().empty());
  CHECK(e.desired().loadBalancers.at(LbKey{IpFamily::V4, Protocol::TCP, ip("10.96.0.2"), 80}).backends ==
        ips({"10.244.1.50"}));
}

TEST_CASE("engine: a slice whose only change is its trigger time recomputes nothing") {
  Engine e(l2bridge());
  e.upsertService(svc("a", "10.96.0.1"));
  auto s = slice("a", "a1", {ep("10.244.2.1", "n2")});
  e.upsertSlice(s);
  e.recompute();
  s.triggerTime = jan2026(3);
  e.upsertSlice(s);
  CHECK_FALSE(e.pending());
}

TEST_CASE("engine: overlay with no host MAC creates no endpoint without one; the VIP endpoints come when it is found") {
  NodeContext noMac = overlay();
  noMac.hostMac.clear();
  Engine e(noMac);
  std::vector<Service> services{svc("web", "10.96.0.10")};
  std::vector<EndpointSlice> slices{slice("web", "w", {ep("10.244.2.5", "win-node-2"), ep("10.244.1.11", "win-node-1")})};
  for (const auto& s : services) e.upsertService(s);
  for (const auto& s : slices) e.upsertSlice(s);
  e.recompute();
  const auto& d = e.desired();
  CHECK(d.loadBalancers.size() == 1);
  REQUIRE(d.endpoints.count(ip("10.244.2.5")));  // the remote backend has its own (conjured) MAC
  for (const auto& [addr, ep] : d.endpoints) {
    INFO(addr.str());
    CHECK_FALSE(ep.mac.empty());
    CHECK(ep.kind == EndpointKind::Remote);
  }
  CHECK(d == computeAll(services, slices, noMac));  // incremental equals from scratch

  REQUIRE(e.setContext(overlay()));
  e.recompute();
  REQUIRE(e.desired().endpoints.count(ip("10.96.0.10")));
  CHECK(e.desired().endpoints.at(ip("10.96.0.10")).kind == EndpointKind::ServiceVip);
  CHECK(e.desired().endpoints.at(ip("10.96.0.10")).mac == "00-15-5D-00-00-04");
  REQUIRE(e.desired().endpoints.count(ip("10.244.1.250")));
  CHECK(e.desired().endpoints.at(ip("10.244.1.250")).kind == EndpointKind::SourceVip);
  CHECK(e.desired() == computeAll(services, slices, overlay()));

  REQUIRE(e.setContext(noMac));  // lost again (the root endpoint went): the VIP endpoints go
  e.recompute();
  CHECK_FALSE(e.desired().endpoints.count(ip("10.96.0.10")));
  CHECK_FALSE(e.desired().endpoints.count(ip("10.244.1.250")));
  CHECK(e.desired() == computeAll(services, slices, noMac));
}

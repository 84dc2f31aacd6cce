#include "catch.h"

#include <random>

#include "fixtures.h"

using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;

namespace {

LoadBalancer lb(const std::string& vip, std::uint16_t port, std::vector<IpAddress> backends) {
  LoadBalancer l;
  l.key = {IpFamily::V4, Protocol::TCP, ip(vip), port};
  l.internalPort = 8080;
  l.sourceVip = ip("10.0.0.4");
  l.backends = std::move(backends);
  l.service = {"default", "s" + std::to_string(port)};
  return l;
}

ManagedEndpoint remote(const std::string& addr) { return remoteEndpointFor(ip(addr), l2bridge()); }

HnsState state(std::vector<LoadBalancer> lbs, std::vector<ManagedEndpoint> eps) {
  HnsState s;
  for (auto& l : lbs) s.loadBalancers[l.key] = l;
  for (auto& e : eps) s.endpoints[e.ip] = e;
  return s;
}

}  // namespace

TEST_CASE("diff of a state with itself is empty") {
  auto s = state({lb("10.96.0.1", 80, ips({"10.244.2.1"}))}, {remote("10.244.2.1")});
  CHECK(diff(s, s, Capabilities::fromVersion({15, 6})).empty());
  CHECK(diff(HnsState{}, HnsState{}, Capabilities::fromVersion({15, 6})).empty());
}

// A cold start's plan holds an operation per object: 64 bytes each (an endpoint inline).
static_assert(sizeof(Op) <= 64);

TEST_CASE("a first programming's plan is sized exactly; a full diff walks both states in key order") {
  auto d = state({lb("10.96.0.2", 80, ips({"10.244.2.1", "10.244.2.2"})), lb("10.96.0.1", 80, ips({"10.244.2.3"}))},
                 {remote("10.244.2.3"), remote("10.244.2.1"), remote("10.244.2.2")});
  auto p = diff(HnsState{}, d, Capabilities::fromVersion({15, 6}));
  REQUIRE(p.ops.size() == 5);
  CHECK(p.ops.capacity() == p.ops.size());
  // Both sides have keys the other lacks: creates, deletes and the unchanged, each once, in order.
  auto a = state({lb("10.96.0.1", 80, ips({"10.244.2.3"})), lb("10.96.0.9", 80, ips({"10.244.2.9"}))},
                 {remote("10.244.2.3"), remote("10.244.2.9"), remote("10.244.2.0")});
  auto q = diff(a, d, Capabilities::fromVersion({15, 6}));
  CHECK(q.text() ==
        diff(a, d, Capabilities::fromVersion({15, 6}),
             DiffScope{false, {d.loadBalancers.begin()->first, std::next(d.loadBalancers.begin())->first,
                               std::next(a.loadBalancers.begin())->first},
                       {ip("10.244.2.0"), ip("10.244.2.1"), ip("10.244.2.2"), ip("10.244.2.3"), ip("10.244.2.9")}, {}})
            .text());
  CHECK(q.count(OpKind::CreateEndpoint) == 2);
  CHECK(q.count(OpKind::DeleteEndpoint) == 2);
  CHECK(q.count(OpKind::CreateLoadBalancer) == 1);
  CHECK(q.count(OpKind::DeleteLoadBalancer) == 1);
  CHECK(q.ops.size() == 6);
  REQUIRE(q.ops[0].kind == OpKind::CreateEndpoint);
  CHECK(q.ops[0].endpoint.ip == ip("10.244.2.1"));  // IP order within a phase
  CHECK(q.ops[1].endpoint.ip == ip("10.244.2.2"));
}

TEST_CASE("a backend change is a modify where HNS supports it, delete + create elsewhere") {
  auto a = state({lb("10.96.0.1", 80, ips({"10.244.2.1"}))}, {remote("10.244.2.1")});
  auto b = state({lb("10.96.0.1", 80, ips({"10.244.2.1", "10.244.2.2"}))}, {remote("10.244.2.1"), remote("10.244.2.2")});
  auto modify = diff(a, b, Capabilities::fromVersion({15, 6}));
  REQUIRE(modify.ops.size() == 2);
  CHECK(modify.ops[0].kind == OpKind::CreateEndpoint);
  CHECK(modify.ops[1].kind == OpKind::ModifyLoadBalancer);
  CHECK(modify.ops[1].reason == "backends");
  // HNS 15.4 accepts modify and ignores it (kubernetes#131466): replace.
  auto replace = diff(a, b, Capabilities::fromVersion({15, 4}));
  REQUIRE(replace.ops.size() == 3);
  CHECK(replace.ops[0].kind == OpKind::CreateEndpoint);
  CHECK(replace.ops[1].kind == OpKind::DeleteLoadBalancer);
  CHECK(replace.ops[2].kind == OpKind::CreateLoadBalancer);
  // winProxyOptimization disabled: always replace.
  b.loadBalancers.begin()->second.allowModify = false;
  CHECK(diff(a, b, Capabilities::fromVersion({15, 6})).count(OpKind::ModifyLoadBalancer) == 0);
  CHECK(sameContent(apply(a, replace), b));
  CHECK(sameContent(apply(a, modify), b));
}

TEST_CASE("order: endpoints exist before the load balancers that use them, and outlive them") {
  auto a = state({lb("10.96.0.1", 80, ips({"10.244.2.1"})), lb("10.96.0.2", 81, ips({"10.244.2.9"}))},
                 {remote("10.244.2.1"), remote("10.244.2.9")});
  auto b = state({lb("10.96.0.1", 80, ips({"10.244.2.5"})), lb("10.96.0.3", 82, ips({"10.244.2.5"}))},
                 {remote("10.244.2.5")});
  auto plan = diff(a, b, Capabilities::fromVersion({15, 6}));
  std::vector<std::string> kinds;
  for (const auto& op : plan.ops) kinds.push_back(std::string(toString(op.kind)) + "@" + std::to_string(op.phase));
  CHECK(kinds == std::vector<std::string>{"create-endpoint@1", "delete-lb@2", "modify-lb@3", "delete-endpoint@4",
                                          "delete-endpoint@4", "create-lb@6"});
  CHECK(sameContent(apply(a, plan), b));
}

TEST_CASE("an endpoint whose content changes is replaced, and every load balancer using it with it") {
  auto a = state({lb("10.96.0.1", 80, ips({"10.244.2.1"}))}, {remote("10.244.2.1")});
  auto b = a;
  b.endpoints.begin()->second.providerAddress = ip("10.0.0.9");
  auto plan = diff(a, b, Capabilities::fromVersion({15, 6}));
  REQUIRE(plan.ops.size() == 4);
  CHECK(plan.ops[0].kind == OpKind::DeleteLoadBalancer);
  CHECK(plan.ops[1].kind == OpKind::DeleteEndpoint);
  CHECK(plan.ops[2].kind == OpKind::CreateEndpoint);
  CHECK(plan.ops[3].kind == OpKind::CreateLoadBalancer);
  CHECK(plan.ops[3].reason == "replace: endpoint replaced");
  CHECK(apply(a, plan) == b);
}

TEST_CASE("the plan's text form is canonical") {
  auto b = state({lb("10.96.0.1", 80, ips({"10.244.2.1"}))}, {remote("10.244.2.1")});
  CHECK(diff(HnsState{}, b, Capabilities::fromVersion({15, 6})).text() ==
        "plan: 2 operation(s): 1 endpoint create, 0 endpoint delete, 1 lb create, 0 lb modify, 0 lb delete\n"
        "  [1] create-endpoint 10.244.2.1 remote mac=02-11-0A-F4-02-01 pa=- # new\n"
        "  [6] create-lb IPv4/TCP/10.96.0.1:80 -> 8080 flags=None portFlags=None dist=None src=10.0.0.4 "
        "backends=[10.244.2.1] (ClusterIP default/s80) # new\n");
}

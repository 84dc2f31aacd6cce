// Upstream winkernel behaviour changes between Kubernetes 1.32 and 1.35 (and the fixes backported
// into 1.35), one table row each, naming the change. Each row plays the scenario of the upstream
// issue through the engine and the diff, and checks the behaviour the fix established. The
// changes outside the rules are tested where they live: KEP-1860 ipMode in the decoder
// (tests/watch/decoder_test.cc), WinDSR/WinOverlay locked on in the options
// (tests/proxy/options_test.cc), transient HNS failures not read as "absent" (kubernetes#139503)
// in the reconciler (tests/hns).
#include "catch.h"

#include <functional>

#include "fixtures.h"
#include "policy/plan.h"

using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;

namespace {

// The plan for one change: what the engine wanted before, what it wants after, the scoped diff.
struct Step {
  HnsState before, after;
  Plan plan;
};
Step change(Engine& e, const std::function<void(Engine&)>& edit, const Capabilities& caps) {
  e.recompute();
  Step s;
  s.before = e.desired();
  edit(e);
  auto ch = e.recompute();
  s.after = e.desired();
  s.plan = diff(s.before, s.after, caps, ch.scope);
  return s;
}

bool touches(const Plan& p, const LbKey& k) {
  return std::any_of(p.ops.begin(), p.ops.end(), [&](const Op& op) {
    return (op.kind == OpKind::CreateLoadBalancer || op.kind == OpKind::ModifyLoadBalancer ||
            op.kind == OpKind::DeleteLoadBalancer) &&
           op.lb->key == k;
  });
}
bool deletesEndpoint(const Plan& p, const std::string& addr) {
  return std::any_of(p.ops.begin(), p.ops.end(),
                     [&](const Op& op) { return op.kind == OpKind::DeleteEndpoint && op.endpoint.ip == ip(addr); });
}

struct Row {
  const char* change;  // the upstream issue/PR and release
  const char* expect;
  std::function<void()> check;
};

}  // namespace

TEST_CASE("upstream winkernel changes 1.32 -> 1.35: each fix's behaviour holds") {
  const std::vector<Row> rows = {
      {"kubernetes#133928, PR #133953 (1.35): ITP=Local ClusterIP load balancer deleted during scaling",
       "a remote endpoint leaving an ITP=Local service leaves its ClusterIP load balancer untouched", [] {
         Engine e(l2bridge());
         auto s = svc("itp", "10.96.0.50");
         s.internalTrafficPolicy = TrafficPolicy::Local;
         e.upsertService(s);
         e.upsertSlice(slice("itp", "itp-1", {ep("10.244.1.10", "win-node-1"), ep("10.244.2.7", "n2")}));
         auto st = change(e, [](Engine& x) { x.upsertSlice(slice("itp", "itp-1", {ep("10.244.1.10", "win-node-1")})); },
                          l2bridge().caps);
         LbKey cluster{IpFamily::V4, Protocol::TCP, ip("10.96.0.50"), 80};
         REQUIRE(st.after.loadBalancers.count(cluster));
         CHECK(st.after.loadBalancers.at(cluster).backends == ips({"10.244.1.10"}));
         CHECK_FALSE(touches(st.plan, cluster));
       }},
      {"kubernetes#135144, PR #135146 (1.35, backported to 1.32-1.34): stale remote endpoints when a deployment "
       "behind several services scales down",
       "a pod removed from every service's slice loses its remote endpoint in the same plan", [] {
         Engine e(l2bridge());
         for (const char* n : {"a", "b", "c"}) {
           e.upsertService(svc(n, std::string("10.96.1.") + (n[0] == 'a' ? "1" : n[0] == 'b' ? "2" : "3")));
           e.upsertSlice(slice(n, std::string(n) + "-1", {ep("10.244.2.7", "n2"), ep("10.244.2.8", "n2")}));
         }
         auto st = change(
             e,
             [](Engine& x) {
               for (const char* n : {"a", "b", "c"}) x.upsertSlice(slice(n, std::string(n) + "-1", {ep("10.244.2.8", "n2")}));
             },
             l2bridge().caps);
         CHECK_FALSE(st.after.endpoints.count(ip("10.244.2.7")));
         CHECK(st.after.endpoints.count(ip("10.244.2.8")));
         CHECK(deletesEndpoint(st.plan, "10.244.2.7"));
         CHECK(apply(st.before, st.plan) == st.after);
       }},
      {"kubernetes#131466, PR #131506 (1.33): HNS 15.4 accepts ModifyLoadBalancer and leaves the backends unchanged",
       "on HNS 15.4 a backend change replaces the load balancer; on 15.5 it is modified in place", [] {
         for (auto [v, modify] : {std::pair{HnsVersion{15, 4}, false}, std::pair{HnsVersion{15, 5}, true}}) {
           Engine e(l2bridge(v));
           e.upsertService(svc("m", "10.96.0.60"));
           e.upsertSlice(slice("m", "m-1", {ep("10.244.2.7", "n2")}));
           auto st = change(e, [](Engine& x) { x.upsertSlice(slice("m", "m-1", {ep("10.244.2.7", "n2"), ep("10.244.2.9", "n2")})); },
                            l2bridge(v).caps);
           INFO("HNS " << v.major << "." << v.minor);
           CHECK(st.plan.count(OpKind::ModifyLoadBalancer) == (modify ? 1u : 0u));
           CHECK(st.plan.count(OpKind::DeleteLoadBalancer) == (modify ? 0u : 1u));
           CHECK(apply(st.before, st.plan) == st.after);
         }
       }},
      {"kubernetes#136241 (2026): IPv4 and IPv6 load balancers of a dual-stack service collide",
       "the IP family is part of a load balancer's identity: losing the IPv6 endpoints deletes only the IPv6 one", [] {
         auto ctx = l2bridge();
         ctx.nodeIPs.push_back(ip("fd00::4"));
         ctx.caps = Capabilities::fromVersion({15, 6});
         Engine e(ctx);
         auto s = svc("ds", "10.96.0.70");
         s.clusterIPs.push_back(ip("fd00:96::70"));
         s.ipFamilies = {IpFamily::V4, IpFamily::V6};
         e.upsertService(s);
         e.upsertSlice(slice("ds", "ds-4", {ep("10.244.2.7", "n2")}));
         e.upsertSlice(slice("ds", "ds-6", {ep("fd00:244:2::7", "n2")}, {}, AddressType::IPv6));
         LbKey v4{IpFamily::V4, Protocol::TCP, ip("10.96.0.70"), 80}, v6{IpFamily::V6, Protocol::TCP, ip("fd00:96::70"), 80};
         auto st = change(e, [](Engine& x) { x.upsertSlice(slice("ds", "ds-6", {}, {}, AddressType::IPv6)); }, ctx.caps);
         REQUIRE(st.before.loadBalancers.count(v4));
         REQUIRE(st.before.loadBalancers.count(v6));
         CHECK(st.after.loadBalancers.count(v4));
         CHECK_FALSE(st.after.loadBalancers.count(v6));
         CHECK_FALSE(touches(st.plan, v4));
         CHECK(touches(st.plan, v6));
       }},
      {"kubernetes#130963, PR #138000 (2026, backported to 1.35): a pod IP reused on this node while another node's "
       "slice still lists it",
       "no remote endpoint is created for an IP HNS holds locally; the local endpoint is the backend", [] {
         Engine e(l2bridge());
         e.upsertService(svc("reuse", "10.96.0.80"));
         e.upsertSlice(slice("reuse", "reuse-1", {ep("10.244.1.12", "n2"), ep("10.244.1.13", "win-node-1")}));
         e.recompute();
         CHECK_FALSE(e.desired().endpoints.count(ip("10.244.1.12")));
         LbKey k{IpFamily::V4, Protocol::TCP, ip("10.96.0.80"), 80};
         REQUIRE(e.desired().loadBalancers.count(k));
         CHECK(e.desired().loadBalancers.at(k).backends == ips({"10.244.1.13"}));
       }},
  };
  for (const auto& r : rows) {
    INFO(r.change << "\n  expected: " << r.expect);
    r.check();
  }
}

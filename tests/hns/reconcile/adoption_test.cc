#include "catch.h"

#include "hns/reconcile/adoption.h"
#include "policy/fixtures.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::policy;
using policy::test::ip;
using policy::test::ips;
using nlohmann::json;

namespace {

HcnEndpoint endpoint(const std::string& id, const std::string& addr, bool remote, const std::string& network = "NET") {
  HcnEndpoint e;
  e.id = id;
  e.network = network;
  e.ipConfigurations = {{addr, 0}};
  e.flags = remote ? hcn::kEndpointFlagRemote : 0;
  return e;
}

HcnLoadBalancer lb(const std::string& id, const std::string& vip, std::vector<std::string> eps, int internal = 8080) {
  HcnLoadBalancer l;
  l.id = id;
  l.frontendVips = {vip};
  l.endpoints = std::move(eps);
  l.sourceVip = "10.0.0.4";
  l.portMappings = {{6, static_cast<std::uint16_t>(internal), 80, 0, 0}};
  return l;
}

}  // namespace

TEST_CASE("adoption reads ours from a listing: remote endpoints, the source VIP, load balancers on our endpoints") {
  Listing l;
  l.network.id = "NET";
  l.endpoints = {endpoint("E-POD", "10.244.1.10", false), endpoint("E-REMOTE", "10.244.2.5", true),
                 endpoint("E-SVIP", "10.244.1.250", false), endpoint("E-DUP", "10.244.2.5", true)};
  l.loadBalancers = {lb("L-1", "10.96.0.1", {"E-POD", "E-REMOTE"}), lb("L-DUP", "10.96.0.1", {"E-POD"}),
                     lb("L-OTHER", "172.20.0.1", {"E-ELSEWHERE"})};
  NodeContext ctx = policy::test::l2bridge();
  ctx.config.sourceVip = ip("10.244.1.250");
  HnsState desired;
  LoadBalancer want;
  want.key = {IpFamily::V4, Protocol::TCP, ip("10.96.0.1"), 80};
  want.service = {"default", "web"};
  want.kind = LbKind::ClusterIP;
  desired.loadBalancers[want.key] = want;

  Adoption a = adopt(l, ctx, desired);
  CHECK(a.applied.endpoints.size() == 2);  // the remote one and the source VIP
  CHECK(a.applied.endpoints.at(ip("10.244.1.250")).kind == EndpointKind::SourceVip);
  CHECK(a.ids.foreignEndpoints == std::set<std::string>{"E-DUP"});  // a second remote with one IP: left alone
  CHECK(a.ids.localEndpoints.at(ip("10.244.1.10")) == "E-POD");
  REQUIRE(a.applied.loadBalancers.size() == 1);
  const auto& got = a.applied.loadBalancers.at(want.key);
  CHECK(got.backends == ips({"10.244.1.10", "10.244.2.5"}));
  CHECK(got.service.name == "web");  // provenance from the desired state
  CHECK(a.ids.loadBalancers.at(want.key) == "L-1");
  CHECK(a.duplicateLoadBalancers == std::vector<std::string>{"L-DUP"});
  CHECK(a.adoptedLoadBalancers == 1);
  CHECK(a.adoptedEndpoints == 2);

  // In two steps (start-up reads the listing before the desired state is known): the same.
  desired.endpoints[ip("10.244.2.5")] = ManagedEndpoint{ip("10.244.2.5"), EndpointKind::ServiceVip, "00-15-5D-00-00-04", {}};
  Adoption whole = adopt(l, ctx, desired);
  Adoption early = adopt(l, ctx, HnsState{});
  CHECK(early.applied.loadBalancers.at(want.key).service.name.empty());
  CHECK(early.applied.endpoints.at(ip("10.244.2.5")).kind == EndpointKind::Remote);
  annotate(early, desired);
  CHECK(early.applied == whole.applied);
  CHECK(early.applied.endpoints.at(ip("10.244.2.5")).kind == EndpointKind::ServiceVip);
  CHECK(early.applied.endpoints.at(ip("10.244.1.250")).kind == EndpointKind::SourceVip);
  CHECK(early.duplicateLoadBalancers == whole.duplicateLoadBalancers);
  CHECK(early.ids.loadBalancers == whole.ids.loadBalancers);
  CHECK(early.ids.managedEndpoints == whole.ids.managedEndpoints);
}

TEST_CASE("drift counts what HNS no longer holds as it was applied") {
  HnsState before;
  LoadBalancer x;
  x.key = {IpFamily::V4, Protocol::TCP, ip("10.96.0.1"), 80};
  x.backends = ips({"10.244.1.10"});
  LoadBalancer y = x;
  y.key.port = 81;
  before.loadBalancers = {{x.key, x}, {y.key, y}};
  before.endpoints[ip("10.244.2.5")] = remoteEndpointFor(ip("10.244.2.5"), policy::test::l2bridge());
  HnsState after = before;
  CHECK(driftBetween(before, after) == 0);
  after.loadBalancers.erase(y.key);                          // deleted behind our back
  after.loadBalancers.at(x.key).internalPort = 9999;         // changed
  after.endpoints.clear();                                   // gone
  after.loadBalancers[LbKey{IpFamily::V4, Protocol::UDP, ip("10.96.0.9"), 53}] = x;  // extra: not drift of ours
  CHECK(driftBetween(before, after) == 3);
}

TEST_CASE("of two remote endpoints for one IP, adoption keeps the one load balancers use, wherever it is listed") {
  Listing l;
  l.network.id = "NET";
  l.endpoints = {endpoint("E-FIRST", "10.244.3.3", true), endpoint("E-POD", "10.244.1.10", false),
                 endpoint("E-USED", "10.244.3.3", true), endpoint("E-OTHER", "10.244.4.4", true)};
  l.loadBalancers = {lb("L-1", "10.96.0.1", {"E-POD", "E-USED"}), lb("L-2", "10.96.0.2", {"E-OTHER", "E-FIRST"})};
  l.loadBalancers.push_back(lb("L-3", "10.96.0.3", {"E-USED"}));
  Adoption a = adopt(l, policy::test::l2bridge(), HnsState{});
  CHECK(a.ids.managedEndpoints.at(ip("10.244.3.3")) == "E-USED");  // two load balancers use it, one the first
  CHECK(a.ids.managedEndpoints.at(ip("10.244.4.4")) == "E-OTHER");
  CHECK(a.duplicateEndpoints == std::vector<std::string>{"E-FIRST"});
  CHECK(a.ids.foreignEndpoints == std::set<std::string>{"E-FIRST"});
  CHECK(a.adoptedEndpoints == 2);
  REQUIRE(a.applied.loadBalancers.size() == 3);
  // The load balancer built on the dropped one keeps its backends by IP, and is rewritten.
  const auto& l2 = a.applied.loadBalancers.at({IpFamily::V4, Protocol::TCP, ip("10.96.0.2"), 80});
  CHECK(l2.backends == ips({"10.244.3.3", "10.244.4.4"}));
  CHECK(l2.foreignSettings);
  CHECK_FALSE(a.applied.loadBalancers.at({IpFamily::V4, Protocol::TCP, ip("10.96.0.1"), 80}).foreignSettings);
}

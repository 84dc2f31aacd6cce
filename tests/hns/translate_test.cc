#include "catch.h"

#include "hns/translate.h"
#include "policy/fixtures.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::policy;
using policy::test::ip;
using policy::test::ips;

namespace {

const std::map<std::string, std::vector<IpAddress>> kEndpoints = {
    {"AAAAAAAA-0000-4000-8000-000000000001", ips({"10.244.1.10"})},
    {"AAAAAAAA-0000-4000-8000-000000000002", ips({"10.244.2.5", "fd00:244::5"})},  // dual-stack pod
};

std::optional<std::string> idOf(const IpAddress& a) {
  for (const auto& [id, addrs] : kEndpoints)
    for (const auto& x : addrs)
      if (x == a) return id;
  return std::nullopt;
}

}  // namespace

TEST_CASE("translation: each intent becomes HCN's bits and numbers, and reads back as the same intent") {
  // Expected encodings written out from hcsshim's hcn/hcnloadbalancer.go and winkernel's hns.go getLoadBalancer.
  struct Case {
    const char* what;
    bool dsr, fromHost, fromOutside, preserve;
    Distribution dist;
    IpFamily family;
    std::uint32_t lbFlags, portFlags, distNumber;
  };
  const Case cases[] = {
      {"cluster IP", false, false, false, false, Distribution::None, IpFamily::V4, 0, 0, 0},
      {"cluster IP, DSR, affinity", true, false, false, false, Distribution::SourceIP, IpFamily::V4, 1, 0, 2},
      {"node port", false, true, true, false, Distribution::None, IpFamily::V4, 0, 2 | 16, 0},
      {"external IP, ETP=Local", true, false, true, false, Distribution::None, IpFamily::V4, 1, 16, 0},
      {"ingress, preserve-destination", true, false, true, true, Distribution::None, IpFamily::V4, 1, 4 | 8 | 16, 0},
      {"health check, preserve-destination", false, false, false, true, Distribution::None, IpFamily::V4, 0, 4 | 8, 0},
      {"IPv6 node port, SourceIPProtocol", false, true, true, false, Distribution::SourceIPProtocol, IpFamily::V6, 2, 18, 1},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    LoadBalancer lb;
    const bool v6 = c.family == IpFamily::V6;
    lb.key = {c.family, Protocol::UDP, v6 ? ip("fd00:96::1") : ip("10.96.0.1"), 53};
    lb.internalPort = 5353;
    lb.dsr = c.dsr;
    lb.reachableFromHost = c.fromHost;
    lb.reachableFromOutside = c.fromOutside;
    lb.preserveDestination = c.preserve;
    lb.distribution = c.dist;
    lb.sourceVip = v6 ? ip("fd00::4") : ip("10.0.0.4");
    lb.backends = v6 ? ips({"fd00:244::5"}) : ips({"10.244.1.10", "10.244.2.5"});
    auto h = toHcn(lb, idOf);
    REQUIRE(h);
    CHECK(h->flags == c.lbFlags);
    REQUIRE(h->portMappings.size() == 1);
    CHECK(h->portMappings[0].flags == c.portFlags);
    CHECK(h->portMappings[0].distributionType == c.distNumber);
    CHECK(h->portMappings[0].protocol == 17);
    CHECK(h->portMappings[0].internalPort == 5353);
    CHECK(h->portMappings[0].externalPort == 53);
    CHECK(h->endpoints.size() == lb.backends.size());
    auto back = fromHcn(*h, kEndpoints);
    REQUIRE(back);
    CHECK(back->sameContent(lb));
    CHECK_FALSE(back->foreignSettings);
  }
}

TEST_CASE("translation: settings hnsproxy never makes are foreign, so they are replaced and never matched") {
  LoadBalancer lb;
  lb.key = {IpFamily::V4, Protocol::TCP, ip("10.96.0.1"), 80};
  lb.internalPort = 8080;
  lb.backends = ips({"10.244.1.10"});
  auto h = toHcn(lb, idOf);
  REQUIRE(h);
  struct Case {
    const char* what;
    std::uint32_t lbFlags, portFlags;
  };
  for (const Case& c : {Case{"ILB port", 0, 1}, Case{"UseMux without PreserveDIP", 0, 4}, Case{"PreserveDIP alone", 0, 8},
                        Case{"an unknown LB flag", 4, 0}, Case{"an unknown port flag", 0, 64}}) {
    INFO(c.what);
    auto odd = *h;
    odd.flags |= c.lbFlags;
    odd.portMappings[0].flags |= c.portFlags;
    auto back = fromHcn(odd, kEndpoints);
    REQUIRE(back);
    CHECK(back->foreignSettings);
    CHECK_FALSE(back->sameContent(lb));
  }
}

TEST_CASE("translation: load balancers hnsproxy could not have made are not read as its own") {
  LoadBalancer lb;
  lb.key = {IpFamily::V4, Protocol::TCP, ip("10.96.0.1"), 80};
  lb.internalPort = 8080;
  lb.backends = ips({"10.244.1.10"});
  auto h = *toHcn(lb, idOf);
  auto variant = [&](auto change) {
    auto x = h;
    change(x);
    return fromHcn(x, kEndpoints);
  };
  CHECK_FALSE(variant([](HcnLoadBalancer& x) { x.portMappings[0].protocol = 1; }));          // ICMP
  CHECK_FALSE(variant([](HcnLoadBalancer& x) { x.portMappings.push_back(x.portMappings[0]); }));  // two mappings
  CHECK_FALSE(variant([](HcnLoadBalancer& x) { x.frontendVips.push_back("10.96.0.2"); }));  // two frontends
  CHECK_FALSE(variant([](HcnLoadBalancer& x) { x.endpoints = {"BBBBBBBB-0000-4000-8000-000000000009"}; }));  // not ours
  CHECK_FALSE(variant([](HcnLoadBalancer& x) { x.portMappings[0].distributionType = 7; }));
  auto unknownBackend = lb;
  unknownBackend.backends = ips({"10.9.9.9"});
  std::string missing;
  CHECK_FALSE(toHcn(unknownBackend, idOf, &missing));
  CHECK(missing == "10.9.9.9");
}

TEST_CASE("translation: endpoints, provider addresses and networks") {
  ManagedEndpoint ep{ip("10.244.2.5"), EndpointKind::Remote, "02-11-0A-F4-02-05", ip("10.0.0.5")};
  auto h = toHcn(ep, "NET");
  CHECK(h.flags == 1);
  CHECK(h.network == "NET");
  CHECK(providerAddressOf(h.policies) == ip("10.0.0.5"));
  auto back = fromHcn(h, EndpointKind::Remote);
  REQUIRE(back);
  CHECK(*back == ep);
  ManagedEndpoint sourceVip{ip("10.244.1.250"), EndpointKind::SourceVip, "00-15-5D-00-00-04", std::nullopt};
  CHECK(toHcn(sourceVip, "NET").flags == 0);  // the source VIP endpoint is local
  CHECK(protocolName(6) == "TCP");
  CHECK(protocolName(132) == "SCTP");
  CHECK(protocolName(1) == "1");

  HcnNetwork n;
  n.name = "cbr0";
  n.type = "l2bridge";  // HNS's casing varies
  CHECK(networkInfoFrom(n).info.type == NetworkType::L2Bridge);
  n.type = "NAT";
  CHECK(networkInfoFrom(n).info.type == NetworkType::Other);
}

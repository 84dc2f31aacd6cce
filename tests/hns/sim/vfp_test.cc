#include "catch.h"

#include "hns/sim/vfp.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using policy::IpAddress;
using nlohmann::json;

namespace {

const char* kA = "AAAAAAAA-0000-4000-8000-00000000000A";
const char* kB = "AAAAAAAA-0000-4000-8000-00000000000B";
const char* kR = "AAAAAAAA-0000-4000-8000-00000000000C";

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

HnsSnapshot node() {
  HnsSnapshot s;
  HcnEndpoint a{kA, "a", "N", {{"10.244.1.10", 24}}, "", 0, {}};
  HcnEndpoint b{kB, "b", "N", {{"10.244.1.11", 24}}, "", 0, {}};
  HcnEndpoint r{kR, "", "N", {{"10.244.2.5", 0}}, "02-11-0A-F4-02-05", 1,
                {{"ProviderAddress", json{{"ProviderAddress", "10.0.0.5"}}}}};
  s.endpoints = {a, b, r};
  HcnLoadBalancer cluster{"11111111-0000-4000-8000-000000000001", {kA, kR}, "10.0.0.4", {"10.96.0.10"},
                          {{6, 8080, 80, 2, 0}}, 0, ""};
  HcnLoadBalancer nodePort{"11111111-0000-4000-8000-000000000002", {kA}, "10.0.0.4", {}, {{6, 8080, 30080, 0, 2 | 16}},
                           0, ""};
  HcnLoadBalancer ingress{"11111111-0000-4000-8000-000000000003", {kB}, "10.0.0.4", {"20.0.0.1"},
                          {{6, 8443, 443, 0, 16 | 4 | 8}}, 1, ""};
  HcnLoadBalancer noSrc{"11111111-0000-4000-8000-000000000004", {kA}, "", {"10.96.0.20"}, {{17, 53, 53, 0, 0}}, 0, ""};
  s.loadBalancers = {cluster, nodePort, ingress, noSrc};
  return s;
}

Packet pkt(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport, Ingress in,
           std::string from = "", std::uint32_t proto = 6) {
  return Packet{ip(src), sport, ip(dst), dport, proto, in, std::move(from)};
}

const std::vector<IpAddress> kNode = {ip("10.0.0.4")};

}  // namespace

TEST_CASE("vfp: pod to cluster IP is load-balanced, source-NATed, and sticky by source IP") {
  auto t = tracePacket(node(), kNode, pkt("10.244.1.11", 40000, "10.96.0.10", 80, Ingress::LocalEndpoint, kB));
  INFO(t.str());
  REQUIRE(t.delivered);
  CHECK(t.loadBalancerId == std::string("11111111-0000-4000-8000-000000000001"));
  CHECK(t.out.dstPort == 8080);
  CHECK((t.out.dstIp == ip("10.244.1.10") || t.out.dstIp == ip("10.244.2.5")));
  CHECK(t.out.srcIp == ip("10.0.0.4"));
  for (std::uint16_t port = 40001; port < 40020; ++port) {
    auto again = tracePacket(node(), kNode, pkt("10.244.1.11", port, "10.96.0.10", 80, Ingress::LocalEndpoint, kB));
    CHECK(again.backendEndpointId == t.backendEndpointId);
  }
}

TEST_CASE("vfp: remote backends are encapsulated to their provider address") {
  bool sawRemote = false;
  for (int i = 1; i < 40 && !sawRemote; ++i) {
    auto src = "10.244.1." + std::to_string(100 + i);
    auto t = tracePacket(node(), kNode, Packet{ip(src.c_str()), 1000, ip("10.96.0.10"), 80, 6, Ingress::LocalEndpoint, kB});
    if (t.remote) {
      sawRemote = true;
      CHECK(t.providerAddress == ip("10.0.0.5"));
      CHECK(t.out.dstIp == ip("10.244.2.5"));
    }
  }
  CHECK(sawRemote);
}

TEST_CASE("vfp: reachability from the host and from outside") {
  auto hostToVip = tracePacket(node(), kNode, pkt("10.0.0.4", 5000, "10.96.0.10", 80, Ingress::Host));
  CHECK_FALSE(hostToVip.loadBalancerId);
  auto hostToNodePort = tracePacket(node(), kNode, pkt("10.0.0.4", 5000, "10.0.0.4", 30080, Ingress::Host));
  CHECK(hostToNodePort.loadBalancerId);
  auto outsideToVip = tracePacket(node(), kNode, pkt("203.0.113.9", 5000, "10.96.0.10", 80, Ingress::External));
  CHECK_FALSE(outsideToVip.loadBalancerId);
  auto outsideToNodePort = tracePacket(node(), kNode, pkt("203.0.113.9", 5000, "10.0.0.4", 30080, Ingress::External));
  REQUIRE(outsideToNodePort.delivered);
  CHECK(outsideToNodePort.out.dstIp == ip("10.244.1.10"));
  auto wrongPort = tracePacket(node(), kNode, pkt("203.0.113.9", 5000, "10.0.0.4", 30081, Ingress::External));
  CHECK_FALSE(wrongPort.delivered);
}

TEST_CASE("vfp: DSR with PreserveDIP keeps the client source and the VIP") {
  auto t = tracePacket(node(), kNode, pkt("203.0.113.9", 5000, "20.0.0.1", 443, Ingress::External));
  REQUIRE(t.delivered);
  CHECK(t.out.srcIp == ip("203.0.113.9"));
  CHECK(t.out.dstIp == ip("20.0.0.1"));
  CHECK(t.out.dstPort == 8443);
}

TEST_CASE("vfp: DSR hairpin needs the loopback-DSR policy") {
  auto snap = node();
  auto t = tracePacket(snap, kNode, pkt("10.244.1.11", 5000, "20.0.0.1", 443, Ingress::LocalEndpoint, kB));
  CHECK_FALSE(t.delivered);
  snap.endpoints[1].policies.push_back({"OutBoundNAT", json{{"Destinations", {"10.244.1.11"}}}});
  auto fixed = tracePacket(snap, kNode, pkt("10.244.1.11", 5000, "20.0.0.1", 443, Ingress::LocalEndpoint, kB));
  CHECK(fixed.delivered);
}

TEST_CASE("vfp: no SourceVIP falls back to the VIP; ICMP is not rewritten") {
  auto t = tracePacket(node(), kNode, pkt("10.244.1.11", 5000, "10.96.0.20", 53, Ingress::LocalEndpoint, kB, 17));
  REQUIRE(t.delivered);
  CHECK(t.out.srcIp == ip("10.96.0.20"));
  auto icmp = tracePacket(node(), kNode, pkt("10.244.1.11", 0, "10.96.0.10", 0, Ingress::LocalEndpoint, kB, 1));
  CHECK(icmp.delivered);
  CHECK_FALSE(icmp.loadBalancerId);
  CHECK(icmp.out.dstIp == ip("10.96.0.10"));
}

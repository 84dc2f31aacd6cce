#include "catch.h"

#include <set>

#include "fixtures.h"

using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;

namespace {
const std::string kHere = "win-node-1";
}

TEST_CASE("ClusterIP: one load balancer per port, all ready endpoints, node IP as source VIP on L2Bridge") {
  auto ctx = l2bridge();
  auto s = svc("web", "10.96.0.20",
               {{"http", Protocol::TCP, 80, std::uint16_t{8080}, 0}, {"dns", Protocol::UDP, 53, std::uint16_t{53}, 0}});
  auto es = slice("web", "web-1", {ep("10.244.1.10", kHere), ep("10.244.2.5", "n2")},
                  {{std::string("http"), Protocol::TCP, 8080}, {std::string("dns"), Protocol::UDP, 5353}});
  auto r = run(s, {es}, ctx);
  REQUIRE(r.loadBalancers.size() == 2);
  const auto& http = r.loadBalancers[0];
  CHECK(http.key.str() == "IPv4/TCP/10.96.0.20:80");
  CHECK(http.internalPort == 8080);
  CHECK(flags(http) == "None");
  CHECK(portFlags(http) == "None");
  CHECK(http.distribution == Distribution::None);
  CHECK(http.sourceVip == ip("10.0.0.4"));
  CHECK(http.backends == ips({"10.244.1.10", "10.244.2.5"}));
  CHECK(r.loadBalancers[1].key.str() == "IPv4/UDP/10.96.0.20:53");
  CHECK(r.loadBalancers[1].internalPort == 5353);  // the slice's number wins over targetPort
  CHECK(r.warnings.empty());
}

TEST_CASE("no usable endpoints: no load balancer at all (HNS rejects empty ones, upstream #106775)") {
  auto r = run(svc("web", "10.96.0.20"), {slice("web", "w", {ep("10.244.2.5", "n2", false)})}, l2bridge());
  CHECK(r.loadBalancers.empty());
}

TEST_CASE("NodePort, externalIPs and ingress flags per upstream's table") {
  auto ctx = l2bridge();
  auto s = svc("web", "10.96.0.20", {{"http", Protocol::TCP, 80, std::uint16_t{8080}, 30080}});
  s.type = ServiceType::LoadBalancer;
  s.externalIPs = ips({"192.0.2.1"});
  s.ingressIPs = ips({"20.0.0.1", "20.0.0.2"});
  auto r = run(s, {slice("web", "w", {ep("10.244.1.10", kHere), ep("10.244.2.5", "n2")})}, ctx);
  REQUIRE(r.loadBalancers.size() == 5);
  const auto* np = find(r, LbKind::NodePort);
  REQUIRE(np);
  CHECK(np->key.str() == "IPv4/TCP/node:30080");
  CHECK_FALSE(np->key.vip);
  CHECK(portFlags(*np) == "LocalRoutedVIP|VipExternalIP");
  CHECK(flags(*np) == "None");
  const auto* ext = find(r, LbKind::ExternalIP);
  REQUIRE(ext);
  CHECK(ext->key.str() == "IPv4/TCP/192.0.2.1:80");
  CHECK(portFlags(*ext) == "VipExternalIP");
  std::set<std::string> ingress;
  for (const auto& lb : r.loadBalancers)
    if (lb.kind == LbKind::Ingress) {
      ingress.insert(lb.key.str());
      CHECK(portFlags(lb) == "VipExternalIP");
      CHECK(lb.backends.size() == 2);
    }
  CHECK(ingress == std::set<std::string>{"IPv4/TCP/20.0.0.1:80", "IPv4/TCP/20.0.0.2:80"});

  SECTION("type ClusterIP never gets a node port or ingress load balancers") {
    s.type = ServiceType::ClusterIP;
    auto r2 = run(s, {slice("web", "w", {ep("10.244.1.10", kHere)})}, ctx);
    CHECK_FALSE(find(r2, LbKind::NodePort));
    CHECK_FALSE(find(r2, LbKind::Ingress));
    CHECK(find(r2, LbKind::ExternalIP));  // externalIPs apply to every type
  }
}

TEST_CASE("externalTrafficPolicy Local: DSR and local backends on external load balancers only") {
  auto s = svc("web", "10.96.0.20", {{"http", Protocol::TCP, 80, std::uint16_t{8080}, 30080}});
  s.type = ServiceType::LoadBalancer;
  s.externalTrafficPolicy = TrafficPolicy::Local;
  s.externalIPs = ips({"192.0.2.1"});
  s.ingressIPs = ips({"20.0.0.1"});
  auto es = slice("web", "w", {ep("10.244.1.10", kHere), ep("10.244.2.5", "n2")});

  SECTION("HNS with DSR") {
    auto r = run(s, {es}, l2bridge());
    CHECK(find(r, LbKind::ClusterIP)->backends.size() == 2);
    CHECK(flags(*find(r, LbKind::ClusterIP)) == "None");
    for (auto kind : {LbKind::NodePort, LbKind::ExternalIP, LbKind::Ingress}) {
      const auto* lb = find(r, kind);
      REQUIRE(lb);
      CHECK(flags(*lb) == "DSR");
      CHECK(lb->backends == ips({"10.244.1.10"}));
    }
    CHECK_FALSE(hasWarning(r, WarningReason::LocalTrafficWithoutDSR));
  }
  SECTION("HNS without DSR (9.2): local backends still, no DSR flag, a warning") {
    auto r = run(s, {es}, l2bridge({9, 2}));
    for (auto kind : {LbKind::NodePort, LbKind::ExternalIP, LbKind::Ingress}) {
      CHECK(flags(*find(r, kind)) == "None");
      CHECK(find(r, kind)->backends == ips({"10.244.1.10"}));
    }
    CHECK(hasWarning(r, WarningReason::LocalTrafficWithoutDSR));
  }
  SECTION("no local endpoint: external load balancers absent, counted for the metric") {
    auto r = run(s, {slice("web", "w", {ep("10.244.2.5", "n2")})}, l2bridge());
    CHECK(find(r, LbKind::ClusterIP));
    CHECK_FALSE(find(r, LbKind::NodePort));
    CHECK_FALSE(find(r, LbKind::Ingress));
    CHECK(r.noLocalEndpointsExternal);
    CHECK_FALSE(r.noLocalEndpointsInternal);
  }
}

TEST_CASE("--enable-dsr puts DSR on ClusterIP load balancers when HNS supports it") {
  auto s = svc("web", "10.96.0.20");
  auto es = slice("web", "w", {ep("10.244.2.5", "n2")});
  auto ctx = l2bridge();
  ctx.config.enableDsr = true;
  CHECK(flags(run(s, {es}, ctx).loadBalancers[0]) == "DSR");
  auto old = l2bridge({9, 2});
  old.config.enableDsr = true;
  CHECK(flags(run(s, {es}, old).loadBalancers[0]) == "None");
}

TEST_CASE("preserve-destination: DSR|UseMux|PreserveDIP on ingress, local backends on ingress and node port") {
  auto s = svc("gw", "10.96.0.30", {{"http", Protocol::TCP, 8080, std::uint16_t{8080}, 30880}});
  s.type = ServiceType::LoadBalancer;
  s.preserveDestination = true;
  s.ingressIPs = ips({"20.0.0.9"});
  s.externalIPs = ips({"192.0.2.9"});
  auto es = slice("gw", "g", {ep("10.244.1.11", kHere), ep("10.244.2.5", "n2")});
  auto r = run(s, {es}, l2bridge());
  const auto* ing = find(r, LbKind::Ingress);
  REQUIRE(ing);
  CHECK(flags(*ing) == "DSR");
  CHECK(portFlags(*ing) == "UseMux|PreserveDIP|VipExternalIP");
  CHECK(ing->backends == ips({"10.244.1.11"}));
  CHECK(find(r, LbKind::NodePort)->backends == ips({"10.244.1.11"}));
  CHECK(flags(*find(r, LbKind::NodePort)) == "None");
  CHECK(find(r, LbKind::ExternalIP)->backends.size() == 2);  // not affected, as upstream
  auto noDsr = run(s, {es}, l2bridge({9, 2}));
  CHECK(portFlags(*find(noDsr, LbKind::Ingress)) == "VipExternalIP");
  CHECK(find(noDsr, LbKind::Ingress)->backends.size() == 2);
  CHECK(hasWarning(noDsr, WarningReason::PreserveDestinationUnsupported));
}

TEST_CASE("internalTrafficPolicy Local restricts the ClusterIP load balancer; both Local means no remote endpoints") {
  auto s = svc("api", "10.96.0.50", {{"grpc", Protocol::TCP, 9090, std::uint16_t{9090}, 30090}});
  s.type = ServiceType::NodePort;
  s.internalTrafficPolicy = TrafficPolicy::Local;
  auto es = slice("api", "a", {ep("10.244.1.13", kHere), ep("10.244.2.15", "n2")},
                  {{std::string("grpc"), Protocol::TCP, 9090}});
  auto r = run(s, {es}, l2bridge());
  CHECK(find(r, LbKind::ClusterIP)->backends == ips({"10.244.1.13"}));
  CHECK(find(r, LbKind::NodePort)->backends.size() == 2);
  s.externalTrafficPolicy = TrafficPolicy::Local;
  auto both = run(s, {es}, l2bridge());
  for (const auto& lb : both.loadBalancers) CHECK(lb.backends == ips({"10.244.1.13"}));
  auto onlyRemote = run(s, {slice("api", "a", {ep("10.244.2.15", "n2")}, {{std::string("grpc"), Protocol::TCP, 9090}})},
                        l2bridge());
  CHECK(onlyRemote.loadBalancers.empty());
  CHECK(onlyRemote.noLocalEndpointsInternal);
}

TEST_CASE("session affinity ClientIP → SourceIP distribution, with warnings for what HNS cannot do") {
  auto s = svc("web", "10.96.0.20", {{"http", Protocol::TCP, 80, std::uint16_t{8080}, 30080}});
  s.type = ServiceType::NodePort;
  s.sessionAffinity = SessionAffinity::ClientIP;
  auto es = slice("web", "w", {ep("10.244.2.5", "n2")});
  auto r = run(s, {es}, l2bridge());
  for (const auto& lb : r.loadBalancers) CHECK(lb.distribution == Distribution::SourceIP);
  CHECK_FALSE(hasWarning(r, WarningReason::SessionAffinityUnsupported));
  CHECK_FALSE(hasWarning(r, WarningReason::SessionAffinityTimeoutIgnored));
  s.affinityTimeoutSeconds = 600;
  auto old = run(s, {es}, l2bridge({11, 10}));
  CHECK(hasWarning(old, WarningReason::SessionAffinityUnsupported));
  CHECK(hasWarning(old, WarningReason::SessionAffinityTimeoutIgnored));
  CHECK(old.loadBalancers[0].distribution == Distribution::SourceIP);
}

TEST_CASE("KEP-1669 endpoint conditions") {
  auto s = svc("web", "10.96.0.20");
  struct Case {
    const char* name;
    std::vector<Endpoint> eps;
    std::vector<IpAddress> want;
  };
  const std::vector<Case> cases = {
      {"ready only", {ep("10.244.2.1", "n2"), ep("10.244.2.2", "n2", false, false, false)}, ips({"10.244.2.1"})},
      {"ready wins over terminating",
       {ep("10.244.2.1", "n2"), ep("10.244.2.2", "n2", false, true, true)},
       ips({"10.244.2.1"})},
      {"all terminating: serving ones kept to drain",
       {ep("10.244.2.1", "n2", false, true, true), ep("10.244.2.2", "n2", false, false, true)},
       ips({"10.244.2.1"})},
      {"nothing serving: nothing", {ep("10.244.2.2", "n2", false, false, true)}, {}},
      {"not ready and not terminating is never used", {ep("10.244.2.3", "n2", false, true, false)}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = run(s, {slice("web", "w", c.eps)}, l2bridge());
    if (c.want.empty()) {
      CHECK(r.loadBalancers.empty());
    } else {
      REQUIRE(r.loadBalancers.size() == 1);
      CHECK(r.loadBalancers[0].backends == c.want);
    }
  }
}

TEST_CASE("internal port: numeric targetPort, named targetPort from slices, disagreement resolved and warned") {
  auto s = svc("web", "10.96.0.20", {{"http", Protocol::TCP, 80, std::string("web-port"), 0}});
  auto a = slice("web", "a", {ep("10.244.2.1", "n2"), ep("10.244.2.2", "n2")}, {{std::string("http"), Protocol::TCP, 8080}});
  auto b = slice("web", "b", {ep("10.244.2.3", "n2")}, {{std::string("http"), Protocol::TCP, 9090}});
  auto one = run(s, {a}, l2bridge());
  CHECK(one.loadBalancers[0].internalPort == 8080);
  auto both = run(s, {b, a}, l2bridge());
  REQUIRE(both.loadBalancers.size() == 1);
  CHECK(both.loadBalancers[0].internalPort == 8080);  // most endpoints use it
  CHECK(both.loadBalancers[0].backends == ips({"10.244.2.1", "10.244.2.2"}));
  CHECK(hasWarning(both, WarningReason::InconsistentEndpointPorts));
  auto tie = run(s, {slice("web", "b", {ep("10.244.2.3", "n2")}, {{std::string("http"), Protocol::TCP, 9090}}),
                     slice("web", "c", {ep("10.244.2.4", "n2")}, {{std::string("http"), Protocol::TCP, 7070}})},
                 l2bridge());
  CHECK(tie.loadBalancers[0].internalPort == 7070);  // lowest on a tie: deterministic
}

TEST_CASE("EndpointSlice merging: names, protocols, families, duplicates") {
  auto s = svc("web", "10.96.0.20");
  SECTION("port matched by name and protocol; nil names and port 0 ignored") {
    auto wrongProto = slice("web", "a", {ep("10.244.2.1", "n2")}, {{std::string("http"), Protocol::UDP, 8080}});
    auto nilName = slice("web", "b", {ep("10.244.2.2", "n2")}, {{std::nullopt, Protocol::TCP, 8080}});
    auto zero = slice("web", "c", {ep("10.244.2.3", "n2")}, {{std::string("http"), Protocol::TCP, 0}});
    auto good = slice("web", "d", {ep("10.244.2.4", "n2")});
    auto r = run(s, {wrongProto, nilName, zero, good}, l2bridge());
    REQUIRE(r.loadBalancers.size() == 1);
    CHECK(r.loadBalancers[0].backends == ips({"10.244.2.4"}));
  }
  SECTION("the same IP:port in two slices counts once; non-terminating wins") {
    auto a = slice("web", "a", {ep("10.244.2.1", "n2", false, true, true)});
    auto b = slice("web", "b", {ep("10.244.2.1", "n2"), ep("10.244.2.9", "n2", false, true, true)});
    auto merged = mergeEndpoints(s.ports[0], IpFamily::V4, {&a, &b});
    REQUIRE(merged.size() == 2);
    CHECK(merged[0].endpoint->address == ip("10.244.2.1"));
    CHECK_FALSE(merged[0].endpoint->terminating);
  }
  SECTION("IPv6 and FQDN slices do not feed an IPv4 load balancer") {
    auto v6 = slice("web", "a", {ep("fd00::1", "n2")}, {}, AddressType::IPv6);
    auto fqdn = slice("web", "b", {}, {}, AddressType::FQDN);
    CHECK(mergeEndpoints(s.ports[0], IpFamily::V4, {&v6, &fqdn}).empty());
    CHECK(mergeEndpoints(s.ports[0], IpFamily::V6, {&v6, &fqdn}).size() == 1);
  }
}

TEST_CASE("local endpoints are referenced only when HNS has them; remote ones never shadow a local IP") {
  auto s = svc("web", "10.96.0.20");
  auto r = run(s, {slice("web", "w", {ep("10.244.1.99", kHere), ep("10.244.1.10", "n2"), ep("10.244.2.5", "n2")})},
               l2bridge());
  REQUIRE(r.loadBalancers.size() == 1);
  CHECK(r.loadBalancers[0].backends == ips({"10.244.2.5"}));
  CHECK(r.missingLocalEndpoints == ips({"10.244.1.99"}));  // left out until HNS shows it
  CHECK(hasWarning(r, WarningReason::EndpointIPReused));
}

TEST_CASE("skip rules: headless, ExternalName, another proxy's services") {
  auto es = slice("web", "w", {ep("10.244.2.5", "n2")});
  auto headless = svc("web", "10.96.0.20");
  headless.headless = true;
  auto extName = svc("web", "10.96.0.20");
  extName.type = ServiceType::ExternalName;
  auto other = svc("web", "10.96.0.20");
  other.hasProxyNameLabel = true;
  for (const auto& s : {headless, extName, other}) {
    CHECK(shouldSkipService(s));
    CHECK(run(s, {es}, l2bridge()).loadBalancers.empty());
  }
  CHECK_FALSE(shouldSkipService(svc("web", "10.96.0.20")));
}

TEST_CASE("overlay: source VIP choice, provider addresses, service-VIP and source-VIP endpoints") {
  auto ctx = overlay();
  auto s = svc("web", "10.96.0.20");
  SECTION("backends in remote subnets: --source-vip") {
    auto r = run(s, {slice("web", "w", {ep("10.244.2.5", "n2"), ep("10.244.1.10", kHere)})}, ctx);
    CHECK(r.loadBalancers[0].sourceVip == ip("10.244.1.250"));
    CHECK(r.serviceVipEndpoints == ips({"10.96.0.20"}));
    auto remote = remoteEndpointFor(ip("10.244.3.7"), ctx);
    CHECK(remote.providerAddress == ip("10.0.0.6"));
    CHECK(remote.mac == "02-11-0A-F4-03-07");
    CHECK(remote.isRemote());
  }
  SECTION("a backend that is a node IP, or outside every remote subnet: the node IP") {
    auto hostNet = run(s, {slice("web", "w", {ep("10.0.0.5", "n2")})}, ctx);
    CHECK(hostNet.loadBalancers[0].sourceVip == ip("10.0.0.4"));
    auto pub = run(s, {slice("web", "w", {ep("172.16.9.9", "n9")})}, ctx);
    CHECK(pub.loadBalancers[0].sourceVip == ip("10.0.0.4"));
    CHECK(remoteEndpointFor(ip("172.16.9.9"), ctx).providerAddress == ip("10.0.0.4"));
  }
  SECTION("the source-VIP endpoint is a node-level, local, managed endpoint") {
    auto eps = nodeEndpoints(ctx);
    REQUIRE(eps.size() == 1);
    CHECK(eps[0].ip == ip("10.244.1.250"));
    CHECK(eps[0].kind == EndpointKind::SourceVip);
    CHECK_FALSE(eps[0].isRemote());
    CHECK(eps[0].mac == "00-15-5D-00-00-04");
    CHECK(nodeEndpoints(l2bridge()).empty());
  }
  SECTION("L2Bridge endpoints carry no provider address") {
    CHECK_FALSE(remoteEndpointFor(ip("10.244.2.5"), l2bridge()).providerAddress);
  }
}

TEST_CASE("dual-stack: one set per family when HNS supports it and the network is not overlay") {
  auto s = svc("api", "10.96.0.50");
  s.clusterIPs = ips({"10.96.0.50", "fd00:96::50"});
  auto v4 = slice("api", "a4", {ep("10.244.2.1", "n2")});
  auto v6 = slice("api", "a6", {ep("fd00:10:244:2::1", "n2")}, {}, AddressType::IPv6);
  auto ctx = l2bridge();
  ctx.nodeIPs = ips({"10.0.0.4", "fd00::4"});
  auto r = run(s, {v4, v6}, ctx);
  REQUIRE(r.loadBalancers.size() == 2);
  const auto* six = find(r, LbKind::ClusterIP, IpFamily::V6);
  REQUIRE(six);
  CHECK(six->key.str() == "IPv6/TCP/[fd00:96::50]:80");
  CHECK(flags(*six) == "IPv6");
  CHECK(six->sourceVip == ip("fd00::4"));
  CHECK(six->backends == ips({"fd00:10:244:2::1"}));
  auto noDual = ctx;
  noDual.caps = Capabilities::fromVersion({11, 9});
  CHECK(run(s, {v4, v6}, noDual).loadBalancers.size() == 1);
  auto ov = overlay();
  ov.nodeIPs = ips({"10.0.0.4", "fd00::4"});
  CHECK(run(s, {v4, v6}, ov).loadBalancers.size() == 1);
}

TEST_CASE("topology hints are honoured the way Linux kube-proxy does") {
  auto s = svc("cat", "10.96.0.60");
  auto a = ep("10.244.2.1", "n2");
  a.hints.edit().zones = {"zone-a"};
  auto b = ep("10.244.2.2", "n3");
  b.hints.edit().zones = {"zone-b"};
  SECTION("zone hints for this zone") {
    auto r = run(s, {slice("cat", "c", {a, b})}, l2bridge());
    CHECK(r.loadBalancers[0].backends == ips({"10.244.2.1"}));
  }
  SECTION("one endpoint without hints: hints ignored") {
    auto c = ep("10.244.2.3", "n3");
    auto r = run(s, {slice("cat", "c", {a, b, c})}, l2bridge());
    CHECK(r.loadBalancers[0].backends.size() == 3);
  }
  SECTION("no endpoint hinted for this zone: all, with a warning") {
    auto ctx = l2bridge();
    ctx.zone = "zone-z";
    auto r = run(s, {slice("cat", "c", {a, b})}, ctx);
    CHECK(r.loadBalancers[0].backends.size() == 2);
    CHECK(hasWarning(r, WarningReason::TopologyHintsIgnored));
  }
  SECTION("node hints (PreferSameNode) beat zone hints") {
    a.hints.edit().nodes = {"n2"};
    b.hints.edit().nodes = {kHere};
    auto r = run(s, {slice("cat", "c", {a, b})}, l2bridge());
    CHECK(r.loadBalancers[0].backends == ips({"10.244.2.2"}));
  }
  SECTION("Local policies ignore hints") {
    s.internalTrafficPolicy = TrafficPolicy::Local;
    auto local = ep("10.244.1.10", kHere);
    local.hints.edit().zones = {"zone-b"};
    auto r = run(s, {slice("cat", "c", {a, local})}, l2bridge());
    CHECK(r.loadBalancers[0].backends == ips({"10.244.1.10"}));
  }
}

TEST_CASE("the backend cap keeps a stable, local-first subset and never exceeds the HNS limit") {
  auto ctx = l2bridge({9, 2});  // 64 backends per load balancer
  auto s = svc("big", "10.96.0.70");
  std::vector<Endpoint> eps;
  for (int i = 0; i < 100; ++i) eps.push_back(ep("10.244.2." + std::to_string(i + 1), "n2"));
  eps.push_back(ep("10.244.1.10", kHere));
  auto r = run(s, {slice("big", "b", eps)}, ctx);
  REQUIRE(r.loadBalancers.size() == 1);
  const auto& b = r.loadBalancers[0].backends;
  CHECK(b.size() == 64);
  CHECK(std::binary_search(b.begin(), b.end(), ip("10.244.1.10")));
  CHECK(r.backendsTruncated == 37);
  CHECK(hasWarning(r, WarningReason::BackendsTruncated));

  SECTION("one endpoint leaving changes at most one other member") {
    // Remove a member of the subset.
    auto gone = b[5] == ip("10.244.1.10") ? b[6] : b[5];
    std::vector<Endpoint> fewer;
    for (const auto& e : eps)
      if (e.address != gone) fewer.push_back(e);
    auto r2 = run(s, {slice("big", "b", fewer)}, ctx);
    const auto& b2 = r2.loadBalancers[0].backends;
    CHECK(b2.size() == 64);
    std::vector<IpAddress> added;
    std::set_difference(b2.begin(), b2.end(), b.begin(), b.end(), std::back_inserter(added));
    CHECK(added.size() == 1);
  }
  SECTION("one endpoint joining changes at most one member") {
    auto more = eps;
    more.push_back(ep("10.244.3.200", "n3"));
    auto r3 = run(s, {slice("big", "b", more)}, ctx);
    const auto& b3 = r3.loadBalancers[0].backends;
    std::vector<IpAddress> removed;
    std::set_difference(b.begin(), b.end(), b3.begin(), b3.end(), std::back_inserter(removed));
    CHECK(removed.size() <= 1);
  }
  SECTION("the override lowers the limit") {
    auto lower = l2bridge();
    lower.config.maxBackendsOverride = 10;
    CHECK(run(s, {slice("big", "b", eps)}, lower).loadBalancers[0].backends.size() == 10);
  }
}

TEST_CASE("--forward-healthcheck-vip: health-check load balancer, and the healthz port collision avoided") {
  auto s = svc("store", "10.96.0.30", {{"https", Protocol::UDP, 443, std::uint16_t{8443}, 31443}});
  s.type = ServiceType::LoadBalancer;
  s.ingressIPs = ips({"20.0.0.1"});
  auto es = slice("store", "s", {ep("10.244.1.12", kHere)}, {{std::string("https"), Protocol::UDP, 8443}});
  auto ctx = l2bridge();
  ctx.config.forwardHealthCheckVip = true;
  ctx.rootEndpointIP = ip("10.244.1.2");
  SECTION("healthCheckNodePort set") {
    s.externalTrafficPolicy = TrafficPolicy::Local;
    s.healthCheckNodePort = 32100;
    auto r = run(s, {es}, ctx);
    const auto* hc = find(r, LbKind::HealthCheck);
    REQUIRE(hc);
    CHECK(hc->key.str() == "IPv4/TCP/20.0.0.1:32100");  // TCP: probes are HTTP
    CHECK(hc->internalPort == 32100);
    CHECK(flags(*hc) == "None");
    CHECK(hc->backends == ips({"10.244.1.2"}));
  }
  SECTION("healthz port on all addresses: not created, warned") {
    auto r = run(s, {es}, ctx);
    CHECK_FALSE(find(r, LbKind::HealthCheck));
    CHECK(hasWarning(r, WarningReason::HealthCheckPortCollision));
  }
  SECTION("healthz bound to the node IP: created on the healthz port") {
    ctx.config.healthzOnAllAddresses = false;
    auto r = run(s, {es}, ctx);
    REQUIRE(find(r, LbKind::HealthCheck));
    CHECK(find(r, LbKind::HealthCheck)->key.port == 10256);
  }
  SECTION("no root endpoint: warned") {
    s.healthCheckNodePort = 32100;
    ctx.rootEndpointIP.reset();
    auto r = run(s, {es}, ctx);
    CHECK_FALSE(find(r, LbKind::HealthCheck));
    CHECK(hasWarning(r, WarningReason::RootEndpointMissing));
  }
}

TEST_CASE("winProxyOptimization DISABLED marks the service's load balancers replace-only") {
  auto s = svc("web", "10.96.0.20");
  auto es = slice("web", "w", {ep("10.244.2.5", "n2")});
  CHECK(run(s, {es}, l2bridge()).loadBalancers[0].allowModify);
  s.winProxyOptimization = false;
  CHECK_FALSE(run(s, {es}, l2bridge()).loadBalancers[0].allowModify);
}

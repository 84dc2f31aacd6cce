#include "catch.h"

#include <nlohmann/json.hpp>

#include "watch/decoder.h"

using namespace hnsproxy;
using namespace hnsproxy::policy;
using nlohmann::json;

namespace {

json baseService() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-02-01T09:00:00Z",
                 "resourceVersion": "42",
                 "annotations": {"preserve-destination": "true", "winProxyOptimization": "disabled"}},
    "spec": {"type": "LoadBalancer", "clusterIP": "10.96.10.20", "clusterIPs": ["10.96.10.20", "fd00:96::20"],
             "ipFamilies": ["IPv4", "IPv6"],
             "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                       {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 5353}],
             "externalIPs": ["192.0.2.1"], "sessionAffinity": "ClientIP",
             "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
             "externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster", "healthCheckNodePort": 32100,
             "trafficDistribution": "PreferClose"},
    "status": {"loadBalancer": {"ingress": [{"ip": "20.0.0.1"}, {"hostname": "lb.example.com"}, {"ip": "bad"}]}}
  })");
}

}  // namespace

TEST_CASE("a Service decodes every field the proxy uses") {
  auto r = watch::decodeService(baseService());
  REQUIRE(r);
  const Service& s = *r;
  CHECK(s.id.str() == "shop/web");
  // creationTimestamp 2026-02-01T09:00:00Z, typed (the resourceVersion stays with the reflector)
  using namespace std::chrono;
  CHECK(s.created == Timestamp(sys_days(year(2026) / February / day(1)) + hours(9)));
  CHECK(s.type == ServiceType::LoadBalancer);
  REQUIRE(s.clusterIPs.size() == 2);
  CHECK(s.clusterIPs[1].str() == "fd00:96::20");
  CHECK(s.ipFamilies == std::vector<IpFamily>{IpFamily::V4, IpFamily::V6});
  REQUIRE(s.ports.size() == 2);
  CHECK(std::get<std::string>(s.ports[0].targetPort) == "http");
  CHECK(s.ports[0].nodePort == 30080);
  CHECK(s.ports[1].protocol == Protocol::UDP);
  CHECK(std::get<std::uint16_t>(s.ports[1].targetPort) == 5353);
  CHECK(s.externalIPs.size() == 1);
  CHECK(s.ingressIPs.size() == 1);  // hostname-only and unparsable entries skipped
  CHECK(s.sessionAffinity == SessionAffinity::ClientIP);
  CHECK(s.affinityTimeoutSeconds == 600);
  CHECK(s.externalTrafficPolicy == TrafficPolicy::Local);
  CHECK(s.healthCheckNodePort == 32100);
  CHECK(s.preserveDestination);
  CHECK_FALSE(s.winProxyOptimization);  // case-insensitive DISABLED
  CHECK(s.trafficDistribution == "PreferClose");
}

TEST_CASE("Service defaults: namespace default, TCP, targetPort = port, Cluster policies") {
  auto r = watch::decodeService(json::parse(
      R"({"kind":"Service","metadata":{"name":"a"},"spec":{"clusterIP":"10.0.0.1","ports":[{"port":80}]}})"));
  REQUIRE(r);
  CHECK(r->id.ns == "default");
  CHECK(r->type == ServiceType::ClusterIP);
  CHECK(r->ports[0].protocol == Protocol::TCP);
  CHECK(std::get<std::uint16_t>(r->ports[0].targetPort) == 80);
  CHECK(r->winProxyOptimization);
  CHECK_FALSE(r->headless);
  auto headless = watch::decodeService(json::parse(
      R"({"kind":"Service","metadata":{"name":"h"},"spec":{"clusterIP":"None","ports":[{"port":80}]}})"));
  REQUIRE(headless);
  CHECK(headless->headless);
}

TEST_CASE("bad Service fields are rejected with the object, field and value named") {
  struct Case {
    const char* pointer;  // JSON pointer to change
    json value;
    const char* field;
    const char* value_text;
  };
  const std::vector<Case> cases = {
      {"/spec/ports/0/port", 70000, "spec.ports[0].port", "70000"},
      {"/spec/ports/0/port", "80", "spec.ports[0].port", "80"},
      {"/spec/ports/1/protocol", "ICMP", "spec.ports[1].protocol", "ICMP"},
      {"/spec/ports/0/nodePort", -1, "spec.ports[0].nodePort", "-1"},
      {"/spec/ports/0/targetPort", 0, "spec.ports[0].targetPort", "0"},
      {"/spec/ports/0/targetPort", "99999", "spec.ports[0].targetPort", "99999"},
      {"/spec/ports/0/name", "", "spec.ports[0].name", ""},
      {"/spec/clusterIPs/1", "10.96.10.99", "spec.clusterIPs", "10.96.10.99"},
      {"/spec/clusterIPs/0", "10.96.300.1", "spec.clusterIPs[0]", "10.96.300.1"},
      {"/spec/externalIPs/0", "192.0.2", "spec.externalIPs[0]", "192.0.2"},
      {"/spec/type", "Magic", "spec.type", "Magic"},
      {"/spec/sessionAffinity", "Cookie", "spec.sessionAffinity", "Cookie"},
      {"/spec/sessionAffinityConfig/clientIP/timeoutSeconds", 0, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
       "0"},
      {"/spec/externalTrafficPolicy", "Nearest", "spec.externalTrafficPolicy", "Nearest"},
      {"/spec/healthCheckNodePort", 65536, "spec.healthCheckNodePort", "65536"},
      {"/spec/ipFamilies/0", "IPv5", "spec.ipFamilies[0]", "IPv5"},
      {"/metadata/name", "Web_1", "metadata.name", "Web_1"},
      {"/metadata/annotations/preserve-destination", true, "metadata.annotations.preserve-destination", "true"},
  };
  for (const auto& c : cases) {
    json j = baseService();
    j[json::json_pointer(c.pointer)] = c.value;
    auto r = watch::decodeService(j);
    INFO(c.pointer);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::InvalidInput);
    const std::string& m = r.error().message;
    INFO(m);
    CHECK(m.find("Service shop/") != std::string::npos);
    CHECK(m.find(std::string("field ") + c.field + ":") != std::string::npos);
    CHECK(m.find(std::string("\"") + c.value_text + "\"") != std::string::npos);
  }
}

TEST_CASE("an EndpointSlice decodes conditions with Kubernetes defaults, hints and ports") {
  auto r = watch::decodeEndpointSlice(json::parse(R"({
    "kind": "EndpointSlice", "addressType": "IPv4",
    "metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"},
                 "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-02-01T09:00:00.5Z"}},
    "ports": [{"name": "http", "port": 8080}, {"port": 9090, "protocol": "UDP"}],
    "endpoints": [
      {"addresses": ["10.244.1.5", "10.244.1.6"], "nodeName": "n1", "zone": "z1",
       "hints": {"forZones": [{"name": "z1"}], "forNodes": [{"name": "n1"}]}},
      {"addresses": ["10.244.1.7"], "conditions": {"ready": false, "terminating": true}}]
  })"));
  REQUIRE(r);
  CHECK(r->serviceName == "web");
  using namespace std::chrono;
  CHECK(r->triggerTime == Timestamp(sys_days(year(2026) / February / day(1)) + hours(9) + milliseconds(500)));
  REQUIRE(r->ports.size() == 2);
  CHECK(r->ports[0].name == std::optional<std::string>("http"));
  CHECK_FALSE(r->ports[1].name);
  CHECK(r->ports[1].protocol == Protocol::UDP);
  REQUIRE(r->endpoints.size() == 2);
  const auto& a = r->endpoints[0];
  CHECK(a.address.str() == "10.244.1.5");  // only addresses[0]
  CHECK(a.ready);
  CHECK(a.serving);
  CHECK_FALSE(a.terminating);
  CHECK(a.hintZones() == std::vector<SharedName>{"z1"});
  CHECK(a.hintNodes() == std::vector<SharedName>{"n1"});
  const auto& b = r->endpoints[1];
  CHECK_FALSE(b.ready);
  CHECK(b.serving);  // nil → true
  CHECK(b.terminating);
}

TEST_CASE("bad EndpointSlice fields are named") {
  struct Case {
    const char* doc;
    const char* field;
  };
  const Case cases[] = {
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv7"})", "addressType"},
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["fd00::1"]}]})",
       "endpoints[0].addresses[0]"},
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.1.1.300"]}]})",
       "endpoints[0].addresses[0]"},
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":[]}]})",
       "endpoints[0].addresses"},
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","endpoints":[{"addresses":["10.1.1.1"],"conditions":{"ready":"yes"}}]})",
       "endpoints[0].conditions.ready"},
      {R"({"kind":"EndpointSlice","metadata":{"name":"s"},"addressType":"IPv4","ports":[{"port":70000}]})",
       "ports[0].port"},
  };
  for (const auto& c : cases) {
    auto r = watch::decodeEndpointSlice(json::parse(c.doc));
    INFO(c.doc);
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().message.find(std::string("field ") + c.field + ":") != std::string::npos);
    CHECK(r.error().message.find("EndpointSlice default/s") != std::string::npos);
  }
}

TEST_CASE("a Node decodes addresses, zone, podCIDRs and deletion signals") {
  auto r = watch::decodeNode(json::parse(R"({
    "kind": "Node",
    "metadata": {"name": "win-node-1", "labels": {"topology.kubernetes.io/zone": "zone-a"},
                 "deletionTimestamp": "2026-02-01T00:00:00Z"},
    "spec": {"podCIDR": "10.244.1.0/24", "taints": [{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}]},
    "status": {"addresses": [{"type": "Hostname", "address": "win-node-1"}, {"type": "InternalIP", "address": "10.0.0.4"},
                             {"type": "ExternalIP", "address": "20.1.1.1"}]}
  })"));
  REQUIRE(r);
  CHECK(r->zone == "zone-a");
  CHECK(r->internalIPs.size() == 1);
  CHECK(r->externalIPs.size() == 1);
  CHECK(r->podCIDRs.size() == 1);
  CHECK(r->deleting);
  CHECK(r->toBeDeletedByAutoscaler);
  auto bad = watch::decodeNode(json::parse(
      R"({"kind":"Node","metadata":{"name":"n"},"status":{"addresses":[{"type":"InternalIP","address":"x"}]}})"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("field status.addresses[0].address") != std::string::npos);
}

TEST_CASE("decodeObject dispatches on kind and reports unknown kinds as not used") {
  CHECK(std::holds_alternative<Node>(*watch::decodeObject(json::parse(R"({"kind":"Node","metadata":{"name":"n"}})"))));
  auto cm = watch::decodeObject(json::parse(R"({"kind":"ConfigMap","metadata":{"name":"c"}})"));
  REQUIRE_FALSE(cm);
  CHECK(cm.error().code == ErrorCode::NotFound);
  auto none = watch::decodeObject(json::parse(R"({"metadata":{"name":"c"}})"));
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::InvalidInput);
  CHECK_FALSE(watch::decodeObject(json::parse("[1,2]")));
}

TEST_CASE("RFC 3339 times as the API server writes them; anything else is not a time") {
  using namespace std::chrono;
  auto day1 = sys_days(year(2026) / February / day(1));
  CHECK(watch::parseRfc3339("2026-02-01T09:00:00Z") == Timestamp(day1 + hours(9)));
  CHECK(watch::parseRfc3339("2026-02-01t09:00:00z") == Timestamp(day1 + hours(9)));
  CHECK(watch::parseRfc3339("2026-02-01T09:00:00.123456789Z") ==
        Timestamp(day1 + hours(9) + duration_cast<Timestamp::duration>(nanoseconds(123456789))));
  CHECK(watch::parseRfc3339("2026-02-01T10:30:00+01:30") == Timestamp(day1 + hours(9)));
  CHECK(watch::parseRfc3339("2026-02-01T07:00:00-02:00") == Timestamp(day1 + hours(9)));
  for (const char* bad : {"", "2026-02-01", "2026-02-01 09:00:00Z", "2026-02-30T09:00:00Z", "2026-13-01T09:00:00Z",
                          "2026-02-01T24:00:00Z", "2026-02-01T09:00:00", "2026-02-01T09:00:00.Z", "2026-02-01T09:00:00+1:00",
                          "2026-02-01T09:00:00Zjunk", "x026-02-01T09:00:00Z"})
    CHECK_FALSE(watch::parseRfc3339(bad));
  // A Service whose creationTimestamp is not a time is rejected, naming the field.
  auto r = watch::decodeService(nlohmann::json::parse(R"({"kind":"Service","metadata":{"name":"a","creationTimestamp":"yesterday"},
    "spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}})"));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("metadata.creationTimestamp") != std::string::npos);
}

TEST_CASE("ingress ipMode (KEP-1860, kube-proxy >= 1.33): only VIP-mode entries are captured on the node") {
  // Table rows: ipMode value -> whether the ingress IP is programmed on the node.
  struct Row {
    const char* ipMode;  // nullptr: unset
    bool captured;
    const char* why;
  };
  const Row rows[] = {
      {nullptr, true, "unset is VIP"},
      {"VIP", true, "VIP: kube-proxy captures traffic to the IP (upstream 1.29+ behaviour)"},
      {"Proxy", false, "Proxy: in-cluster clients go through the cloud load balancer (upstream 1.33, KEP-1860 GA)"},
  };
  for (const auto& r : rows) {
    INFO(r.why);
    nlohmann::json ing = {{"ip", "20.0.0.7"}};
    if (r.ipMode) ing["ipMode"] = r.ipMode;
    auto s = watch::decodeService(nlohmann::json{
        {"kind", "Service"},
        {"metadata", {{"name", "lb"}, {"namespace", "shop"}}},
        {"spec", {{"type", "LoadBalancer"}, {"clusterIP", "10.96.0.7"}, {"ports", {{{"port", 443}, {"nodePort", 30443}}}}}},
        {"status", {{"loadBalancer", {{"ingress", {ing}}}}}}});
    REQUIRE(s);
    CHECK(s->ingressIPs.size() == (r.captured ? 1u : 0u));
  }
}

TEST_CASE("timestamps outside 1678-2261 are refused, not overflowed (fuzzer finding)") {
  CHECK_FALSE(watch::parseRfc3339("1013-01-05T10:00:00Z"));
  CHECK_FALSE(watch::parseRfc3339("2262-04-12T00:00:00Z"));
  CHECK(watch::parseRfc3339("1678-01-01T00:00:00Z"));
  auto s = watch::decodeService(json{{"kind", "Service"},
                                     {"metadata", {{"name", "old"}, {"namespace", "d"}, {"creationTimestamp", "1013-01-05T10:00:00Z"}}},
                                     {"spec", {{"clusterIP", "10.96.0.9"}, {"ports", {{{"port", 80}}}}}}});
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("metadata.creationTimestamp") != std::string::npos);
}

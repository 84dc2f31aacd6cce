#include <algorithm>
#include <string>
#include <vector>

#include "catch.h"

#include "hns/reconcile/id_registry.h"
#include "policy/fixtures.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using policy::test::ip;
using policy::test::ips;

TEST_CASE("id registry: a local endpoint wins over a remote one with the same IP (kubernetes#138000)") {
  IdRegistry ids;
  ids.setManagedEndpoint(ip("10.244.2.2"), "REMOTE");
  CHECK(ids.backend(ip("10.244.2.2")) == "REMOTE");
  ids.updateLocal({"LOCAL"}, {{"LOCAL", ips({"10.244.2.2"})}}, {});
  CHECK(ids.backend(ip("10.244.2.2")) == "LOCAL");
  ids.updateLocal({}, {}, {});  // the pod went
  CHECK(ids.backend(ip("10.244.2.2")) == "REMOTE");
  CHECK(ids.knownEndpointIds() == std::unordered_set<std::string>{"REMOTE"});
}

TEST_CASE("id registry: endpoint addresses by ID for reading load balancers back; load balancers by frontend") {
  IdRegistry ids;
  ids.reset({{}, {{ip("10.244.2.5"), "R1"}}, {{ip("10.244.1.10"), "L1"}, {ip("fd00::10"), "L1"}}, {"F1"}});
  auto by = ids.endpointAddresses();
  CHECK(by.at("R1") == ips({"10.244.2.5"}));
  CHECK(by.at("L1").size() == 2);  // a dual-stack pod: both addresses
  policy::LbKey k{policy::IpFamily::V4, policy::Protocol::TCP, ip("10.96.0.1"), 80};
  CHECK_FALSE(ids.loadBalancer(k));
  ids.setLoadBalancer(k, "LB1");
  CHECK(ids.loadBalancer(k) == "LB1");
  ids.eraseLoadBalancer(k);
  CHECK_FALSE(ids.loadBalancer(k));
  CHECK(ids.knownEndpointIds() == std::unordered_set<std::string>{"R1", "L1", "F1"});
}

TEST_CASE("HnsId keeps a GUID in 16 bytes and gives back exactly the text it was made from") {
  const std::vector<std::string> texts = {
      "5EAD11E5-0000-4000-8000-000000000001",  // HNS's form
      "5ead11e5-0000-4000-8000-00000000000a",  // lower case
      "5Ead11e5-0000-4000-8000-000000000001",  // mixed: kept as text
      "{5EAD11E5-0000-4000-8000-000000000001}",
      "5EAD11E5-0000-4000-8000-00000000000",   // one digit short
      "5EAD11E5-0000-4000-8000-00000000000G",
      "5EAD11E50000-4000-8000-0000000000001",  // a dash moved
      "L-1",
      "",
  };
  for (const auto& t : texts) {
    INFO(t);
    HnsId id(t);
    CHECK(id.str() == t);
    HnsId copy = id;
    CHECK(copy == id);
    CHECK(copy.str() == t);
  }
  CHECK_FALSE(HnsId("5EAD11E5-0000-4000-8000-000000000001") == HnsId("5ead11e5-0000-4000-8000-000000000001"));
  CHECK_FALSE(HnsId("5EAD11E5-0000-4000-8000-000000000001") == HnsId("5EAD11E5-0000-4000-8000-000000000002"));
  CHECK_FALSE(HnsId("L-1") == HnsId("L-2"));
  CHECK_FALSE(HnsId("") == HnsId("L-1"));
  // Through the registry: what goes in comes out.
  IdRegistry r;
  r.setManagedEndpoint(policy::IpAddress::v4(10, 244, 2, 5), "abcdef01-2345-6789-abcd-ef0123456789");
  CHECK(r.managedEndpoint(policy::IpAddress::v4(10, 244, 2, 5)) == std::string("abcdef01-2345-6789-abcd-ef0123456789"));
  CHECK(r.backend(policy::IpAddress::v4(10, 244, 2, 5)) == std::string("abcdef01-2345-6789-abcd-ef0123456789"));
}

TEST_CASE("HnsId: text that is not a GUID is owned through copies, moves and assignments") {
  static_assert(sizeof(HnsId) == 17 && alignof(HnsId) == 1);
  HnsId a("L-1"), g("5EAD11E5-0000-4000-8000-000000000001");
  HnsId b = a;  // a copy of the text, not of its address
  a = HnsId("L-2");
  CHECK(b.str() == "L-1");
  CHECK(a.str() == "L-2");
  HnsId c = std::move(a);
  CHECK(c.str() == "L-2");
  CHECK(a.str().empty());  // NOLINT(bugprone-use-after-move): a moved-from ID is empty
  b = g;                    // text replaced by a GUID
  CHECK(b == g);
  g = c;  // a GUID replaced by text
  CHECK(g.str() == "L-2");
  const HnsId& self = g;
  g = self;  // self-assignment keeps the text
  CHECK(g.str() == "L-2");
  std::vector<HnsId> v = {HnsId("x-3"), HnsId("5EAD11E5-0000-4000-8000-000000000002"), HnsId("x-1"), HnsId("")};
  std::sort(v.begin(), v.end());  // GUIDs (and the empty ID) before text, text in order
  CHECK(v[0].str().empty());
  CHECK(v[1].str() == "5EAD11E5-0000-4000-8000-000000000002");
  CHECK(v[2].str() == "x-1");
  CHECK(v[3].str() == "x-3");
}

TEST_CASE("id registry: an existence pass's comparison names what HNS no longer lists and what the registry lacks") {
  auto sorted = [](std::vector<HnsId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::string r1 = "5EAD11E5-0000-4000-8000-000000000001", r2 = "5EAD11E5-0000-4000-8000-000000000002";
  const policy::LbKey k1{policy::IpFamily::V4, policy::Protocol::TCP, ip("10.96.0.1"), 80};
  const policy::LbKey k2{policy::IpFamily::V4, policy::Protocol::TCP, ip("10.96.0.2"), 80};
  IdRegistry ids;
  ids.reset({{{k1, HnsId("LB1")}, {k2, HnsId("LB2")}},
             {{ip("10.244.2.5"), HnsId(r1)}, {ip("10.244.2.6"), HnsId(r2)}},
             {{ip("10.244.1.10"), "L1"}, {ip("fd00::10"), "L1"}},
             {"F1"}});
  // HNS lists r2 (not r1), the local and foreign endpoints, a new endpoint and LB2 and LB3.
  const auto ex = ids.compare(sorted({HnsId(r2), HnsId("L1"), HnsId("F1"), HnsId("NEW")}),
                              sorted({HnsId("LB2"), HnsId("LB3")}));
  REQUIRE(ex.goneManagedEndpoints.size() == 1);
  CHECK(ex.goneManagedEndpoints[0].first == HnsId(r1));
  CHECK(ex.goneManagedEndpoints[0].second == ip("10.244.2.5"));
  REQUIRE(ex.goneLoadBalancers.size() == 1);
  CHECK(ex.goneLoadBalancers[0].second == k1);
  CHECK(ex.unknownEndpoints == std::vector<HnsId>{HnsId("NEW")});
  CHECK(ex.unknownLoadBalancers == std::vector<HnsId>{HnsId("LB3")});
  // Everything listed and accounted for: nothing to report.
  const auto same = ids.compare(sorted({HnsId(r1), HnsId(r2), HnsId("L1"), HnsId("F1")}), sorted({HnsId("LB1"), HnsId("LB2")}));
  CHECK(same.goneManagedEndpoints.empty());
  CHECK(same.goneLoadBalancers.empty());
  CHECK(same.unknownEndpoints.empty());
  CHECK(same.unknownLoadBalancers.empty());
}

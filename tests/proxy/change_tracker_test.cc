#include "catch.h"

#include "policy/fixtures.h"
#include "proxy/change_tracker.h"

using namespace hnsproxy;
using namespace hnsproxy::proxy;
using namespace hnsproxy::policy::test;

TEST_CASE("change tracker: a burst on one object is one change, carrying its latest state") {
  int notified = 0;
  ChangeTracker t("win-node-1", [&] { ++notified; });
  auto s = svc("web", "10.96.0.1");
  for (int port = 80; port < 90; ++port) {
    s.ports[0].port = static_cast<std::uint16_t>(port);
    t.upsertService(s);
  }
  t.upsertSlice(slice("web", "web-1", {ep("10.244.2.1", "n2")}));
  t.upsertSlice(slice("web", "web-1", {ep("10.244.2.2", "n2")}));
  CHECK(notified == 12);
  CHECK(t.pendingServices() == 1);
  CHECK(t.pendingEndpoints() == 1);
  CHECK(t.serviceChangesTotal() == 10);
  CHECK(t.endpointChangesTotal() == 2);
  auto b = t.take();
  REQUIRE(b.services.size() == 1);
  CHECK(b.services.begin()->second->ports[0].port == 89);
  CHECK(b.slices.begin()->second->endpoints[0].address == ip("10.244.2.2"));
  CHECK(t.take().empty());  // taken once
}

TEST_CASE("change tracker: a delete after an update is a delete; another node's events are dropped") {
  ChangeTracker t("win-node-1");
  t.upsertService(svc("web", "10.96.0.1"));
  t.deleteService({"default", "web"});
  t.upsertSlice(slice("web", "web-1", {ep("10.244.2.1", "n2")}));
  t.deleteSlice("default", "web-1");
  policy::Node other;
  other.name = "win-node-2";
  t.upsertNode(other);
  t.deleteNode("win-node-2");
  auto b = t.take();
  REQUIRE(b.services.size() == 1);
  CHECK_FALSE(b.services.begin()->second);
  REQUIRE(b.slices.size() == 1);
  CHECK_FALSE(b.slices.begin()->second);
  CHECK_FALSE(b.node);
  policy::Node mine;
  mine.name = "win-node-1";
  t.upsertNode(mine);
  t.deleteNode("win-node-1");
  auto n = t.take();
  REQUIRE(n.node);
  CHECK_FALSE(*n.node);  // deleted
}

TEST_CASE("change tracker: ready once Services and EndpointSlices have both delivered their initial state") {
  ChangeTracker t("win-node-1");
  CHECK_FALSE(t.ready());
  t.synced(watch::Resource::Services);
  CHECK_FALSE(t.ready());
  t.synced(watch::Resource::Nodes);
  CHECK_FALSE(t.ready());
  CHECK(t.nodeSynced());
  t.synced(watch::Resource::EndpointSlices);
  CHECK(t.ready());
  t.setNodeName("renamed");
  policy::Node n;
  n.name = "renamed";
  t.upsertNode(n);
  CHECK(t.take().node);
  CHECK(t.nodeName() == "renamed");
}

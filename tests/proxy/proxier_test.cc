// The proxier over the reconciler: batches in; logs, metrics and health out.
#include "catch.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "hns/sim/simulated_hns.h"
#include "hns/node_fixture.h"
#include "proxy/logging.h"
#include "proxy/proxier.h"

using namespace hnsproxy;
using namespace hnsproxy::proxy;
using namespace hnsproxy::hns::test;
using namespace std::chrono_literals;

namespace {

struct Rig {
  std::unique_ptr<hns::SimulatedHns> sim = makeNode("ws2025-updated");
  ChangeTracker tracker{"win-node-1"};
  Metrics metrics;
  ProxyHealth health{60s};
  Proxier proxier{nodeOptions(), *sim, tracker, metrics, health};
  Rig() {
    REQUIRE(proxier.initialize([] { return false; }));
  }
  void ready() {
    tracker.synced(watch::Resource::Services);
    tracker.synced(watch::Resource::EndpointSlices);
  }
};

std::string logFile() {
  auto p = std::filesystem::temp_directory_path() / ("hnsproxy-proxier-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(p);
  log::LogOptions o;
  o.file = p.string();
  o.toStderr = false;
  o.verbosity = 2;
  log::init(o);
  return p.string();
}

std::string readLog(const std::string& path) {
  log::flush();
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("proxier: nothing is programmed until Services and EndpointSlices have synced") {
  Rig r;
  r.tracker.upsertService(svc("web", "10.96.0.1"));
  r.tracker.upsertSlice(slice("web", "web-1", {ep("10.244.2.1", "n2")}));
  CHECK(r.proxier.sync());
  CHECK(r.sim->snapshot().loadBalancers.empty());
  r.ready();
  CHECK(r.proxier.sync());  // the batch taken before is in the engine; the first sync adopts and programs
  CHECK(r.sim->snapshot().loadBalancers.size() == 1);
}

TEST_CASE("proxier: a sync updates health, the sync metrics, the gauges and network programming latency") {
  Rig r;
  r.ready();
  auto before = std::chrono::system_clock::now();
  auto s = slice("web", "web-1", {ep("10.244.2.1", "n2")});
  s.triggerTime = before - 2s;  // the change began two seconds ago
  r.tracker.upsertService(svc("web", "10.96.0.1"));
  r.tracker.upsertSlice(s);
  REQUIRE(r.proxier.sync());
  auto state = r.health.state(std::chrono::system_clock::now());
  CHECK(state.healthy);
  CHECK(state.lastUpdated >= before);
  auto text = r.metrics.render();
  CHECK(text.find("hnsproxy_load_balancers 1\n") != std::string::npos);
  CHECK(text.find("hnsproxy_remote_endpoints 1\n") != std::string::npos);
  CHECK(r.metrics.networkProgrammingDuration.count() == 1);
  CHECK(text.find("kubeproxy_network_programming_duration_seconds_bucket{le=\"1\"} 0") != std::string::npos);
  CHECK(text.find("kubeproxy_network_programming_duration_seconds_bucket{le=\"3\"} 1") != std::string::npos);
  CHECK(r.metrics.syncDuration.count() == 1);
}

TEST_CASE("proxier: a warning is logged once per service and reason, not at every sync") {
  auto path = logFile();
  Rig r;
  r.ready();
  auto s = svc("sticky", "10.96.0.1");
  s.sessionAffinity = policy::SessionAffinity::ClientIP;
  s.affinityTimeoutSeconds = 60;
  r.tracker.upsertService(s);
  r.tracker.upsertSlice(slice("sticky", "s-1", {ep("10.244.2.1", "n2")}));
  REQUIRE(r.proxier.sync());
  r.tracker.upsertSlice(slice("sticky", "s-1", {ep("10.244.2.2", "n2")}));
  REQUIRE(r.proxier.sync());
  auto text = readLog(path);
  CHECK(count(text, "SessionAffinityTimeoutIgnored") == 1);
  CHECK(text.find("\"Adopted existing HNS objects\"") != std::string::npos);
  log::init({});
}

TEST_CASE("proxier: the Node being deleted or tainted for deletion makes the node ineligible for traffic") {
  Rig r;
  r.ready();
  policy::Node n;
  n.name = "win-node-1";
  n.internalIPs = {ip("10.0.0.4")};
  r.tracker.upsertNode(n);
  REQUIRE(r.proxier.sync());
  CHECK(r.health.state(std::chrono::system_clock::now()).nodeEligible);
  n.toBeDeletedByAutoscaler = true;
  r.tracker.upsertNode(n);
  REQUIRE(r.proxier.sync());
  CHECK_FALSE(r.health.state(std::chrono::system_clock::now()).nodeEligible);
}

TEST_CASE("proxier: failed operations are reported with their HNS error and retried by the next sync") {
  Rig r;
  r.ready();
  r.sim->failFraction("HcnCreateLoadBalancer", 1.0, hns::hcn::kEInvalidArg);
  r.tracker.upsertService(svc("web", "10.96.0.1"));
  r.tracker.upsertSlice(slice("web", "web-1", {ep("10.244.2.1", "n2")}));
  CHECK_FALSE(r.proxier.sync());
  REQUIRE(r.proxier.lastErrors().size() == 1);
  CHECK(r.proxier.lastErrors()[0].find("HRESULT 0x80070057") != std::string::npos);
  CHECK(r.metrics.render().find("hnsproxy_hns_operations_failed_total 1") != std::string::npos);
  r.sim->failFraction("HcnCreateLoadBalancer", 0, 0);
  CHECK(r.proxier.sync());
  CHECK(r.proxier.lastErrors().empty());
  CHECK(r.sim->snapshot().loadBalancers.size() == 1);
}

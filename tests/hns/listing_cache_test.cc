#include "catch.h"

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "hns/instrumented_api.h"
#include "hns/listing_cache.h"
#include "hns/reconciler.h"
#include "node_fixture.h"
#include "test_paths.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using namespace hnsproxy::hns::test;
using namespace hnsproxy::policy;

namespace {

std::string cachePath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-cache-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

ReconcilerOptions withCache(const std::string& path) {
  auto o = nodeOptions();
  o.listingCache = path;
  return o;
}

// One kube-proxy process: a reconciler over the shared HNS, counting its calls.
struct Process {
  InstrumentedApi api;
  FakeClock clock;
  Sleeps sleeps;
  Reconciler r;
  StartInfo started;
  Process(SimulatedHns& sim, ReconcilerOptions o) : api(sim), r(api, std::move(o), clock.fn(), sleeps.fn()) {
    auto s = r.start([] { return false; }, {});
    REQUIRE(s);
    started = std::move(*s);
  }
};

// An idle sync once the save period has passed: writes the cache (nothing else changes).
std::size_t saveNow(Process& p) {
  p.clock.now += std::chrono::hours(2);
  auto rep = p.r.sync();
  REQUIRE(rep.ok());
  CHECK(rep.plan.empty());
  return rep.listingCacheSaved;
}

// What a first process programmed (`services` of fill()) and left in the cache.
struct Programmed {
  std::size_t loadBalancers = 0, remotes = 0;
  std::size_t objects() const { return loadBalancers + remotes; }
};
Programmed programAndSave(SimulatedHns& sim, const std::string& path, int services) {
  Process first(sim, withCache(path));
  fill(first.r.engine(), services);
  REQUIRE(first.r.sync().ok());
  REQUIRE(saveNow(first) > 0);
  return {first.r.applied().loadBalancers.size(), first.r.applied().endpoints.size()};
}

// Load balancers whose backends are endpoint IDs: compare the applied records of two processes by
// HNS content and by the IDs each object has.
void sameRecord(const Process& a, const Process& b) {
  CHECK(a.r.applied() == b.r.applied());
}

}  // namespace

TEST_CASE("listing cache: a restart queries only what the cache does not hold, and adopts exactly what a full listing adopts") {
  const std::string path = cachePath("restart.jsonl");
  auto sim = makeNode("ws2025-updated");
  std::size_t lbs = 0, remotes = 0;
  {
    Process first(*sim, withCache(path));
    CHECK(first.started.fromCache == 0);
    fill(first.r.engine(), 30);
    auto rep = first.r.sync();
    REQUIRE(rep.ok());
    lbs = first.r.applied().loadBalancers.size();
    remotes = first.r.applied().endpoints.size();
    CHECK(rep.listingCacheSaved == 0);  // not while starting: the first write waits a save period
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(saveNow(first) == lbs + remotes);
  }
  REQUIRE(std::filesystem::exists(path));
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) == std::filesystem::perms::none);

  Process cached(*sim, withCache(path));
  CHECK(cached.started.fromCache == lbs + remotes);
  CHECK(cached.started.queried == 10);  // the CNI's ten pod endpoints
  CHECK(cached.api.calls("query") == 1 + 10);  // the network, then the pods
  fill(cached.r.engine(), 30);
  auto rep = cached.r.sync();
  CHECK(rep.ok());
  CHECK(rep.plan.empty());
  CHECK(cached.api.mutatingCalls() == 0);
  REQUIRE(rep.adoption);
  CHECK(rep.adoption->loadBalancers == lbs);

  Process full(*sim, nodeOptions());  // no cache: every object queried
  CHECK(full.started.queried == lbs + remotes + 10);
  fill(full.r.engine(), 30);
  REQUIRE(full.r.sync().ok());
  sameRecord(cached, full);
}

TEST_CASE("listing cache: a load balancer modified after the last save is queried at restart, not trusted") {
  const std::string path = cachePath("modified.jsonl");
  auto sim = makeNode("ws2025-updated");
  auto o = withCache(path);
  o.listingCacheSavePeriod = std::chrono::hours(1);  // the modify below is never saved: only marked
  {
    Process first(*sim, o);
    fill(first.r.engine(), 10);
    REQUIRE(first.r.sync().ok());
    REQUIRE(saveNow(first) > 0);
    first.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "n2"), ep("10.244.4.9", "n4")}));
    auto rep = first.r.sync();
    REQUIRE(rep.ok());
    CHECK(rep.plan.count(OpKind::ModifyLoadBalancer) == 1);
    CHECK(rep.listingCacheSaved == 0);
    CHECK(hnsproxy::test::slurp(path).find("\"modified\"") != std::string::npos);
    // The process dies here: the cache still holds s1's old backends.
  }
  Process second(*sim, o);
  CHECK(second.started.cacheModified == 1);
  CHECK(second.started.queried == 10 + 1 + 1);  // the pods, s1's load balancer, and 10.244.4.9 (created after the save)
  fill(second.r.engine(), 10);
  second.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1"), ep("10.244.2.2", "n2"), ep("10.244.4.9", "n4")}));
  auto rep = second.r.sync();
  CHECK(rep.ok());
  CHECK(rep.plan.empty());  // what HNS holds, read back, is what is desired
  CHECK(sameContent(second.r.applied(), second.r.engine().desired()));

  // Had the cache been trusted, the restart would have seen the old backends and modified again;
  // a save after that change clears the mark.
  second.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1")}));
  second.clock.now += std::chrono::hours(2);
  auto saved = second.r.sync();
  REQUIRE(saved.ok());
  CHECK(saved.listingCacheSaved > 0);
  CHECK(hnsproxy::test::slurp(path).find("\"modified\"") == std::string::npos);
}

TEST_CASE("listing cache: objects gone from HNS while kube-proxy was down are re-created; the cache never vouches for existence") {
  const std::string path = cachePath("gone.jsonl");
  auto sim = makeNode("ws2025-updated");
  const std::size_t remotes = programAndSave(*sim, path, 12).remotes;
  // Someone deletes every load balancer (an HNS reset, hnsdiag delete).
  auto ids = sim->enumerate(ObjectKind::LoadBalancer, "");
  REQUIRE(ids);
  for (const auto& id : *ids) REQUIRE(sim->remove(ObjectKind::LoadBalancer, id));
  Process second(*sim, withCache(path));
  CHECK(second.started.fromCache == remotes);  // the remote endpoints; the load balancers' entries went unused
  fill(second.r.engine(), 12);
  auto rep = second.r.sync();
  REQUIRE(rep.ok());
  CHECK(rep.plan.count(OpKind::CreateLoadBalancer) == ids->size());
  CHECK(rep.plan.count(OpKind::CreateEndpoint) == 0);
  CHECK(hnsHolds(sim->snapshot()) == expectedHolds(second.r.engine().desired()));
}

TEST_CASE("listing cache: a damaged file, or one of another network, is ignored and every object is queried") {
  const std::string path = cachePath("damaged.jsonl");
  auto sim = makeNode("ws2025-updated");
  const std::size_t objects = programAndSave(*sim, path, 6).objects();
  std::string good = hnsproxy::test::slurp(path);
  SECTION("truncated mid-line") {
    std::ofstream(path, std::ios::trunc) << good.substr(0, good.size() / 2);
    Process p(*sim, withCache(path));
    REQUIRE(p.started.cacheProblem);
    CHECK(p.started.cacheProblem->message.find(path) != std::string::npos);
    CHECK(p.started.cacheProblem->message.find("line") != std::string::npos);
    CHECK(p.started.fromCache == 0);
    CHECK(p.started.queried == objects + 10);
  }
  SECTION("not a cache") {
    std::ofstream(path, std::ios::trunc) << "{\"Networks\":[]}\n";
    Process p(*sim, withCache(path));
    REQUIRE(p.started.cacheProblem);
    CHECK(p.started.cacheProblem->message.find("not an hnsproxy listing cache") != std::string::npos);
    CHECK(p.started.fromCache == 0);
  }
  SECTION("another network's") {
    auto other = good;
    auto at = other.find("\"network\":\"") + 11;
    other.replace(at, 8, "00000000");
    std::ofstream(path, std::ios::trunc) << other;
    Process p(*sim, withCache(path));
    CHECK_FALSE(p.started.cacheProblem);
    CHECK(p.started.fromCache == 0);
    CHECK(p.started.queried == objects + 10);
  }
}

TEST_CASE("listing cache: loading replays documents and modified marks; a missing file is an empty cache") {
  const std::string path = cachePath("unit.jsonl");
  auto empty = loadListingCache(path);
  REQUIRE(empty);
  CHECK(empty->empty());
  HcnLoadBalancer lb;
  lb.id = "11111111-2222-3333-4444-555555555555";
  lb.frontendVips = {"10.96.0.10"};
  lb.endpoints = {"aaaaaaaa-2222-3333-4444-555555555555"};
  HcnEndpoint ep;
  ep.id = "aaaaaaaa-2222-3333-4444-555555555555";
  ep.ipConfigurations = {HcnIpConfig{"10.244.2.7"}};
  {
    ListingCacheWriter w(path, "cccccccc-2222-3333-4444-555555555555");
    w.add(lb);
    w.add(ep);
    CHECK(w.objects() == 2);
    REQUIRE(w.commit());
  }
  auto loaded = loadListingCache(path);
  REQUIRE(loaded);
  CHECK(loaded->networkId == "CCCCCCCC-2222-3333-4444-555555555555");
  REQUIRE(loaded->loadBalancers.count("11111111-2222-3333-4444-555555555555") == 1);
  const auto& back = loaded->loadBalancers.at("11111111-2222-3333-4444-555555555555");
  CHECK(back.frontendVips == lb.frontendVips);
  REQUIRE(back.endpoints.size() == 1);
  CHECK(normalizeGuid(back.endpoints[0]) == normalizeGuid(lb.endpoints[0]));
  REQUIRE(loaded->endpoints.count("AAAAAAAA-2222-3333-4444-555555555555") == 1);
  REQUIRE(markModified(path, {"11111111-2222-3333-4444-555555555555"}));
  auto marked = loadListingCache(path);
  REQUIRE(marked);
  CHECK(marked->loadBalancers.empty());
  CHECK(marked->endpoints.size() == 1);
  CHECK(marked->modified == 1);
  // Marking when there is no file creates none.
  std::filesystem::remove(path);
  REQUIRE(markModified(path, {"11111111-2222-3333-4444-555555555555"}));
  CHECK_FALSE(std::filesystem::exists(path));
}

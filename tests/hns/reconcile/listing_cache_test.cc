#include "catch.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "hns/instrumented_api.h"
#include "hns/reconcile/listing_cache.h"
#include "hns/reconcile/reconciler.h"
#include "hns/node_fixture.h"
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
  ep.flags = hcn::kEndpointFlagRemote;
  HcnEndpoint cni;  // a line for an endpoint that is not a remote one: never taken from the file
  cni.id = "bbbbbbbb-2222-3333-4444-555555555555";
  cni.ipConfigurations = {HcnIpConfig{"10.244.1.7"}};
  {
    ListingCacheWriter w(path, "cccccccc-2222-3333-4444-555555555555");
    w.add(lb);
    w.add(ep);
    w.add(cni);
    CHECK(w.objects() == 3);
    REQUIRE(w.commit());
  }
  auto loaded = loadListingCache(path);
  REQUIRE(loaded);
  CHECK(loaded->ignored == 1);
  CHECK(loaded->endpoints.count("BBBBBBBB-2222-3333-4444-555555555555") == 0);
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

namespace {
// What a sync could not do, for the failure message.
std::string failuresOf(const SyncReport& r) {
  std::string out;
  for (const auto& f : r.applied.failures) out += f.str() + "\n";
  if (r.error) out += r.error->str();
  return out;
}
// HNS holds exactly what `p` wants.
bool convergedFor(SimulatedHns& sim, const Process& p) {
  return hnsHolds(sim.snapshot()) == expectedHolds(p.r.engine().desired());
}
// Every slice of verification due now (the runner's background work), then a sync.
void verifyAndSync(Process& p) {
  for (int i = 0; i < 100000 && p.r.verificationDue() <= p.clock.now; ++i)
    if (!p.r.verifySlice().ran) break;
  REQUIRE(p.r.sync().ok());
}
}  // namespace

TEST_CASE("listing cache: a second writer between the save and the restart is repaired by the restart's re-read") {
  const std::string path = cachePath("writer.jsonl");
  auto sim = makeNode("ws2025-updated");
  programAndSave(*sim, path, 10);
  // Another kube-proxy (a --sync-once without the cache) points s1's load balancer elsewhere.
  auto snap = sim->snapshot();
  std::string s1, s2;
  for (const auto& lb : snap.loadBalancers) {
    if (lb.frontendVips == std::vector<std::string>{"10.96.0.2"}) s1 = lb.id;
    if (lb.frontendVips == std::vector<std::string>{"10.96.0.3"}) s2 = lb.id;
  }
  REQUIRE(!s1.empty());
  REQUIRE(!s2.empty());
  auto h1 = sim->open(ObjectKind::LoadBalancer, s1);
  auto h2 = sim->open(ObjectKind::LoadBalancer, s2);
  auto doc1 = json::parse(*sim->query(*h1, "")), doc2 = json::parse(*sim->query(*h2, ""));
  doc1["HostComputeEndpoints"] = doc2["HostComputeEndpoints"];  // s1's traffic to s2's pods
  REQUIRE(sim->modify(*h1, doc1.dump()));
  sim->close(*h1);
  sim->close(*h2);

  Process restarted(*sim, withCache(path));
  fill(restarted.r.engine(), 10);
  auto first = restarted.r.sync();
  REQUIRE(first.ok());
  CHECK(first.plan.empty());  // the cache vouched for s1's old document...
  CHECK_FALSE(convergedFor(*sim, restarted));
  CHECK(restarted.r.unverified() > 0);
  // ...and the re-read after the first sync finds it, in slices, and the next sync repairs it.
  CHECK(restarted.r.verificationDue() <= restarted.clock.now);
  verifyAndSync(restarted);
  CHECK(convergedFor(*sim, restarted));
  CHECK(restarted.r.unverified() == 0);
  CHECK(restarted.r.stats().driftRepaired >= 1);
}

TEST_CASE("listing cache: lines for the CNI's endpoints are never trusted, even when they claim to be remote") {
  const std::string path = cachePath("cni.jsonl");
  auto sim = makeNode("ws2025-updated");
  programAndSave(*sim, path, 10);
  // A CNI endpoint's document, as it is (not remote), and forged as a remote endpoint of another IP.
  HcnEndpoint cni;
  for (const auto& e : sim->snapshot().endpoints)
    if (!e.isRemote()) cni = e;
  REQUIRE(!cni.id.empty());
  {
    std::ofstream out(path, std::ios::app);
    out << json{{"ep", toJson(cni)}}.dump() << "\n";
  }
  {
    Process p(*sim, withCache(path));
    CHECK(p.started.queried >= 10);  // every CNI endpoint read from HNS
    fill(p.r.engine(), 10);
    auto rep = p.r.sync();
    REQUIRE(rep.ok());
    CHECK(rep.plan.count(OpKind::DeleteLoadBalancer) == 0);
    CHECK(convergedFor(*sim, p));
  }
  HcnEndpoint forged = cni;
  forged.flags = hcn::kEndpointFlagRemote;
  forged.ipConfigurations = {HcnIpConfig{"10.244.7.7"}};
  {
    std::ofstream out(path, std::ios::app);
    out << json{{"ep", toJson(forged)}}.dump() << "\n";
  }
  Process p(*sim, withCache(path));
  fill(p.r.engine(), 10);
  auto rep = p.r.sync();  // the forged line would delete the CNI's endpoint: read first, it is not ours
  INFO(failuresOf(rep) << rep.plan.text());
  REQUIRE(rep.ok());
  bool cniThere = false;
  for (const auto& e : sim->snapshot().endpoints) cniThere = cniThere || normalizeGuid(e.id) == normalizeGuid(cni.id);
  CHECK(cniThere);
  verifyAndSync(p);
  CHECK(convergedFor(*sim, p));
}

TEST_CASE("listing cache: swapped IDs in the file never make a change overwrite another service's load balancer") {
  const std::string path = cachePath("swapped.jsonl");
  auto sim = makeNode("ws2025-updated");
  programAndSave(*sim, path, 10);
  auto snap = sim->snapshot();
  std::string s1, s2;
  json s2doc;
  for (const auto& lb : snap.loadBalancers) {
    if (lb.frontendVips == std::vector<std::string>{"10.96.0.2"}) s1 = lb.id;
    if (lb.frontendVips == std::vector<std::string>{"10.96.0.3"}) {
      s2 = lb.id;
      s2doc = toJson(lb);
    }
  }
  REQUIRE(!s1.empty());
  REQUIRE(!s2.empty());
  // The file's two load balancer IDs swapped.
  std::string text = hnsproxy::test::slurp(path);
  for (auto [from, to] : {std::pair{s1, std::string("SWAP")}, std::pair{s2, s1}, std::pair{std::string("SWAP"), s2}})
    for (std::size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;

  Process p(*sim, withCache(path));
  fill(p.r.engine(), 10);
  REQUIRE(p.r.sync().ok());
  // A change to s1: its load balancer is modified (the file names s2's ID for it).
  p.r.engine().upsertSlice(slice("s1", "s1-a", {ep("10.244.1.11", "win-node-1"), ep("10.244.2.77", "n2")}));
  auto rep = p.r.sync();
  INFO(failuresOf(rep) << rep.plan.text());
  CHECK(rep.ok());
  // s2's load balancer still holds s2's frontend and backends.
  auto h = sim->open(ObjectKind::LoadBalancer, s2);
  REQUIRE(h);
  auto now = json::parse(*sim->query(*h, ""));
  sim->close(*h);
  CHECK(now["FrontendVIPs"] == s2doc["FrontendVIPs"]);
  CHECK(now["HostComputeEndpoints"] == s2doc["HostComputeEndpoints"]);
  verifyAndSync(p);
  CHECK(convergedFor(*sim, p));
}

TEST_CASE("listing cache: a FIFO, a device or an endless file at the cache's path is refused at once; nothing blocks") {
  auto sim = makeNode("ws2025-updated");
  const std::string fifo = cachePath("fifo.jsonl");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  {
    Process p(*sim, withCache(fifo));  // returns: the FIFO is not opened blocking
    REQUIRE(p.started.cacheProblem);
    CHECK(p.started.cacheProblem->message.find("not a regular file") != std::string::npos);
  }
  const std::string zero = cachePath("zero.jsonl");
  std::filesystem::create_symlink("/dev/zero", zero);
  {
    Process p(*sim, withCache(zero));
    REQUIRE(p.started.cacheProblem);
    CHECK(p.started.cacheProblem->message.find("not a regular file") != std::string::npos);
  }
  const std::string huge = cachePath("huge.jsonl");
  {
    std::ofstream(huge) << "x";
    std::filesystem::resize_file(huge, kMaxListingCacheBytes + 1);  // sparse: nothing is written
  }
  {
    Process p(*sim, withCache(huge));
    REQUIRE(p.started.cacheProblem);
    CHECK(p.started.cacheProblem->message.find("larger than") != std::string::npos);
  }
  // A stop while a large file is read ends the read.
  const std::string big = cachePath("big.jsonl");
  {
    std::ofstream out(big);
    out << "{\"hnsproxyListingCache\":1,\"network\":\"x\"}\n";
    for (int i = 0; i < 20000; ++i) out << "{\"modified\":\"" << i << "\"}\n";
  }
  int pieces = 0;
  auto stopped = loadListingCache(big, [&] { return ++pieces > 1; });
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().message.find("stopped") != std::string::npos);
}

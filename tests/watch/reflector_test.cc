#include "catch.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include "test_api_server.h"
#include "watch/api_client.h"
#include "watch/kubeconfig.h"
#include "watch/reflector.h"
#include "watch_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::watch;
using hnsproxy::test::TestApiServer;
using namespace hnsproxy::watch::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct ReflectorEvents : EventSink {
  mutable std::mutex mu;
  std::vector<std::string> events;
  std::set<Resource> synced_;
  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
  }
  void upsertService(policy::Service s) override { add("svc+" + s.id.str() + "@"); }
  void deleteService(const policy::ServiceName& id) override { add("svc-" + id.str()); }
  void upsertSlice(policy::EndpointSlice s) override { add("eps+" + s.ns + "/" + s.name); }
  void deleteSlice(const std::string& ns, const std::string& name) override { add("eps-" + ns + "/" + name); }
  void upsertNode(policy::Node n) override { add("node+" + n.name); }
  void deleteNode(const std::string& name) override { add("node-" + name); }
  void synced(Resource r) override {
    std::lock_guard<std::mutex> lock(mu);
    synced_.insert(r);
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> lock(mu);
    auto e = std::move(events);
    events.clear();
    return e;
  }
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
  bool isSynced(Resource r) const {
    std::lock_guard<std::mutex> lock(mu);
    return synced_.count(r) > 0;
  }
};


json service(const std::string& name, const std::string& ip, int port = 80, json labels = json::object()) {
  return json{{"apiVersion", "v1"}, {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
              {"spec", {{"clusterIP", ip}, {"ports", {{{"name", "http"}, {"port", port}}}}}}};
}



struct Running {
  std::unique_ptr<Reflector> r;
  std::thread t;
  std::vector<std::string> logs;
  std::mutex logMu;
  Running(const ClientConfig& cfg, ResourceSpec spec, EventSink& sink, ReflectorOptions o = {}) {
    o.backoffInitial = std::chrono::milliseconds(20);
    o.backoffMax = std::chrono::milliseconds(200);
    auto client = ApiClient::create(cfg, "kube-proxy/v1.35.0 (linux/amd64) hnsproxy/0.1.0");
    REQUIRE(client);
    r = std::make_unique<Reflector>(std::move(client).value(), spec, sink, [this](char sev, const std::string& m) {
      std::lock_guard<std::mutex> lock(logMu);
      logs.push_back(std::string(1, sev) + " " + m);
    }, o);
    t = std::thread([this] { r->run(); });
  }
  ~Running() {
    r->stop();
    t.join();
  }
  bool logged(const std::string& what) {
    std::lock_guard<std::mutex> lock(logMu);
    for (const auto& l : logs)
      if (l.find(what) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("reflector: initial sync with kube-proxy's selectors, then every event type") {
  TestApiServer server;
  server.upsert("services", service("a", "10.96.0.1"));
  server.upsert("services", service("mesh", "10.96.0.2", 80, {{"service.kubernetes.io/service-proxy-name", "x"}}));
  server.upsert("services", service("headless", "None"));
  ReflectorEvents rec;
  Running run(configFor(server), servicesSpec(), rec);
  REQUIRE(eventually([&] { return rec.isSynced(Resource::Services); }));
  auto initial = rec.take();
  REQUIRE(initial.size() == 1);
  CHECK(initial[0].rfind("svc+default/a@", 0) == 0);
  CHECK(server.lastUserAgent().rfind("kube-proxy/v1.35.0", 0) == 0);
  REQUIRE(eventually([&] { return server.activeWatches() == 1; }));

  server.upsert("services", service("b", "10.96.0.3"));
  server.upsert("services", service("a", "10.96.0.1", 8080));
  server.remove("services", "default", "b");
  REQUIRE(eventually([&] { return rec.size() == 3; }));
  auto evs = rec.take();
  CHECK(evs[0].rfind("svc+default/b@", 0) == 0);
  CHECK(evs[1].rfind("svc+default/a@", 0) == 0);
  CHECK(evs[2] == "svc-default/b");
  auto before = run.r->resourceVersion();
  server.upsert("nodes", json{{"kind", "Node"}, {"metadata", {{"name", "elsewhere"}}}});  // moves the global version
  server.bookmark();
  REQUIRE(eventually([&] { return run.r->resourceVersion() != before; }));
  CHECK(rec.size() == 0);  // a bookmark only moves the resourceVersion
}

TEST_CASE("reflector: after 410 Gone the relist delivers exactly the missing changes") {
  for (bool asEvent : {false, true}) {
    INFO("410 as " << (asEvent ? "an ERROR event" : "an HTTP status"));
    TestApiServer server;
    server.goneAsErrorEvent(asEvent);
    server.upsert("services", service("keep", "10.96.0.1"));
    server.upsert("services", service("change", "10.96.0.2"));
    server.upsert("services", service("gone", "10.96.0.3"));
    ReflectorEvents rec;
    Running run(configFor(server), servicesSpec(), rec);
    REQUIRE(eventually([&] { return rec.isSynced(Resource::Services) && server.activeWatches() == 1; }));
    rec.take();
    int listsBefore = server.listRequests();
    // While the watch is held, history moves on and is compacted away; then the stream drops.
    server.pauseWatches(true);
    server.upsert("services", service("change", "10.96.0.2", 9090));
    server.remove("services", "default", "gone");
    server.upsert("services", service("new", "10.96.0.4"));
    server.compact();
    server.dropWatches();
    server.pauseWatches(false);
    bool relisted = eventually([&] { return rec.size() >= 3 && server.listRequests() > listsBefore; });
    INFO("events " << rec.size() << " lists " << server.listRequests() << " before " << listsBefore << " watches "
                   << server.watchRequests() << " logs " << run.logs.size() << (run.logs.empty() ? "" : run.logs.back()));
    REQUIRE(relisted);
    // A barrier instead of a pause: one more change, delivered after whatever the relist sent.
    server.upsert("services", service("marker", "10.96.0.9"));
    REQUIRE(eventually([&] {
      std::lock_guard<std::mutex> lock(rec.mu);
      return !rec.events.empty() && rec.events.back().rfind("svc+default/marker@", 0) == 0;
    }));
    auto evs = rec.take();
    evs.pop_back();  // the marker
    std::sort(evs.begin(), evs.end());
    REQUIRE(evs.size() == 3);
    CHECK(evs[0].rfind("svc+default/change@", 0) == 0);
    CHECK(evs[1].rfind("svc+default/new@", 0) == 0);
    CHECK(evs[2] == "svc-default/gone");
  }
}

TEST_CASE("reflector: a storm of 410 Gone is relisted under client-go's backoff, one list and one log line per step") {
  for (bool asEvent : {false, true}) {
    INFO("410 as " << (asEvent ? "an ERROR event" : "an HTTP status"));
    TestApiServer server;
    server.goneAsErrorEvent(asEvent);
    server.upsert("services", service("a", "10.96.0.1"));
    ReflectorEvents rec;
    ReflectorOptions o;
    Running run(configFor(server), servicesSpec(), rec, o);
    // Running's steps: 20 ms doubling to 200 ms (client-go's are 800 ms to 30 s).
    REQUIRE(eventually([&] { return rec.isSynced(Resource::Services) && server.activeWatches() == 1; }));
    const int listsBefore = server.listRequests();
    server.goneStorm(true);
    server.dropWatches();
    const auto stormStart = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    const int lists = server.listRequests() - listsBefore;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stormStart).count();
    server.goneStorm(false);
    // Waits of at least 20, 40, 80, 160, then 200 ms each: in 2 s at most 4 + (2000-300)/200 = 12
    // relists. Without the backoff it was one per round trip (hundreds here; 20 a second at 1 ms RTT).
    INFO("lists " << lists << " in " << seconds << " s");
    CHECK(lists >= 2);
    CHECK(lists <= 13);
    int relistLines = 0;
    {
      std::lock_guard<std::mutex> lock(run.logMu);
      for (const auto& l : run.logs) relistLines += l.find("expired (410 Gone); relisting in") != std::string::npos;
    }
    CHECK(relistLines <= lists + 1);  // one line per step, not per attempt
    // After the storm the reflector settles on a watch again and delivers.
    server.upsert("services", service("b", "10.96.0.2"));
    REQUIRE(eventually([&] {
      std::lock_guard<std::mutex> lock(rec.mu);
      return !rec.events.empty() && rec.events.back().rfind("svc+default/b@", 0) == 0;
    }));
  }
}

TEST_CASE("reflector: reconnects after the server drops the stream mid-stream and mid-object; split chunks") {
  TestApiServer server;
  server.setChunkSize(7);  // every event arrives in 7-byte pieces
  ReflectorEvents rec;
  Running run(configFor(server), servicesSpec(), rec);
  REQUIRE(eventually([&] { return server.activeWatches() == 1; }));
  server.upsert("services", service("a", "10.96.0.1"));
  REQUIRE(eventually([&] { return rec.size() == 1; }));
  int watches = server.watchRequests();
  server.dropWatches(false);
  REQUIRE(eventually([&] { return server.watchRequests() > watches && server.activeWatches() == 1; }));
  server.upsert("services", service("b", "10.96.0.2"));
  REQUIRE(eventually([&] { return rec.size() == 2; }));
  watches = server.watchRequests();
  server.dropWatches(true);  // half an object, then the connection closes
  REQUIRE(eventually([&] { return server.watchRequests() > watches && server.activeWatches() == 1; }));
  server.upsert("services", service("c", "10.96.0.3"));
  REQUIRE(eventually([&] { return rec.size() == 3; }));
  auto evs = rec.take();
  CHECK(evs[0].rfind("svc+default/a@", 0) == 0);
  CHECK(evs[1].rfind("svc+default/b@", 0) == 0);
  CHECK(evs[2].rfind("svc+default/c@", 0) == 0);  // nothing lost, nothing repeated
  CHECK(run.r->lists() == 1);                      // resumed from the resourceVersion, no relist
}

TEST_CASE("reflector: a malformed event is skipped with a log line and the stream continues") {
  TestApiServer server;
  ReflectorEvents rec;
  Running run(configFor(server), servicesSpec(), rec);
  REQUIRE(eventually([&] { return server.activeWatches() == 1; }));
  server.injectMalformed();
  server.upsert("services", service("ok", "10.96.0.9"));
  auto bad = service("bad", "10.96.0.10");
  bad["spec"]["ports"][0]["port"] = 70000;
  server.upsert("services", bad);
  server.upsert("services", service("after", "10.96.0.11"));
  REQUIRE(eventually([&] { return rec.size() == 2; }));
  auto evs = rec.take();
  CHECK(evs[0].rfind("svc+default/ok@", 0) == 0);
  CHECK(evs[1].rfind("svc+default/after@", 0) == 0);
  CHECK(run.logged("malformed watch event"));
  CHECK(run.logged("Service default/bad: field spec.ports[0].port"));
}

TEST_CASE("reflector: paginated list of many objects; EndpointSlices and this Node only") {
  TestApiServer server;
  for (int i = 0; i < 1200; ++i)
    server.upsert("services", service("s" + std::to_string(i), "10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)));
  // An invalid object on the last page: skipped with a log line, the pages before it delivered.
  server.upsert("services", service("zz-bad", "10.96.9.9", 70000));
  server.upsert("nodes", json{{"kind", "Node"}, {"metadata", {{"name", "win-node-1"}}}});
  server.upsert("nodes", json{{"kind", "Node"}, {"metadata", {{"name", "other"}}}});
  server.upsert("endpointslices", json{{"kind", "EndpointSlice"}, {"addressType", "IPv4"},
                                       {"metadata", {{"name", "s0-x"}, {"namespace", "default"},
                                                     {"labels", {{"kubernetes.io/service-name", "s0"}}}}},
                                       {"endpoints", {{{"addresses", {"10.244.1.5"}}}}}});
  ReflectorEvents rec;
  Running svcs(configFor(server), servicesSpec(), rec);
  Running nodes(configFor(server), nodeSpec("win-node-1"), rec);
  Running eps(configFor(server), endpointSlicesSpec(), rec);
  REQUIRE(eventually([&] {
    return rec.isSynced(Resource::Services) && rec.isSynced(Resource::Nodes) && rec.isSynced(Resource::EndpointSlices);
  }));
  auto evs = rec.take();
  CHECK(evs.size() == 1202);
  CHECK(std::count(evs.begin(), evs.end(), "node+win-node-1") == 1);
  CHECK(std::count(evs.begin(), evs.end(), "node+other") == 0);
  CHECK(std::count(evs.begin(), evs.end(), "eps+default/s0-x") == 1);
  CHECK(std::count_if(evs.begin(), evs.end(), [](const std::string& e) { return e.rfind("svc+default/s1199@", 0) == 0; }) == 1);
  CHECK(std::count_if(evs.begin(), evs.end(), [](const std::string& e) { return e.find("zz-bad") != std::string::npos; }) == 0);
  {
    std::lock_guard<std::mutex> lock(svcs.logMu);
    CHECK(std::count_if(svcs.logs.begin(), svcs.logs.end(), [](const std::string& l) {
            return l.find("Skipping an invalid object") != std::string::npos && l.find("zz-bad") != std::string::npos;
          }) == 1);
  }
  CHECK(server.listRequests() == 3 + 1 + 1);  // 1201 services in pages of 500
}

TEST_CASE("reflector: a list page past the size limit is listed again with smaller pages; nothing is lost") {
  TestApiServer server;
  for (int i = 0; i < 300; ++i)
    server.upsert("services", service("s" + std::to_string(i), "10.96.1." + std::to_string(i % 250 + 1), 1000 + i));
  ReflectorEvents rec;
  ReflectorOptions o;
  o.maxPageBytes = 16 << 10;
  Running svcs(configFor(server), servicesSpec(), rec, o);
  REQUIRE(eventually([&] { return rec.isSynced(Resource::Services); }));
  CHECK(rec.take().size() == 300);
  CHECK(svcs.logged("passed 16 KiB; listing again with 250 objects per page"));
  CHECK(server.listRequests() >= 4);  // halved until a page fits, then every page
}

TEST_CASE("reflector: list items that are not objects are skipped with a log line; the others are delivered") {
  TestApiServer server;
  server.upsert("services", service("a", "10.96.0.1"));
  server.upsert("services", service("b", "10.96.0.2"));
  server.listGarbage(true);
  ReflectorEvents rec;
  Running run(configFor(server), servicesSpec(), rec);
  REQUIRE(eventually([&] { return rec.isSynced(Resource::Services); }));
  auto evs = rec.take();
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].rfind("svc+default/a@", 0) == 0);
  CHECK(evs[1].rfind("svc+default/b@", 0) == 0);
  CHECK(run.logged("Skipping a malformed Service in a list"));
}

TEST_CASE("reflector: EndpointSlices are listed with streamed endpoints; a page the stream leaves to the tree is read once more, each error logged once") {
  TestApiServer server;
  auto slice = [](const std::string& name, json endpoints, const std::string& addressType = "IPv4") {
    return json{{"kind", "EndpointSlice"}, {"addressType", addressType},
                {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"kubernetes.io/service-name", "s0"}}}}},
                {"endpoints", std::move(endpoints)}};
  };
  server.upsert("endpointslices", slice("a-good", {{{"addresses", {"10.244.1.5"}}, {"nodeName", "n1"}},
                                                   {{"addresses", {"10.244.1.6"}}, {"conditions", {{"ready", false}}}}}));
  server.upsert("endpointslices", slice("b-bad-type", {{{"addresses", {"10.244.1.7"}}}}, "IPv9"));
  server.upsert("endpointslices", slice("c-v6-in-v4", {{{"addresses", {"fd00::7"}}}}));  // only the tree names it
  ReflectorEvents rec;
  Running run(configFor(server), endpointSlicesSpec(), rec);
  REQUIRE(eventually([&] { return rec.isSynced(Resource::EndpointSlices); }));
  auto evs = rec.take();
  REQUIRE(evs.size() == 1);
  CHECK(evs[0] == "eps+default/a-good");
  std::lock_guard<std::mutex> lock(run.logMu);
  auto count = [&](const std::string& what) {
    return std::count_if(run.logs.begin(), run.logs.end(), [&](const std::string& l) { return l.find(what) != std::string::npos; });
  };
  CHECK(count("EndpointSlice default/b-bad-type: field addressType") == 1);
  CHECK(count("EndpointSlice default/c-v6-in-v4: field endpoints[0].addresses[0]: invalid value \"fd00::7\"") == 1);
}

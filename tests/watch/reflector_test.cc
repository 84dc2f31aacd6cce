#include <catch2/catch.hpp>

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

using namespace hnsproxy;
using namespace hnsproxy::watch;
using hnsproxy::test::TestApiServer;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Recorder : EventSink {
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

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

json service(const std::string& name, const std::string& ip, int port = 80, json labels = json::object()) {
  return json{{"apiVersion", "v1"}, {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
              {"spec", {{"clusterIP", ip}, {"ports", {{{"name", "http"}, {"port", port}}}}}}};
}

fs::path tempDir(const std::string& n) {
  auto d = fs::temp_directory_path() / ("hnsproxy-refl-" + std::to_string(::getpid()) + "-" + n);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

ClientConfig configFor(const TestApiServer& s) {
  ClientConfig c;
  c.server = s.url();
  c.caData = s.pki().ca.pem.certPem;
  c.token = "t0ken-v1";
  return c;
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
  Recorder rec;
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
    Recorder rec;
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

TEST_CASE("reflector: reconnects after the server drops the stream mid-stream and mid-object; split chunks") {
  TestApiServer server;
  server.setChunkSize(7);  // every event arrives in 7-byte pieces
  Recorder rec;
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
  Recorder rec;
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
  Recorder rec;
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

TEST_CASE("api client: token rotation from a token file, TLS verification failures, client certificates") {
  TestApiServer server;
  fs::path d = tempDir("auth");
  std::ofstream(d / "token") << "t0ken-v1\n";
  ClientConfig cfg = configFor(server);
  cfg.token.clear();
  cfg.tokenFile = (d / "token").string();
  auto c = ApiClient::create(cfg, "ua");
  REQUIRE(c);
  auto ok = (*c)->get("/api/v1/services");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  server.setToken("t0ken-v2");
  std::ofstream(d / "token", std::ios::trunc) << "t0ken-v2\n";
  auto rotated = (*c)->get("/api/v1/services");  // 401, the file is re-read, the request repeated
  REQUIRE(rotated);
  CHECK(rotated->status == 200);
  CHECK(server.unauthorized() == 1);

  ClientConfig wrongCa = configFor(server);
  wrongCa.caData = server.pki().otherCa.pem.certPem;
  auto w = ApiClient::create(wrongCa, "ua");
  REQUIRE(w);
  auto failed = (*w)->get("/api/v1/services", std::chrono::seconds(5));
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("TLS handshake with " + server.url() + " failed") != std::string::npos);
  CHECK(failed.error().message.find("certificate") != std::string::npos);

  ClientConfig byCert = configFor(server);
  byCert.token.clear();
  std::ofstream(d / "client.crt") << server.pki().client.pem.certPem;
  std::ofstream(d / "client.key") << server.pki().client.pem.keyPem;
  byCert.clientCertFile = (d / "client.crt").string();
  byCert.clientKeyFile = (d / "client.key").string();
  auto cc = ApiClient::create(byCert, "ua");
  REQUIRE(cc);
  auto certOk = (*cc)->get("/api/v1/nodes");
  REQUIRE(certOk);
  CHECK(certOk->status == 200);

  ClientConfig insecure = wrongCa;
  insecure.insecureSkipTlsVerify = true;
  insecure.token = "t0ken-v2";
  auto ins = ApiClient::create(insecure, "ua");
  REQUIRE(ins);
  CHECK((*ins)->get("/api/v1/nodes")->status == 200);
}

TEST_CASE("kubeconfig variants: each credential kind, relative paths, plugins refused, in-cluster") {
  fs::path d = tempDir("kc");
  fs::create_directories(d / "pki");
  std::ofstream(d / "pki" / "ca.crt") << "ca";
  std::ofstream(d / "kubeconfig") << R"(apiVersion: v1
kind: Config
current-context: win
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: pki/ca.crt}
- name: c2
  cluster: {server: "https://10.0.0.2:6443", certificate-authority-data: aGVsbG8=, insecure-skip-tls-verify: false}
users:
- name: tokenfile
  user: {tokenFile: pki/token}
- name: certs
  user: {client-certificate: pki/c.crt, client-key: /abs/c.key}
- name: data
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5, token: abc}
- name: plugin
  user: {exec: {command: aws}}
contexts:
- name: win
  context: {cluster: c1, user: tokenfile}
- name: other
  context: {cluster: c2, user: data}
- name: certs
  context: {cluster: c1, user: certs}
- name: plugin
  context: {cluster: c1, user: plugin}
)";
  auto a = loadKubeconfig((d / "kubeconfig").string());
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  CHECK(a->server == "https://10.0.0.1:6443");
  CHECK(a->caFile == (d / "pki" / "ca.crt").string());
  CHECK(a->tokenFile == (d / "pki" / "token").string());
  auto withMaster = loadKubeconfig((d / "kubeconfig").string(), "https://10.9.9.9:443");
  CHECK(withMaster->server == "https://10.9.9.9:443");
  auto edit = [&](const std::string& ctx) {
    std::ifstream in(d / "kubeconfig");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    t.replace(t.find("current-context: win"), 20, "current-context: " + ctx);
    std::ofstream(d / ("kc-" + ctx)) << t;
    return loadKubeconfig((d / ("kc-" + ctx)).string());
  };
  auto data = edit("other");
  REQUIRE(data);
  CHECK(data->caData == "hello");
  CHECK(data->clientCertData == "cert");
  CHECK(data->clientKeyData == "key");
  CHECK(data->token == "abc");
  auto certs = edit("certs");
  REQUIRE(certs);
  CHECK(certs->clientCertFile == (d / "pki" / "c.crt").string());
  CHECK(certs->clientKeyFile == "/abs/c.key");
  auto plugin = edit("plugin");
  REQUIRE_FALSE(plugin);
  CHECK(plugin.error().message.find("exec credential plugin") != std::string::npos);
  auto missing = edit("nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("context \"nope\" not found") != std::string::npos);

  fs::create_directories(d / "root/var/run/secrets/kubernetes.io/serviceaccount");
  std::ofstream(d / "root/var/run/secrets/kubernetes.io/serviceaccount/token") << "sa-token";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto ic = inClusterConfig((d / "root").string());
  REQUIRE(ic);
  CHECK(ic->server == "https://10.96.0.1:443");
  CHECK(ic->tokenFile.find("serviceaccount/token") != std::string::npos);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(inClusterConfig((d / "root").string()));
}

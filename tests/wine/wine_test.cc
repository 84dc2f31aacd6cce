// kube-proxy.exe and hnsdiag.exe (the MinGW build) under wine: the flags, the in-process simulator,
// the production HCN code path through test builds of computenetwork.dll and vmcompute.dll, the
// daemon against the in-repo API server over TLS with Windows paths, and a Windows service under
// wine's service manager. Each result is compared with what the Linux build does.
#include "catch.h"

#include "test_paths.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <optional>
#include <regex>
#include <sstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eventually.h"
#include "hns/hcn_json.h"
#include "hns/hns_lines.h"
#include "policy/desired.h"
#include "proxy/http_client.h"
#include "watch/manifest.h"
#include "watch/test_api_server.h"
#include "wine_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path exampleDir() { return fs::path(sourceDir()) / "examples" / "cluster"; }
const std::string kNodeArgs = " --hostname-override=win-node-1 --network-name=cbr0";

fs::path workdir(const std::string& name) {
  fs::path d = tempDir("wine-" + name);
  fs::copy_file(exampleDir() / "hns" / "win-node-1.json", d / "state.json");
  return d;
}

std::set<std::string> holds(const fs::path& state) {
  auto s = hns::loadSnapshot(state.string());
  REQUIRE(s);
  return hns::test::hnsHolds(*s);
}

std::size_t loadBalancers(const fs::path& state) {
  auto s = hns::loadSnapshot(state.string());
  return s ? s->loadBalancers.size() : 0;
}

bool holdsVip(const fs::path& state, const std::string& vip) {
  auto s = hns::loadSnapshot(state.string());
  if (!s) return false;
  for (const auto& lb : s->loadBalancers)
    if (!lb.frontendVips.empty() && lb.frontendVips[0] == vip) return true;
  return false;
}

// What the Linux build programs on the example cluster (the reference every Windows run matches).
const std::set<std::string>& linuxReference() {
  static const std::set<std::string> ref = [] {
    fs::path d = workdir("reference");
    auto r = run(bin("proxy/kube-proxy") + " --manifest-dir=" + exampleDir().string() + kNodeArgs +
                 " --hns-sim-state=" + (d / "state.json").string() + " --sync-once");
    INFO(r.out);
    REQUIRE(r.status == 0);
    REQUIRE(loadBalancers(d / "state.json") == 16);  // the example: 16 load balancers, 9 remote endpoints
    return holds(d / "state.json");
  }();
  return ref;
}

// Runs the test DLLs against `state`, reporting convention violations to `report`.
std::string hcnEnv(const fs::path& state, const fs::path& report, const std::string& faults = "") {
  std::string env = "HNSPROXY_TEST_HNS_STATE=" + q(winPath(state)) + " HNSPROXY_TEST_HNS_REPORT=" + q(winPath(report));
  if (!faults.empty()) env += " HNSPROXY_TEST_HNS_FAULTS=" + q(faults);
  return env;
}

// Output without klog lines ("I1130 02:45:59.114526 356 app.cc:57] ..."), whose times and thread
// IDs differ between any two runs.
std::string withoutLogLines(const std::string& out) {
  static const std::regex klog(R"(^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]]+\] .*$)");
  std::stringstream in(out);
  std::string line, kept;
  while (std::getline(in, line))
    if (!std::regex_match(line, klog)) kept += line + "\n";
  return kept;
}

// klog's file for `severity` in `dir`: <program>.<host>.<user>.log.<SEVERITY>.<yyyymmdd-hhmmss>.<pid>,
// the program named as the binary is (kube-proxy.exe). Empty when there is none.
fs::path klogFile(const fs::path& dir, const std::string& severity) {
  const std::regex name(R"(kube-proxy\.exe\.[^.]+\..+\.log\.)" + severity + R"(\.\d{8}-\d{6}\.\d+)");
  fs::path found;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec))
    if (std::regex_match(f.path().filename().string(), name)) found = f.path();
  return found;
}

std::string serviceState(const WinePrefix& w, const std::string& name) {
  return w.run("sc query " + name).out;
}

const char* kLateService = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"late","namespace":"shop"},
  "spec":{"clusterIP":"10.96.10.98","ports":[{"name":"http","port":80,"targetPort":8080}]}})";
const char* kLateSlice = R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"IPv4",
  "metadata":{"name":"late-1","namespace":"shop","labels":{"kubernetes.io/service-name":"late"}},
  "ports":[{"name":"http","port":8080}],"endpoints":[{"addresses":["10.244.1.12"],"nodeName":"win-node-1"}]})";

}  // namespace

TEST_CASE("wine: kube-proxy.exe --version, --help and a bad flag answer as the Linux build does") {
  auto& w = WinePrefix::get();
  for (const char* args : {"--version", "--help", "--bogus", "--proxy-mode=userspace", "positional"}) {
    auto linux = run(bin("proxy/kube-proxy") + " " + args);
    auto windows = w.run(w.exe("proxy/kube-proxy.exe") + " " + args);
    INFO(args << "\n--- linux:\n" << linux.out << "\n--- windows:\n" << windows.out);
    CHECK(windows.status == linux.status);
    // The one default that is the platform's: the listing cache beside kube-proxy.exe.
    const std::string win = std::regex_replace(withoutLogLines(withoutCr(windows.out)),
                                               std::regex(R"( \(default "[^"]*hns-listing-cache\.jsonl"\))"), "");
    CHECK(win == withoutLogLines(linux.out));
    CHECK(!withoutLogLines(linux.out).empty());
  }
  auto version = w.run(w.exe("proxy/kube-proxy.exe") + " --version");
  CHECK(version.status == 0);
  CHECK(version.out.find("Kubernetes v1.35.0") == 0);
  // The HostProcess start script's contract (sig-windows-tools start.ps1, packaging/windows/start.ps1):
  // v(\d)\.(\d+) on the first line of --version decides the DSR and overlay flags.
  std::smatch m;
  REQUIRE(std::regex_search(version.out, m, std::regex(R"(v([0-9])\.([0-9]+))")));
  CHECK(m[1] == "1");
  CHECK(m[2] == "35");
  auto bad = w.run(w.exe("proxy/kube-proxy.exe") + " --bogus");
  CHECK(bad.status == 1);  // component-base's cli.Run: 1 for any command error
  CHECK(bad.out.find("unknown flag: --bogus") != std::string::npos);
}

TEST_CASE("wine: --sync-once with the in-process simulator programs what the Linux build programs") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("sim");
  auto r = w.run(w.exe("proxy/kube-proxy.exe") + " --manifest-dir=" + q(winPath(exampleDir())) + kNodeArgs +
                 " --hns-sim-state=" + q(winPath(d / "state.json")) + " --sync-once");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("synced: 16 load balancers, 9 remote endpoints programmed") != std::string::npos);
  CHECK(holds(d / "state.json") == linuxReference());
  // hnsdiag.exe reads the same state file.
  auto diag = w.run(w.exe("hns/hnsdiag.exe") + " --state " + q(winPath(d / "state.json")) + " -o json list loadbalancers");
  REQUIRE(diag.status == 0);
  CHECK(json::parse(diag.out).size() == 16);
}

TEST_CASE("wine: --hns-backend=hcn programs the example cluster through computenetwork.dll, and a restart changes nothing") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("hcn");
  std::string env = hcnEnv(d / "state.json", d / "report.txt");
  const std::string sync = w.exe("proxy/kube-proxy.exe") + " --hns-backend=hcn --manifest-dir=" + q(winPath(exampleDir())) +
                           kNodeArgs + " --sync-once";
  auto first = w.run(sync, env);
  INFO(first.out);
  REQUIRE(first.status == 0);
  CHECK(holds(d / "state.json") == linuxReference());
  // Read back through the DLL by hnsdiag.exe (HcnEnumerate/Open/Query/Close), as an operator would.
  auto diag = w.run(w.exe("hns/hnsdiag.exe") + " -o json list loadbalancers", env);
  INFO(diag.out);
  REQUIRE(diag.status == 0);
  CHECK(json::parse(diag.out).size() == 16);

  // A restart adopts everything: not one object is deleted or re-created.
  const std::string before = slurp(d / "state.json");
  auto second = w.run(sync + " --v=2", env);
  INFO(second.out);
  REQUIRE(second.status == 0);
  CHECK(second.out.find("\"Adopted existing HNS objects\" loadBalancers=16 remoteEndpoints=9") != std::string::npos);
  CHECK(slurp(d / "state.json") == before);

  // --cleanup (what INSTALL.txt offers an operator leaving hnsproxy) removes what kube-proxy
  // programmed, and nothing of the CNI's.
  auto cleanup = w.run(w.exe("proxy/kube-proxy.exe") + " --hns-backend=hcn --cleanup --network-name=cbr0", env);
  INFO(cleanup.out);
  CHECK(cleanup.status == 0);
  auto after = hns::loadSnapshot((d / "state.json").string());
  REQUIRE(after);
  CHECK(after->loadBalancers.empty());
  for (const auto& e : after->endpoints) CHECK_FALSE(e.isRemote());
  CHECK(after->endpoints.size() == hns::loadSnapshot((exampleDir() / "hns" / "win-node-1.json").string())->endpoints.size());

  // hcsshim's conventions held throughout (SchemaVersion on every query, the VirtualNetwork endpoint
  // filter, every handle closed before exit).
  CHECK(slurp(d / "report.txt").empty());
}

TEST_CASE("wine: on HNS state another writer left (upstream's IDs and MAC forms), kube-proxy.exe ends as a fresh run does") {
  auto& w = WinePrefix::get();
  const std::string sync = w.exe("proxy/kube-proxy.exe") + " --hns-backend=hcn --manifest-dir=" + q(winPath(exampleDir())) +
                           kNodeArgs + " --sync-once";
  fs::path fresh = workdir("fresh-run");
  auto first = w.run(sync, hcnEnv(fresh / "state.json", fresh / "report.txt"));
  INFO(first.out);
  REQUIRE(first.status == 0);
  auto freshState = hns::loadSnapshot((fresh / "state.json").string()).value();

  // The same objects as another kube-proxy leaves them: its own random IDs (lower case, as Go's
  // GUIDs print), MACs in lower case, and a stale remote endpoint of a pod that has gone.
  std::mt19937_64 rng(20261202);
  auto guid = [&] {
    auto a = rng(), b = rng();
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                       0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffull);
  };
  auto lower = [](std::string t) {
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  hns::HnsSnapshot other = freshState;
  std::map<std::string, std::string> renamed;
  for (auto& e : other.endpoints)
    if (e.isRemote()) {
      renamed[hns::normalizeGuid(e.id)] = guid();
      e.id = renamed[hns::normalizeGuid(e.id)];
      e.macAddress = lower(e.macAddress);
    }
  for (auto& lb : other.loadBalancers) {
    lb.id = guid();
    for (auto& ep : lb.endpoints)
      if (auto it = renamed.find(hns::normalizeGuid(ep)); it != renamed.end()) ep = it->second;
  }
  hns::HcnEndpoint stale = other.endpoints.front();
  for (const auto& e : other.endpoints)
    if (e.isRemote()) stale = e;
  stale.id = guid();
  stale.ipConfigurations = {{"10.244.2.99", 24}};
  stale.macAddress = "02-11-0a-f4-02-63";
  other.endpoints.push_back(stale);
  fs::path d = workdir("other-writer");
  REQUIRE(hns::saveSnapshot(other, (d / "state.json").string()));

  auto r = w.run(sync, hcnEnv(d / "state.json", d / "report.txt"));
  INFO(r.out);
  REQUIRE(r.status == 0);
  auto after = hns::loadSnapshot((d / "state.json").string()).value();
  CHECK(hns::test::hnsHolds(after) == hns::test::hnsHolds(freshState));
  CHECK(after.loadBalancers.size() == freshState.loadBalancers.size());
  CHECK(after.endpoints.size() == freshState.endpoints.size());  // the stale one deleted, none doubled
  // What was already right was adopted, not re-created: the other writer's IDs remain.
  std::size_t kept = 0;
  for (const auto& lb : after.loadBalancers)
    for (const auto& o : other.loadBalancers) kept += hns::normalizeGuid(lb.id) == hns::normalizeGuid(o.id) ? 1 : 0;
  CHECK(kept == other.loadBalancers.size());
  CHECK(slurp(d / "report.txt").empty());
}

TEST_CASE("wine: the test computenetwork.dll reports every break of hcsshim's conventions (so kube-proxy.exe passing means something)") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("probe");
  auto r = w.run(w.exe("test-dlls/hcn_probe.exe"), hcnEnv(d / "state.json", d / "report.txt"));
  INFO(r.out);
  REQUIRE(r.status == 0);
  // E_INVALIDARG for the query without SchemaVersion and for the v2 endpoint filter; S_OK otherwise.
  const std::string out = withoutCr(r.out);
  CHECK(out.rfind("80070057 80070057 00000000 00000000\n", 0) == 0);
  // vmcompute.dll's v1 HNSCall answers upstream's kernel compatibility check (GET /policylists/:
  // an empty list) and hcsshim's v1 network listing; a write is refused and reported.
  CHECK(out.find("00000000 {\"Error\":\"\",\"Output\":[],\"Success\":true}\n") != std::string::npos);
  CHECK(std::regex_search(out, std::regex(R"(00000000 \{"Error":"","Output":\[\{"ID":"8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01","Name":"cbr0","Type":"L2Bridge"\}\],"Success":true\})")));
  CHECK(out.find("00000000 {\"Error\":\"Not implemented\",\"Success\":false}") != std::string::npos);
  const std::string report = slurp(d / "report.txt");
  INFO(report);
  CHECK(report.find("HcnEnumerateNetworks: the query is not a JSON document") != std::string::npos);
  CHECK(report.find("HcnEnumerateEndpoints: filter key \"HostComputeNetwork\" is not one hcsshim uses for Endpoints") !=
        std::string::npos);
  CHECK(report.find("handle left open at exit: Network 8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01") != std::string::npos);
  CHECK(report.find("HNSCall POST /endpoints/: not a call kube-proxy or hcsshim makes on this path") != std::string::npos);
  CHECK(std::count(report.begin(), report.end(), '\n') == 4);  // the GETs are not departures
}

TEST_CASE("wine: HNS failures reach kube-proxy.exe as HNS's HRESULTs and are handled as on Linux") {
  auto& w = WinePrefix::get();
  const std::string sync = w.exe("proxy/kube-proxy.exe") + " --hns-backend=hcn --manifest-dir=" + q(winPath(exampleDir())) +
                           " --hostname-override=win-node-1 --sync-once";

  SECTION("an RPC error (the HNS service restarting) is transient: retried, and everything is programmed") {
    fs::path d = workdir("rpc");
    auto r = w.run(sync + " --network-name=cbr0", hcnEnv(d / "state.json", d / "report.txt", "HcnCreateLoadBalancer=800706BAx3"));
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK(holds(d / "state.json") == linuxReference());
    CHECK(slurp(d / "report.txt").empty());
  }
  SECTION("a rejected create is not retried as is: the sync fails naming the function and the HRESULT") {
    fs::path d = workdir("invalid");
    auto r = w.run(sync + " --network-name=cbr0", hcnEnv(d / "state.json", d / "report.txt", "HcnCreateLoadBalancer=803B001Bx1000"));
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(r.out.find("sync failed:") != std::string::npos);
    CHECK(r.out.find("HcnCreateLoadBalancer failed: Injected failure. (HRESULT 0x803B001B)") != std::string::npos);
    CHECK(loadBalancers(d / "state.json") == 0);
    CHECK(holdsVip(d / "state.json", "10.96.0.10") == false);
  }
  SECTION("a hung HNS call is reported at its deadline, and what it did late is adopted, not done twice") {
    fs::path d = workdir("hung");
    auto r = w.run(sync + " --network-name=cbr0 --hns-call-timeout=1s",
                   hcnEnv(d / "state.json", d / "report.txt", "HcnCreateLoadBalancer=sleep4000x1"));
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK(r.out.find("\"HNS call did not return within --hns-call-timeout; HNS may be hung, calls are held until it "
                     "answers\" function=\"HcnCreateLoadBalancer\" object=\"LoadBalancer ") != std::string::npos);
    CHECK(r.out.find("\"A late HNS call returned; HNS is re-read\" function=\"HcnCreateLoadBalancer\"") != std::string::npos);
    CHECK(holds(d / "state.json") == linuxReference());  // a set: a duplicate would show as a count mismatch below
    CHECK(loadBalancers(d / "state.json") == 16);
    CHECK(slurp(d / "report.txt").empty());
  }
  SECTION("a network that is not there is reported as the Linux build reports it") {
    fs::path d = workdir("nonet");
    auto windows = w.run(sync + " --network-name=vxlan0", hcnEnv(d / "state.json", d / "report.txt"));
    auto linux = run(bin("proxy/kube-proxy") + " --manifest-dir=" + exampleDir().string() +
                     " --hostname-override=win-node-1 --sync-once --network-name=vxlan0 --hns-sim-state=" +
                     (d / "state.json").string());
    INFO(windows.out << "\n---\n" << linux.out);
    CHECK(windows.status == linux.status);
    CHECK(windows.status != 0);
    const std::string expect = "HNS network 'vxlan0' not found (HNS has: cbr0)";
    CHECK(linux.out.find(expect) != std::string::npos);
    CHECK(windows.out.find(expect) != std::string::npos);
  }
}

TEST_CASE("wine: the daemon with a c:\\ kubeconfig over TLS follows the API server and repairs HNS on its restart notification") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("daemon");
  TestApiServer server;
  for (const auto& f : watch::manifestFiles(exampleDir())) {
    auto docs = watch::parseDocuments(slurp(f), f.string());
    REQUIRE(docs);
    for (auto& doc : *docs) {
      std::string kind = doc.value("kind", "");
      server.upsert(kind == "Service" ? "services" : kind == "EndpointSlice" ? "endpointslices" : "nodes", doc);
    }
  }
  // C:\k as on a node: the kubeconfig (CRLF line endings) names its CA and token file by c:\ paths.
  fs::path k = w.driveC() / "k";
  fs::create_directories(k / "pki");
  std::ofstream(k / "pki" / "ca.crt", std::ios::binary) << server.pki().ca.pem.certPem;
  std::ofstream(k / "pki" / "token", std::ios::binary) << "t0ken-v1\r\n";
  std::ofstream(k / "config", std::ios::binary) << withCrlf(
      "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: " + server.url() +
      "\n    certificate-authority: c:\\k\\pki\\ca.crt\nusers:\n- name: u\n  user:\n    tokenFile: c:\\k\\pki\\token\n"
      "contexts:\n- name: c\n  context: {cluster: k, user: u}\n");
  fs::remove_all(k / "log dir");
  const unsigned short healthz = portOutsideEphemeralRange(), metrics = portOutsideEphemeralRange(healthz);
  std::ofstream(d / "events.txt");
  ::setenv("HNSPROXY_TEST_HNS_STATE", winPath(d / "state.json").c_str(), 1);
  ::setenv("HNSPROXY_TEST_HNS_REPORT", winPath(d / "report.txt").c_str(), 1);
  ::setenv("HNSPROXY_TEST_HNS_EVENTS", winPath(d / "events.txt").c_str(), 1);
  Daemon proxy({"/usr/bin/wine", w.exe("proxy/kube-proxy.exe"), "--kubeconfig=c:\\k\\config", "--hns-backend=hcn",
                "--hostname-override=win-node-1", "--network-name=cbr0", "--hns-verify-period=0",
                "--healthz-bind-address=127.0.0.1:" + std::to_string(healthz),
                "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics), "--log-dir=c:\\k\\log dir",
                "--logtostderr=false"},
               (d / "wine.log").string());
  for (const char* v : {"HNSPROXY_TEST_HNS_STATE", "HNSPROXY_TEST_HNS_REPORT", "HNSPROXY_TEST_HNS_EVENTS"}) ::unsetenv(v);
  bool programmed = eventually([&] { return holds(d / "state.json") == linuxReference(); }, std::chrono::seconds(30));
  // klog's INFO file in a --log-dir with a space.
  fs::path log;
  CHECK(eventually([&] { return !(log = klogFile(k / "log dir", "INFO")).empty(); }, std::chrono::seconds(10)));
  INFO(slurp(log) << slurp(d / "wine.log"));
  REQUIRE(programmed);
  // What it logged (written as it comes, by the logging thread).
  CHECK(eventually([&] { return slurp(log).find("\"Started kube-proxy\"") != std::string::npos; }, std::chrono::seconds(10)));

  // An EndpointSlice change is programmed.
  server.upsert("services", json::parse(kLateService));
  server.upsert("endpointslices", json::parse(kLateSlice));
  CHECK(eventually([&] { return holdsVip(d / "state.json", "10.96.10.98"); }, std::chrono::seconds(15)));

  // Health and metrics answer over loopback.
  CHECK(httpGet(healthz, "/healthz").status == 200);
  auto m = httpGet(metrics, "/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find("hnsproxy_hns_calls_total{function=\"create LoadBalancer\",result=\"ok\"}") != std::string::npos);
  // The process families from the Windows APIs (working set, handles), and the build's platform.
  CHECK(std::regex_search(m.body, std::regex("\nprocess_resident_memory_bytes [1-9][0-9.e+]*\n")));
  // (wine's GetProcessHandleCount answers 0; Windows counts the process's handles)
  CHECK(std::regex_search(m.body, std::regex("\nprocess_open_fds [0-9][0-9.e+]*\n")));
  CHECK(m.body.find("\nprocess_max_fds 16777216\n") != std::string::npos);
  CHECK(std::regex_search(m.body, std::regex("\nprocess_start_time_seconds 1[0-9.e+]+\n")));
  CHECK(m.body.find("platform=\"windows/amd64\"} 1\n") != std::string::npos);
  // client-go's request families: the lists and watches of the three reflectors, over TLS.
  const std::string apiHost = server.url().substr(std::string("https://").size());
  CHECK(std::regex_search(m.body, std::regex("\nrest_client_requests_total\\{code=\"200\",host=\"" + apiHost +
                                             "\",method=\"GET\"\\} ([6-9]|[1-9][0-9]+)\n")));
  CHECK(std::regex_search(m.body, std::regex("\nrest_client_request_duration_seconds_count\\{host=\"" + apiHost +
                                             "\",verb=\"GET\"\\} ([3-9]|[1-9][0-9]+)\n")));

  // HNS restarts and loses its load balancers; with periodic verification off, only the service
  // notification (HcnRegisterServiceCallback) can bring them back.
  auto snap = hns::loadSnapshot((d / "state.json").string());
  REQUIRE(snap);
  snap->loadBalancers.clear();
  REQUIRE(hns::saveSnapshot(*snap, (d / "state.json").string()));
  auto restarted = std::chrono::steady_clock::now();
  std::ofstream(d / "events.txt", std::ios::app) << "restart\n";
  REQUIRE(eventually([&] { return loadBalancers(d / "state.json") == 17; }, std::chrono::seconds(15)));
  WARN("repaired " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restarted).count()
                   << " ms after the HNS restart notification");
  CHECK(eventually(  // the log file is flushed every --log-flush-frequency (5 s)
      [&] { return slurp(log).find("\"HNS service notification: verifying what HNS holds\" type=\"0x1000000\"") != std::string::npos; },
      std::chrono::seconds(10)));
  CHECK(slurp(d / "report.txt").empty());
}

TEST_CASE("wine: kube-proxy.exe as a Windows service: sc start, a change while running, sc stop, and a start failure") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("service");
  fs::path k = w.driveC() / "k";
  fs::remove_all(k / "cluster");
  fs::create_directories(k / "cluster");
  // The manifests and the config file with CRLF line endings, as Windows editors write them.
  for (const auto& f : watch::manifestFiles(exampleDir()))
    std::ofstream(k / "cluster" / f.filename(), std::ios::binary) << withCrlf(slurp(f));
  std::ofstream(k / "kube-proxy.yaml", std::ios::binary) << withCrlf(
      "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: kernelspace\n"
      "hostnameOverride: win-node-1\nhealthzBindAddress: \"\"\nmetricsBindAddress: \"\"\nwinkernel:\n  networkName: cbr0\n");
  fs::copy_file(w.exe("proxy/kube-proxy.exe"), k / "kube-proxy.exe", fs::copy_options::overwrite_existing);
  fs::remove(k / "kube-proxy.log");
  w.configureHns({{"HNSPROXY_TEST_HNS_STATE", winPath(d / "state.json")}, {"HNSPROXY_TEST_HNS_REPORT", winPath(d / "report.txt")}});

  auto create = w.run(
      "sc create kube-proxy binPath= \"C:\\k\\kube-proxy.exe --windows-service --config=C:\\k\\kube-proxy.yaml "
      "--hns-backend=hcn --manifest-dir=C:\\k\\cluster --log-file=C:\\k\\kube-proxy.log --logtostderr=false\"");
  INFO(create.out);
  REQUIRE(create.status == 0);
  auto start = w.run("sc start kube-proxy");
  INFO(start.out << slurp(k / "kube-proxy.log"));
  REQUIRE(start.status == 0);
  CHECK(eventually([&] { return serviceState(w, "kube-proxy").find("4  RUNNING") != std::string::npos; }));
  REQUIRE(eventually([&] { return holds(d / "state.json") == linuxReference(); }, std::chrono::seconds(30)));

  // A change while it runs.
  std::ofstream(k / "cluster" / "late.json", std::ios::binary)
      << "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[" << kLateService << "," << kLateSlice << "]}\r\n";
  CHECK(eventually([&] { return holdsVip(d / "state.json", "10.96.10.98"); }, std::chrono::seconds(15)));

  // sc stop: STOPPED with exit code 0, and what was programmed stays in HNS.
  auto stop = w.run("sc stop kube-proxy");
  INFO(stop.out);
  std::string stopped;
  CHECK(eventually([&] {
    stopped = serviceState(w, "kube-proxy");
    return stopped.find("1  STOPPED") != std::string::npos;
  }, std::chrono::seconds(10)));
  INFO(stopped);
  CHECK(stopped.find("WIN32_EXIT_CODE    : 0 ") != std::string::npos);
  CHECK(loadBalancers(d / "state.json") == 17);
  CHECK(slurp(k / "kube-proxy.log").find("\"Stopped\"") != std::string::npos);

  // A start failure is a service-specific error with kube-proxy's exit code, never a hang.
  REQUIRE(w.run("sc create kube-proxy-bad binPath= \"C:\\k\\kube-proxy.exe --windows-service --bogus\"").status == 0);
  w.run("sc start kube-proxy-bad");
  std::string bad;
  CHECK(eventually([&] {
    bad = serviceState(w, "kube-proxy-bad");
    return bad.find("1  STOPPED") != std::string::npos;
  }, std::chrono::seconds(10)));
  INFO(bad);
  CHECK(bad.find("WIN32_EXIT_CODE    : 1066 ") != std::string::npos);  // ERROR_SERVICE_SPECIFIC_ERROR
  CHECK(bad.find("SERVICE_EXIT_CODE  : 1 ") != std::string::npos);
  w.run("sc delete kube-proxy");
  w.run("sc delete kube-proxy-bad");
  CHECK(slurp(d / "report.txt").empty());
}

TEST_CASE("wine: klog's files named for kube-proxy.exe, ERROR lines on stderr, exit codes and both feature gates both ways") {
  auto& w = WinePrefix::get();
  fs::path d = workdir("klog");
  fs::create_directories(d / "manifests");
  for (const auto& f : watch::manifestFiles(exampleDir())) fs::copy_file(f, d / "manifests" / f.filename());
  std::ofstream(d / "manifests" / "zz-bad.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: bad\n";
  fs::create_directories(d / "logs");
  const std::string base = w.exe("proxy/kube-proxy.exe") + " --manifest-dir=" + q(winPath(d / "manifests")) + kNodeArgs +
                           " --hns-sim-state=" + q(winPath(d / "state.json")) + " --sync-once";
  // stderr to a file, as nssm's AppStderr does.
  auto r = run("(wine " + base + " --logtostderr=false --log-dir=" + q(winPath(d / "logs")) + " 2>" +
               q((d / "stderr.txt").string()) + ")");
  INFO(r.out);
  CHECK(r.status == 0);
  const std::string err = withoutCr(slurp(d / "stderr.txt"));
  INFO(err);
  CHECK(std::regex_search(err, std::regex(R"(E\d{4} [0-9:.]+ +\d+ sources\.cc:\d+\] "Manifest not applied; its previous objects are kept" error=".*zz-bad\.yaml:4: invalid YAML)")));
  CHECK(err.find("\"Version info\"") == std::string::npos);  // only ERROR and above
  const fs::path info = klogFile(d / "logs", "INFO"), error = klogFile(d / "logs", "ERROR");
  REQUIRE_FALSE(info.empty());
  REQUIRE_FALSE(error.empty());
  CHECK(klogFile(d / "logs", "WARNING") != fs::path());
  const std::string infoText = withoutCr(slurp(info)), errorText = withoutCr(slurp(error));
  CHECK(infoText.rfind("Log file created at: ", 0) == 0);
  CHECK(infoText.find("\"Version info\"") != std::string::npos);
  CHECK(infoText.find("zz-bad.yaml") != std::string::npos);  // INFO holds every severity
  CHECK(errorText.find("zz-bad.yaml") != std::string::npos);
  CHECK(errorText.find("\"Version info\"") == std::string::npos);  // ERROR only its own and above

  // Exit codes as upstream: 1 for a flag or configuration error.
  CHECK(w.run(w.exe("proxy/kube-proxy.exe") + " --bogus").status == 1);
  CHECK(w.run(w.exe("proxy/kube-proxy.exe") + " --proxy-mode=userspace").status == 1);
  CHECK(w.run(w.exe("proxy/kube-proxy.exe") + " --config=" + q(winPath(d / "missing.yaml"))).status == 1);

  // Both gates off: runs on an L2Bridge node; --enable-dsr with WinDSR off is refused naming the gate.
  auto off = w.run(base + " --feature-gates=WinDSR=false,WinOverlay=false");
  INFO(off.out);
  CHECK(off.status == 0);
  auto dsrOff = w.run(base + " --feature-gates=WinDSR=false --enable-dsr=true");
  INFO(dsrOff.out);
  CHECK(dsrOff.status == 1);
  CHECK(dsrOff.out.find("WinDSR feature gate not enabled") != std::string::npos);
  auto on = w.run(base + " --feature-gates=WinDSR=true,WinOverlay=true --enable-dsr=true");
  INFO(on.out);
  CHECK(on.status == 0);
  // WinOverlay off on an overlay network: refused naming the gate.
  auto snap = hns::loadSnapshot((d / "state.json").string()).value();
  snap.networks[0].type = "Overlay";
  REQUIRE(hns::saveSnapshot(snap, (d / "overlay.json").string()));
  auto overlayOff = w.run(w.exe("proxy/kube-proxy.exe") + " --manifest-dir=" + q(winPath(d / "manifests")) + kNodeArgs +
                          " --source-vip=10.244.1.250 --hns-sim-state=" + q(winPath(d / "overlay.json")) +
                          " --sync-once --feature-gates=WinOverlay=false");
  INFO(overlayOff.out);
  CHECK(overlayOff.status == 1);
  CHECK(overlayOff.out.find("WinOverlay feature gate not enabled") != std::string::npos);
}

namespace {

// The first non-loopback IPv4 interface of this (Linux) host, as wine's GetAdaptersAddresses shows
// it to kube-proxy.exe: its address and its MAC in HNS's form.
std::optional<std::pair<std::string, std::string>> hostInterface() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0) return std::nullopt;
  std::optional<std::pair<std::string, std::string>> out;
  for (ifaddrs* i = all; i && !out; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char ip[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, ip, sizeof ip);
    std::string mac = slurp(fs::path("/sys/class/net") / i->ifa_name / "address");
    if (mac.size() < 17) continue;
    mac = policy::MacText(mac.substr(0, 17)).str();
    if (mac != "00-00-00-00-00-00") out = std::make_pair(std::string(ip), mac);
  }
  ::freeifaddrs(all);
  return out;
}

}  // namespace

TEST_CASE("wine: overlay through computenetwork.dll takes the host MAC from GetAdaptersAddresses, with or without a cbr0 endpoint") {
  auto host = hostInterface();
  INFO("the host needs a non-loopback IPv4 interface with a MAC");
  REQUIRE(host);
  const auto& [nodeIp, nodeMac] = *host;
  auto& w = WinePrefix::get();
  for (bool withRoot : {true, false}) {
    INFO((withRoot ? "with" : "without") << " a cbr0 endpoint; node " << nodeIp << " " << nodeMac);
    fs::path d = workdir(withRoot ? "overlay-root" : "overlay-noroot");
    auto snap = hns::loadSnapshot((d / "state.json").string()).value();
    snap.networks[0].name = "vxlan0";
    snap.networks[0].type = "Overlay";
    snap.networks[0].policies = {
        {"RemoteSubnetRoute", json{{"DestinationPrefix", "10.244.2.0/24"}, {"ProviderAddress", "10.0.0.5"}, {"IsolationId", 4096}}},
        {"RemoteSubnetRoute", json{{"DestinationPrefix", "10.244.3.0/24"}, {"ProviderAddress", "10.0.0.6"}, {"IsolationId", 4096}}}};
    snap.adapters.clear();  // the DLL's HNS has none: the adapters are wine's, i.e. this host's
    if (!withRoot) std::erase_if(snap.endpoints, [](const auto& e) { return e.name == "cbr0"; });
    REQUIRE(hns::saveSnapshot(snap, (d / "state.json").string()));
    auto r = w.run(w.exe("proxy/kube-proxy.exe") + " --hns-backend=hcn --manifest-dir=" + q(winPath(exampleDir())) +
                       " --hostname-override=win-node-1 --network-name=vxlan0 --feature-gates=WinOverlay=true"
                       " --source-vip=10.244.1.250 --enable-dsr=false --bind-address=" + nodeIp + " --sync-once",
                   hcnEnv(d / "state.json", d / "report.txt"));
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("Record Host MAC address " + nodeMac) != std::string::npos);
    auto after = hns::loadSnapshot((d / "state.json").string()).value();
    std::size_t vips = 0;
    for (const auto& e : after.endpoints) {
      const auto& a = e.ipConfigurations[0].ipAddress;
      CHECK_FALSE(e.macAddress.empty());
      if (a == "10.244.1.250" || a.rfind("10.96.", 0) == 0) {
        ++vips;
        CHECK(e.macAddress == nodeMac);
      }
    }
    CHECK(vips > 1);  // the source VIP and the service VIPs
    CHECK(slurp(d / "report.txt").empty());
  }
}

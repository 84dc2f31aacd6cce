// The end-to-end fault matrix: kube-proxy and hnssim as real processes, the example cluster plus 40
// generated services (remote endpoints on two other nodes) from a manifest directory, and one fault
// per case while the cluster churns. Every case must end in exactly what a fresh --sync-once
// programs: the same load balancers and remote endpoints (IDs aside), none twice, none left over.
#include "catch.h"

#include <csignal>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cluster_fixture.h"
#include "hns/hcn_codes.h"
#include "hns/hns_lines.h"
#include "hns/simulated_hns.h"
#include "hns/socket_api.h"

using namespace hnsproxy;
using namespace hnsproxy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// n services, each with two endpoints on other nodes; `salt` changes their endpoints (churn).
std::string generated(int n, int salt) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    int a = (i * 7 + salt) % 200 + 20, b = (i * 13 + salt * 3) % 200 + 20;
    out += fmt::format(R"(---
apiVersion: v1
kind: Service
metadata: {{name: gen-{0}, namespace: load}}
spec: {{clusterIP: 10.97.{1}.{2}, ports: [{{name: http, port: 80, targetPort: 8080}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: gen-{0}-1, namespace: load, labels: {{kubernetes.io/service-name: gen-{0}}}}}
addressType: IPv4
ports: [{{name: http, port: 8080}}]
endpoints:
- {{addresses: [10.244.2.{3}], nodeName: win-node-2}}
- {{addresses: [10.244.3.{4}], nodeName: win-node-3}}
)",
                       i, i / 250, i % 250 + 1, a, b);
  }
  return out;
}

struct Node {
  fs::path dir;
  std::set<std::string> expected;  // what a fresh --sync-once programs
  std::size_t expectedLbs = 0, expectedEndpoints = 0;
  std::string sock;
  std::unique_ptr<Daemon> sim, proxy;
  std::unique_ptr<hns::SocketApi> api;

  explicit Node(const std::string& name) : dir(workspace("matrix-" + name)) {
    std::ofstream(dir / "manifests" / "zz-generated.yaml") << generated(40, 0);
    fs::copy_file(dir / "state.json", dir / "fresh.json");
    auto once = run(bin("proxy/kube-proxy") + baseArgs(dir) + " --hns-sim-state=" + (dir / "fresh.json").string() +
                    " --sync-once");
    REQUIRE(once.status == 0);
    auto fresh = hns::loadSnapshot((dir / "fresh.json").string()).value();
    expected = hns::test::hnsHolds(fresh);
    expectedLbs = fresh.loadBalancers.size();
    expectedEndpoints = fresh.endpoints.size();
    sock = (dir / "hns.sock").string();
    startSim();
  }
  ~Node() {
    if (proxy) proxy->stop();
    if (sim) sim->stop();
  }
  void startSim() {
    sim = std::make_unique<Daemon>(std::vector<std::string>{bin("hns/hnssim"), "--socket", sock, "--state",
                                                            (dir / "state.json").string()},
                                   (dir / "hnssim.log").string());
    api = std::make_unique<hns::SocketApi>(sock);
    REQUIRE(eventually([&] { return api->version().ok(); }));
  }
  void startProxy() {
    proxy = std::make_unique<Daemon>(
        std::vector<std::string>{bin("proxy/kube-proxy"), "--manifest-dir=" + (dir / "manifests").string(),
                                 "--hostname-override=win-node-1", "--network-name=cbr0", "--hns-sim-socket=" + sock,
                                 "--healthz-bind-address=", "--metrics-bind-address=", "--manifest-poll-interval=50ms",
                                 "--hns-verify-period=2s", "--hns-call-timeout=5s"},
        (dir / "kube-proxy.log").string());
  }
  void sim_(const json& req) { REQUIRE(api->call(req)); }
  std::optional<hns::HnsSnapshot> snapshot() {
    auto s = api->call(json{{"op", "snapshot"}});
    if (!s) return std::nullopt;
    auto snap = hns::snapshotFromJson(*s);
    if (!snap) return std::nullopt;
    return *snap;
  }
  // Exactly the fresh --sync-once state: same lines, and as many objects (no duplicates, no orphans).
  bool converged() {
    auto s = snapshot();
    return s && s->loadBalancers.size() == expectedLbs && s->endpoints.size() == expectedEndpoints &&
           hns::test::hnsHolds(*s) == expected;
  }
  void churn(int rounds) {
    for (int salt = 1; salt <= rounds; ++salt) {
      std::ofstream(dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, salt);
      std::this_thread::sleep_for(std::chrono::milliseconds(120));
    }
    std::ofstream(dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, 0);
  }
  void requireConverged(std::chrono::seconds within = std::chrono::seconds(30)) {
    bool ok = eventually([&] { return converged(); }, within);
    if (!ok) {
      auto s = snapshot();
      INFO("kube-proxy log:\n" << (proxy ? proxy->log() : std::string()));
      if (s) {
        auto got = hns::test::hnsHolds(*s);
        std::vector<std::string> missing, extra;
        std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
        std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
        INFO("load balancers " << s->loadBalancers.size() << " (want " << expectedLbs << "), endpoints "
                               << s->endpoints.size() << " (want " << expectedEndpoints << ")\nmissing:\n"
                               << fmt::format("{}", fmt::join(missing, "\n")) << "\nextra:\n"
                               << fmt::format("{}", fmt::join(extra, "\n")));
        CHECK(ok);
      } else {
        CHECK(ok);
      }
    }
    REQUIRE(ok);
  }
};

const char* kFunctions[] = {"HcnCreateLoadBalancer", "HcnModifyLoadBalancer", "HcnDeleteLoadBalancer",
                            "HcnCreateEndpoint", "HcnDeleteEndpoint"};

}  // namespace

TEST_CASE("fault matrix: HNS call failures per kind (1%, 10%, 50%) under churn") {
  struct Case {
    std::vector<std::string> functions;
    double fraction;
    std::uint32_t hresult;
  };
  std::vector<Case> cases;
  for (double f : {0.01, 0.1}) cases.push_back({{std::begin(kFunctions), std::end(kFunctions)}, f, hns::hcn::kRpcServerUnavailable});
  for (const char* fn : kFunctions) cases.push_back({{fn}, 0.5, hns::hcn::kRpcServerUnavailable});
  cases.push_back({{"HcnCreateLoadBalancer", "HcnCreateEndpoint"}, 0.5, hns::hcn::kEInvalidArg});  // not transient
  for (const auto& c : cases) {
    INFO(fmt::format("{} at {:.0f}% (HRESULT {:#x})", fmt::join(c.functions, ","), c.fraction * 100, c.hresult));
    Node n("calls");
    unsigned seed = 7;
    for (const auto& fn : c.functions)
      n.sim_({{"op", "fail-fraction"}, {"function", fn}, {"fraction", c.fraction}, {"hresult", c.hresult}, {"seed", seed++}});
    n.startProxy();
    n.churn(4);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    n.sim_({{"op", "clear-faults"}});
    n.requireConverged();
  }
}

TEST_CASE("fault matrix: an HNS restart mid-plan, with slow calls") {
  Node n("restart");
  n.sim_({{"op", "latency"}, {"micros", 3000}});
  n.startProxy();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // programming is under way (~80 calls at 3 ms)
  n.sim_({{"op", "restart"}, {"failing_calls", 20}});
  n.churn(2);
  n.sim_({{"op", "latency"}, {"micros", 0}});
  n.requireConverged();
}

TEST_CASE("fault matrix: hnssim killed and restarted from its state file") {
  Node n("simkill");
  n.startProxy();
  n.requireConverged();
  n.sim->kill();  // no clean exit: its socket is left behind, its state file is what it last wrote
  n.sim.reset();
  n.startSim();
  n.churn(2);
  n.requireConverged();
}

TEST_CASE("fault matrix: slow HNS (100 ms a call) under 20 manifest changes a second") {
  Node n("slow");
  n.startProxy();
  n.requireConverged();
  n.sim_({{"op", "latency"}, {"micros", 100000}});
  for (int salt = 1; salt <= 40; ++salt) {  // 2 s at 20 changes a second
    std::ofstream(n.dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, salt);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ofstream(n.dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  n.sim_({{"op", "latency"}, {"micros", 0}});
  n.requireConverged(std::chrono::seconds(60));
}

TEST_CASE("fault matrix: SIGKILL of kube-proxy mid-programming, three times") {
  Node n("sigkill");
  n.sim_({{"op", "latency"}, {"micros", 4000}});
  for (int round = 0; round < 3; ++round) {
    n.startProxy();
    std::this_thread::sleep_for(std::chrono::milliseconds(250 + 100 * round));
    n.proxy->kill();
    n.proxy.reset();
    std::ofstream(n.dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, round + 1);
  }
  std::ofstream(n.dir / "manifests" / "zz-generated.yaml", std::ios::trunc) << generated(40, 0);
  n.sim_({{"op", "latency"}, {"micros", 0}});
  n.startProxy();
  n.requireConverged();
}

TEST_CASE("fault matrix: the manifest directory removed, emptied and restored deletes nothing") {
  Node n("manifests");
  n.startProxy();
  n.requireConverged();
  fs::rename(n.dir / "manifests", n.dir / "manifests.bak");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(n.converged());
  fs::create_directories(n.dir / "manifests");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // past the 2 s removal grace
  CHECK(n.converged());
  for (const auto& f : fs::directory_iterator(n.dir / "manifests.bak")) fs::copy_file(f.path(), n.dir / "manifests" / f.path().filename());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  n.requireConverged();
}

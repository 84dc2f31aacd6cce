// Soak: kube-proxy (daemon, --manifest-dir) and hnssim as real processes for a long time, with the
// cluster churning (200 generated services whose endpoints move every 200 ms) and HNS faults
// switched on and off (30 s of 10% failures on every mutating call, an HNS restart, 30 s clean).
// kube-proxy's resident memory and open descriptors are sampled every second. After the warm-up
// (the first 10%, at least 20 s), growth beyond the bounds fails the run; at the end kube-proxy must
// converge to what a fresh --sync-once programs.
//
//   soak --seconds 1800 --build build --out bench-results/soak.csv   (bench/soak.sh runs this)
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hns/hcn_json.h"
#include "bench/spawn.h"
#include "hns/sim/socket_api.h"
#include "hns/tools/cli.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;
using hnsproxy::bench::spawn;

namespace hns = hnsproxy::hns;
namespace {

long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string l; std::getline(in, l);)
    if (l.rfind("VmRSS:", 0) == 0) return std::stol(l.substr(6));
  return -1;
}

long openFds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

std::string services(int n, int salt) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += fmt::format(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: soak-{0}, namespace: soak}}\n"
        "spec: {{clusterIP: 10.98.{1}.{2}, ports: [{{name: http, port: 80, targetPort: 8080}}]}}\n"
        "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {{name: soak-{0}-1, namespace: soak, labels: {{kubernetes.io/service-name: soak-{0}}}}}\n"
        "addressType: IPv4\nports: [{{name: http, port: 8080}}]\n"
        "endpoints:\n- {{addresses: [10.244.2.{3}], nodeName: win-node-2}}\n- {{addresses: [10.244.3.{4}], nodeName: win-node-3}}\n",
        i, i / 250, i % 250 + 1, (i * 7 + salt) % 200 + 20, (i * 13 + salt * 3) % 200 + 20);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  hns::po::options_description options("options");
  options.add_options()  //
      ("seconds", hns::po::value<int>()->default_value(1800), "how long to run")
      ("build", hns::po::value<std::string>()->default_value("build"), "the build tree with kube-proxy and hnssim")
      ("out", hns::po::value<std::string>()->default_value("bench-results/soak.csv"), "the samples, as CSV")
      ("rss-growth-mb", hns::po::value<long>()->default_value(16), "RSS growth allowed after the warm-up, MB")
      ("fd-growth", hns::po::value<long>()->default_value(8), "open descriptors' growth allowed after the warm-up");
  auto line = hns::parseProgramCommandLine("soak [options]", options, argc, argv);
  if (!line.parsed) return line.exitCode;
  const int seconds = line.parsed->get<int>("seconds");
  const std::string build = line.parsed->get<std::string>("build"), out = line.parsed->get<std::string>("out");
  const long rssBoundKb = line.parsed->get<long>("rss-growth-mb") * 1024, fdBound = line.parsed->get<long>("fd-growth");
  // The checkout (bench/soak.sh runs from its top), for the example cluster.
  const fs::path src = std::getenv("HNSPROXY_SOURCE_DIR") ? fs::path(std::getenv("HNSPROXY_SOURCE_DIR")) : fs::current_path();
  fs::path dir = fs::temp_directory_path() / fmt::format("hnsproxy-soak-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "manifests");
  for (const auto& f : fs::directory_iterator(src / "examples" / "cluster"))
    if (f.path().extension() == ".yaml") fs::copy_file(f.path(), dir / "manifests" / f.path().filename());
  fs::copy_file(src / "examples" / "cluster" / "hns" / "win-node-1.json", dir / "state.json");
  fs::copy_file(dir / "state.json", dir / "fresh.json");
  std::ofstream(dir / "manifests" / "zz-soak.yaml") << services(200, 0);
  const std::string sock = (dir / "hns.sock").string();
  pid_t sim = spawn({build + "/hns/hnssim", "--socket", sock, "--state", (dir / "state.json").string()},
                    (dir / "hnssim.log").string());
  hnsproxy::hns::SocketApi api(sock);
  for (int i = 0; i < 100 && !api.version(); ++i) std::this_thread::sleep_for(50ms);
  pid_t kp = spawn({build + "/proxy/kube-proxy", "--manifest-dir=" + (dir / "manifests").string(),
                    "--hostname-override=win-node-1", "--network-name=cbr0", "--hns-sim-socket=" + sock,
                    "--healthz-bind-address=", "--metrics-bind-address=", "--manifest-poll-interval=100ms",
                    "--hns-verify-period=10s"},
                   (dir / "kube-proxy.log").string());
  std::ofstream csv(out);
  csv << "second,rss_kb,open_fds,phase\n";
  const int warmup = std::max(20, seconds / 10);
  long baseRss = 0, baseFds = 0, maxRss = 0, maxFds = 0;
  int salt = 0;
  auto start = std::chrono::steady_clock::now();
  for (int s = 0; s < seconds; ++s) {
    int cycle = s % 60;
    std::string phase = cycle < 30 ? "faults" : "clean";
    if (cycle == 0)
      for (const char* fn : {"HcnCreateLoadBalancer", "HcnModifyLoadBalancer", "HcnDeleteLoadBalancer", "HcnCreateEndpoint",
                             "HcnDeleteEndpoint"})
        (void)api.call(json{{"op", "fail-fraction"}, {"function", fn}, {"fraction", 0.1}, {"seed", s + 1}});
    if (cycle == 15) (void)api.call(json{{"op", "restart"}, {"failing_calls", 10}});
    if (cycle == 30) (void)api.call(json{{"op", "clear-faults"}});
    for (int k = 0; k < 5; ++k) {  // churn: endpoints move every 200 ms
      std::ofstream(dir / "manifests" / "zz-soak.yaml", std::ios::trunc) << services(200, ++salt);
      std::this_thread::sleep_until(start + std::chrono::milliseconds(s * 1000 + (k + 1) * 200));
    }
    long rss = rssKb(kp), fds = openFds(kp);
    if (rss < 0) {
      std::cerr << "soak: kube-proxy exited; its log: " << (dir / "kube-proxy.log") << "\n";
      return 1;
    }
    csv << s << "," << rss << "," << fds << "," << phase << "\n";
    if (s == warmup) baseRss = rss, baseFds = fds;
    if (s >= warmup) maxRss = std::max(maxRss, rss), maxFds = std::max(maxFds, fds);
  }
  (void)api.call(json{{"op", "clear-faults"}});
  std::ofstream(dir / "manifests" / "zz-soak.yaml", std::ios::trunc) << services(200, 0);
  // The end state: what a fresh --sync-once programs for the same manifests.
  std::string once = build + "/proxy/kube-proxy --manifest-dir=" + (dir / "manifests").string() +
                     " --hostname-override=win-node-1 --network-name=cbr0 --hns-sim-state=" + (dir / "fresh.json").string() +
                     " --sync-once >/dev/null 2>&1";
  bool converged = false;
  if (std::system(once.c_str()) == 0) {
    auto fresh = hnsproxy::hns::loadSnapshot((dir / "fresh.json").string());
    for (int i = 0; i < 60 && fresh && !converged; ++i) {
      std::this_thread::sleep_for(500ms);
      auto snap = api.call(json{{"op", "snapshot"}});
      if (!snap) continue;
      auto now = hnsproxy::hns::snapshotFromJson(*snap);
      converged = now && now->loadBalancers.size() == fresh->loadBalancers.size() &&
                  now->endpoints.size() == fresh->endpoints.size();
    }
  }
  ::kill(kp, SIGTERM);
  ::waitpid(kp, nullptr, 0);
  ::kill(sim, SIGTERM);
  ::waitpid(sim, nullptr, 0);
  bool ok = converged && maxRss - baseRss <= rssBoundKb && maxFds - baseFds <= fdBound;
  std::cout << fmt::format(
      "soak: {} s, {} manifest changes; kube-proxy RSS {:.1f} MB after warm-up, max {:.1f} MB (growth {:.1f} MB, bound "
      "{:.0f}); open descriptors {} -> max {} (bound +{}); converged to a fresh --sync-once: {}; samples in {}\n",
      seconds, salt, baseRss / 1024.0, maxRss / 1024.0, (maxRss - baseRss) / 1024.0, rssBoundKb / 1024.0, baseFds, maxFds,
      fdBound, converged ? "yes" : "NO", out);
  if (ok) fs::remove_all(dir);
  else std::cout << "soak: FAILED; logs kept in " << dir << "\n";
  return ok ? 0 : 1;
}

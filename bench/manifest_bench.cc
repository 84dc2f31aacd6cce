// A manifest of a kind kube-proxy does not use, as large as --manifest-dir accepts (a ConfigMap of
// 56 MB, 600,000 values), dropped into the directory of a running daemon: kube-proxy's peak memory
// while it is read, its memory once the file is gone, and how long a change in another file waits
// meanwhile — written with the large file, and while it is being read.
//   manifest_bench [--values N] [--build DIR] [--source DIR] [--json FILE]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "bench/spawn.h"
#include "hns/sim/socket_api.h"
#include "hns/tools/cli.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace hns = hnsproxy::hns;
namespace {

long statusKb(pid_t pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

int loadBalancers(hnsproxy::hns::SocketApi& api) {
  auto s = api.call(json{{"op", "snapshot"}});
  return s ? static_cast<int>((*s)["LoadBalancers"].size()) : -1;
}

// Waits until HNS holds `want` load balancers (or 60 s); the time it took.
double waitFor(hnsproxy::hns::SocketApi& api, int want, Clock::time_point from) {
  for (int i = 0; i < 6000 && loadBalancers(api) != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return std::chrono::duration<double>(Clock::now() - from).count();
}

std::string service(const std::string& name, const std::string& ip) {
  return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: bench}\nspec: {clusterIP: " + ip +
         ", ports: [{name: http, port: 80}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: " +
         name + "-1, namespace: bench, labels: {kubernetes.io/service-name: " + name +
         "}}\naddressType: IPv4\nports: [{name: http, port: 80}]\nendpoints: [{addresses: [10.244.2.77], nodeName: win-node-2}]\n";
}

}  // namespace

int main(int argc, char** argv) {
  hns::po::options_description options("options");
  options.add_options()  //
      ("values", hns::po::value<long>()->default_value(600000), "values in the ConfigMap (600,000: about 53 MB)")
      ("build", hns::po::value<std::string>()->default_value("build"), "the build tree with kube-proxy and hnssim")
      ("source", hns::po::value<std::string>()->default_value("."), "the checkout (for the example cluster)")
      ("json", hns::po::value<std::string>(), "where the results go as JSON");
  auto line = hns::parseProgramCommandLine("manifest_bench [options]", options, argc, argv);
  if (!line.parsed) return line.exitCode;
  const long values = line.parsed->get<long>("values");
  const std::string build = line.parsed->get<std::string>("build"), source = line.parsed->get<std::string>("source"),
                    jsonPath = line.parsed->get<std::string>("json");
  const fs::path dir = fs::temp_directory_path() / ("manifest-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "manifests");
  for (const auto& f : fs::directory_iterator(fs::path(source) / "examples" / "cluster"))
    if (f.path().extension() == ".yaml") fs::copy_file(f.path(), dir / "manifests" / f.path().filename());
  fs::copy_file(fs::path(source) / "examples" / "cluster" / "hns" / "win-node-1.json", dir / "state.json");
  const std::string sock = (dir / "hns.sock").string();
  pid_t sim = hnsproxy::bench::spawn({build + "/hns/hnssim", "--socket", sock, "--state", (dir / "state.json").string()},
                                     (dir / "hnssim.log").string());
  hnsproxy::hns::SocketApi api(sock);
  for (int i = 0; i < 200 && !api.version(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  pid_t proxy = hnsproxy::bench::spawn(
      {build + "/proxy/kube-proxy", "--manifest-dir=" + (dir / "manifests").string(), "--hostname-override=win-node-1",
       "--network-name=cbr0", "--hns-sim-socket=" + sock, "--healthz-bind-address=", "--metrics-bind-address=",
       "--manifest-poll-interval=100ms"},
      (dir / "kube-proxy.log").string());
  waitFor(api, 16, Clock::now());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long baseKb = statusKb(proxy, "VmRSS:");

  // The large file: one ConfigMap, `values` keys of ~80 bytes.
  {
    std::ofstream big(dir / "big.tmp");
    big << "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge, namespace: bench}\ndata:\n";
    for (long v = 0; v < values; ++v) big << "  key-" << v << ": \"" << std::string(72, 'x') << "\"\n";
  }
  const auto bigBytes = fs::file_size(dir / "big.tmp");
  // (a) written together with a change in another file.
  fs::rename(dir / "big.tmp", dir / "manifests" / "zz-big.yaml");
  std::ofstream(dir / "manifests" / "extra-a.yaml") << service("extra-a", "10.96.50.1");
  const double together = waitFor(api, 17, Clock::now());
  // (b) a change while the large file is read again (it was touched: a new time, the same size).
  {
    std::ofstream big(dir / "manifests" / "zz-big.yaml", std::ios::app);
    big << "  key-last: \"y\"\n";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the poll has started reading it
  const auto t = Clock::now();
  std::ofstream(dir / "manifests" / "extra-b.yaml") << service("extra-b", "10.96.50.2");
  const double during = waitFor(api, 18, t);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // both reads over
  const long peakKb = statusKb(proxy, "VmHWM:");
  fs::remove(dir / "manifests" / "zz-big.yaml");
  std::this_thread::sleep_for(std::chrono::seconds(4));  // past the removal grace
  const long afterKb = statusKb(proxy, "VmRSS:");

  ::kill(proxy, SIGTERM);
  ::waitpid(proxy, nullptr, 0);
  ::kill(sim, SIGTERM);
  ::waitpid(sim, nullptr, 0);
  std::printf("\nhnsproxy manifest benchmark: a %.1f MB ConfigMap (%ld values) in a running daemon's --manifest-dir\n\n",
              static_cast<double>(bigBytes) / 1e6, values);
  std::printf("%-60s %10.1f\n", "kube-proxy RSS before the file (MB)", baseKb / 1024.0);
  std::printf("%-60s %10.1f\n", "kube-proxy peak RSS, the file read twice (MB)", peakKb / 1024.0);
  std::printf("%-60s %10.1f\n", "kube-proxy RSS after the file was removed (MB)", afterKb / 1024.0);
  std::printf("%-60s %10.2f\n", "a change written with the file: event -> programmed (s)", together);
  std::printf("%-60s %10.2f\n", "a change while the file is read: event -> programmed (s)", during);
  if (!jsonPath.empty())
    std::ofstream(jsonPath) << json{{"bytes", bigBytes}, {"values", values}, {"rssBeforeMb", baseKb / 1024.0},
                                    {"peakRssMb", peakKb / 1024.0}, {"rssAfterMb", afterKb / 1024.0},
                                    {"changeWithFileS", together}, {"changeDuringReadS", during}}
                                  .dump(2)
                            << "\n";
  fs::remove_all(dir);
  return 0;
}

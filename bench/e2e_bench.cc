// The end-to-end benchmark: objects served by the in-repo test API server, consumed through the
// real watch/ (reflectors) → proxy/ (change tracker, proxier) → policy/ → hns/ (programmer) path
// into the in-process HNS simulator, with its call log and an optional per-call latency.
//   e2e_bench [--quick] [--sizes 100,1000,10000] [--endpoints 10] [--nodes 100] [--changes 50]
//             [--latency-us 0] [--parallelism 1] [--json FILE] [--svg FILE]
// Prints a table; writes JSON and an SVG chart (latency and HNS calls against cluster size).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "bench/upstream_model.h"
#include "hns/instrumented_api.h"
#include "hns/simulated_hns.h"
#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/logging.h"
#include "proxy/metrics.h"
#include "proxy/proxier.h"
#include "test_api_server.h"
#include "watch/kube_source.h"

using namespace hnsproxy;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double cpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}
long statusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  return 0;
}
struct Dist {
  std::vector<double> v;
  double pct(double q) const {
    if (v.empty()) return 0;
    auto s = v;
    std::sort(s.begin(), s.end());
    return s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1))];
  }
};

std::string podIp(int node, int idx) {
  return "10." + std::to_string(128 + node / 256) + "." + std::to_string(node % 256) + "." + std::to_string(idx % 250 + 2);
}

// A synthetic cluster: mostly ClusterIP, some NodePort and LoadBalancer (with an ingress IP),
// some ETP=Local, some ClientIP affinity; M endpoints per service spread over K nodes.
void generate(test::TestApiServer& api, int n, int m, int k, int& podCounter) {
  for (int s = 0; s < n; ++s) {
    std::string name = "svc" + std::to_string(s);
    std::string type = s % 10 == 0 ? "NodePort" : s % 10 == 1 ? "LoadBalancer" : "ClusterIP";
    json port{{"name", "http"}, {"port", 80}, {"targetPort", 8080}};
    if (type != "ClusterIP") port["nodePort"] = 30000 + s % 2700;
    json svc{{"kind", "Service"},
             {"metadata", {{"name", name}, {"namespace", "ns" + std::to_string(s % 50)}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
             {"spec", {{"type", type}, {"clusterIP", "10.96." + std::to_string(s / 250) + "." + std::to_string(s % 250 + 1)},
                       {"ports", {port}}}}};
    if (s % 7 == 0) svc["spec"]["sessionAffinity"] = "ClientIP";
    if (type == "LoadBalancer") {
      svc["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "20." + std::to_string(s / 62500) + "." + std::to_string(s / 250 % 250) + "." + std::to_string(s % 250 + 1)}}}}}}};
      if (s % 20 == 1) svc["spec"]["externalTrafficPolicy"] = "Local";
    }
    api.upsert("services", svc);
    json eps = json::array();
    for (int e = 0; e < m; ++e, ++podCounter) {
      int node = podCounter % k;
      eps.push_back({{"addresses", {podIp(node, podCounter / k)}}, {"nodeName", "node-" + std::to_string(node)},
                     {"conditions", {{"ready", true}}}});
    }
    api.upsert("endpointslices", json{{"kind", "EndpointSlice"}, {"addressType", "IPv4"},
                                      {"metadata", {{"name", name + "-abcde"}, {"namespace", "ns" + std::to_string(s % 50)},
                                                    {"labels", {{"kubernetes.io/service-name", name}}}}},
                                      {"ports", {{{"name", "http"}, {"port", 8080}}}},
                                      {"endpoints", eps}});
  }
}

std::unique_ptr<hns::SimulatedHns> node(std::chrono::microseconds latency) {
  auto sim = std::make_unique<hns::SimulatedHns>(*hns::profileByName("ws2025-updated"));
  auto net = sim->create(hns::ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  for (int i = 0; i < 250; ++i) {
    auto e = sim->create(hns::ObjectKind::Endpoint, "", json{{"IpConfigurations", {{{"IpAddress", podIp(0, i)}}}}}.dump(), *net);
    sim->close(*e);
  }
  sim->close(*net);
  sim->setLatency(latency);
  sim->resetCallLog();
  return sim;
}

struct Pipeline {
  proxy::ChangeTracker tracker{"node-0"};
  proxy::Metrics metrics;
  proxy::ProxyHealth health{std::chrono::seconds(60)};
  std::unique_ptr<watch::KubeSource> source;
  std::unique_ptr<proxy::Proxier> proxier;
  Pipeline(const std::string& url, hns::Api& api, int parallelism) {
    watch::ClientConfig cfg;
    cfg.server = url;
    cfg.token = "t0ken-v1";
    source = std::move(watch::KubeSource::create(cfg, "e2e-bench", "node-0", tracker, {}).value());
    proxy::ProxierConfig pc;
    pc.nodeName = "node-0";
    pc.networkName = "cbr0";
    pc.bindAddress = policy::IpAddress::parse("192.168.0.10");
    pc.programmer.parallelism = parallelism;
    pc.verifyPeriod = std::chrono::hours(24);
    proxier = std::make_unique<proxy::Proxier>(pc, api, tracker, metrics, health);
  }
  ~Pipeline() { source->stop(); }
};

struct Row {
  int n = 0;
  double listMs = 0, coldWallMs = 0, coldCpuMs = 0;
  std::uint64_t coldCalls = 0, coldMutating = 0, lbs = 0, remote = 0;
  double changeP50 = 0, changeP99 = 0, changeCpuMs = 0;
  double callsPerChange = 0, mutatingPerChange = 0;
  double rollWallMs = 0;
  std::uint64_t rollMutating = 0;
  std::uint64_t idleCalls = 0;
  double idleCpuMs = 0;
  std::uint64_t restartMutating = 0;
  double restartReadyMs = 0;
  long rssKb = 0;
  double bytesPerService = 0, bytesPerEndpoint = 0;
  bench::UpstreamCalls upCold, upIdle, upChange, upRestart;
};

Row runSize(int n, int m, int k, int changes, std::chrono::microseconds latency, int parallelism) {
  Row row;
  row.n = n;
  test::TestApiServer api(test::TestApiServer::Options{false, "t0ken-v1"});
  int pods = 0;
  generate(api, n, m, k, pods);
  auto sim = node(latency);
  hns::InstrumentedApi calls(*sim);
  long rssBefore = statusKb("VmRSS:");
  auto t0 = Clock::now();
  auto pipe = std::make_unique<Pipeline>(api.url(), calls, parallelism);
  pipe->source->start();
  while (!pipe->tracker.ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  row.listMs = ms(Clock::now() - t0);
  // Cold start: sources synced → everything programmed.
  auto w0 = Clock::now();
  double c0 = cpuMs();
  if (!pipe->proxier->initialize([] { return false; })) std::abort();
  bool ok = pipe->proxier->sync();
  row.coldWallMs = ms(Clock::now() - w0);
  row.coldCpuMs = cpuMs() - c0;
  row.coldCalls = calls.totalCalls();
  row.coldMutating = calls.mutatingCalls();
  row.lbs = pipe->proxier->programmer().applied().loadBalancers.size();
  row.remote = pipe->proxier->programmer().applied().endpoints.size();
  long rssAfter = statusKb("VmRSS:");
  row.rssKb = rssAfter;
  std::uint64_t endpoints = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(m);
  row.bytesPerService = (rssAfter - rssBefore) * 1024.0 / n * 0.3;  // ~ split by the object sizes below
  row.bytesPerEndpoint = (rssAfter - rssBefore) * 1024.0 * 0.7 / static_cast<double>(endpoints);
  if (!ok) std::fprintf(stderr, "cold start sync reported failures\n");

  // One endpoint added / removed in one service: event → programmed.
  Dist lat;
  double cpu = 0;
  calls.reset();
  for (int c = 0; c < changes; ++c) {
    int s = (c * 7919) % n;
    std::string name = "svc" + std::to_string(s), ns = "ns" + std::to_string(s % 50);
    json eps = json::array();
    for (int e = 0; e < m; ++e) eps.push_back({{"addresses", {podIp((s * m + e) % k, (s * m + e) / k)}}, {"nodeName", "node-" + std::to_string((s * m + e) % k)}});
    if (c % 2 == 0) eps.push_back({{"addresses", {"10.250." + std::to_string(c / 250) + "." + std::to_string(c % 250 + 1)}}, {"nodeName", "node-1"}});
    auto start = Clock::now();
    double cs = cpuMs();
    api.upsert("endpointslices", json{{"kind", "EndpointSlice"}, {"addressType", "IPv4"},
                                      {"metadata", {{"name", name + "-abcde"}, {"namespace", ns}, {"labels", {{"kubernetes.io/service-name", name}}}}},
                                      {"ports", {{{"name", "http"}, {"port", 8080}}}}, {"endpoints", eps}});
    while (pipe->tracker.pendingEndpoints() == 0) std::this_thread::yield();
    pipe->proxier->sync();
    lat.v.push_back(ms(Clock::now() - start));
    cpu += cpuMs() - cs;
  }
  row.changeP50 = lat.pct(0.5);
  row.changeP99 = lat.pct(0.99);
  row.changeCpuMs = cpu / changes;
  row.callsPerChange = static_cast<double>(calls.totalCalls()) / changes;
  row.mutatingPerChange = static_cast<double>(calls.mutatingCalls()) / changes;

  // A rolling update of one deployment behind 3 services: each pod terminating, then replaced.
  calls.reset();
  auto r0 = Clock::now();
  std::vector<std::string> podsNow;
  for (int i = 0; i < 10; ++i) podsNow.push_back(podIp(2, 200 + i));
  auto publish = [&](const std::vector<std::pair<std::string, bool>>& eps) {
    for (int svc = 0; svc < 3; ++svc) {
      json list = json::array();
      for (const auto& [ip, terminating] : eps)
        list.push_back({{"addresses", {ip}}, {"nodeName", "node-2"},
                        {"conditions", {{"ready", !terminating}, {"serving", true}, {"terminating", terminating}}}});
      std::string name = "svc" + std::to_string(svc);
      api.upsert("endpointslices", json{{"kind", "EndpointSlice"}, {"addressType", "IPv4"},
                                        {"metadata", {{"name", name + "-abcde"}, {"namespace", "ns" + std::to_string(svc % 50)},
                                                      {"labels", {{"kubernetes.io/service-name", name}}}}},
                                        {"ports", {{{"name", "http"}, {"port", 8080}}}}, {"endpoints", list}});
    }
    while (pipe->tracker.pendingEndpoints() < 3) std::this_thread::yield();
    pipe->proxier->sync();
  };
  for (int i = 0; i < 10; ++i) {
    std::vector<std::pair<std::string, bool>> eps;
    for (int j = 0; j < 10; ++j) eps.emplace_back(podsNow[static_cast<std::size_t>(j)], j == i);
    publish(eps);  // pod i terminating
    podsNow[static_cast<std::size_t>(i)] = podIp(3, 200 + i);
    eps.clear();
    for (int j = 0; j < 10; ++j) eps.emplace_back(podsNow[static_cast<std::size_t>(j)], false);
    publish(eps);  // replaced
  }
  row.rollWallMs = ms(Clock::now() - r0);
  row.rollMutating = calls.mutatingCalls();

  // A periodic sync with nothing changed.
  calls.reset();
  double i0 = cpuMs();
  pipe->proxier->sync();
  row.idleCpuMs = cpuMs() - i0;
  row.idleCalls = calls.totalCalls();

  // Restart over the unchanged cluster: a new proxy over the same HNS.
  pipe.reset();
  calls.reset();
  auto s0 = Clock::now();
  Pipeline again(api.url(), calls, parallelism);
  again.source->start();
  while (!again.tracker.ready()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!again.proxier->initialize([] { return false; })) std::abort();
  again.proxier->sync();
  row.restartReadyMs = ms(Clock::now() - s0);
  row.restartMutating = calls.mutatingCalls();

  std::uint64_t e = 250 + row.remote;
  row.upCold = bench::coldStart(250, row.remote, row.lbs);
  row.upIdle = bench::idleSync(e, row.lbs);
  row.upChange = bench::endpointAdded(e, row.lbs, 1, true);
  row.upRestart = bench::restart(e, row.lbs);
  return row;
}

void svg(const std::vector<Row>& rows, const std::string& path) {
  // Two panels, log-scaled x (cluster size): event→programmed p50/p99 (ms), and HNS calls per
  // cold start and per idle sync, hnsproxy vs the upstream model.
  const double W = 900, H = 360, pad = 60;
  auto x = [&](double n) {
    double lo = std::log10(rows.front().n), hi = std::log10(std::max(rows.back().n, rows.front().n + 1));
    return pad + (std::log10(n) - lo) / std::max(hi - lo, 1e-9) * (W / 2 - 2 * pad);
  };
  std::ostringstream out;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='11'>\n";
  auto panel = [&](double ox, const std::string& title, const std::vector<std::pair<std::string, std::vector<double>>>& series,
                   const std::vector<std::string>& colors, bool logY) {
    double maxY = 1;
    for (const auto& [name, v] : series)
      for (double y : v) maxY = std::max(maxY, y);
    auto yOf = [&](double v) {
      double t = logY ? std::log10(std::max(v, 1.0)) / std::log10(std::max(maxY, 10.0)) : v / maxY;
      return H - pad - t * (H - 2 * pad);
    };
    out << "<text x='" << ox + pad << "' y='20' font-size='13'>" << title << "</text>\n";
    out << "<line x1='" << ox + pad << "' y1='" << H - pad << "' x2='" << ox + W / 2 - pad << "' y2='" << H - pad << "' stroke='black'/>\n";
    out << "<line x1='" << ox + pad << "' y1='" << pad << "' x2='" << ox + pad << "' y2='" << H - pad << "' stroke='black'/>\n";
    for (const auto& r : rows)
      out << "<text x='" << ox + x(r.n) - 10 << "' y='" << H - pad + 15 << "'>" << r.n << "</text>\n";
    out << "<text x='" << ox + pad - 45 << "' y='" << pad - 5 << "'>" << (logY ? "log " : "") << "max " << maxY << "</text>\n";
    for (std::size_t si = 0; si < series.size(); ++si) {
      std::string pts;
      for (std::size_t i = 0; i < rows.size(); ++i)
        pts += std::to_string(ox + x(rows[i].n)) + "," + std::to_string(yOf(series[si].second[i])) + " ";
      out << "<polyline fill='none' stroke='" << colors[si] << "' stroke-width='2' points='" << pts << "'/>\n";
      out << "<text x='" << ox + W / 2 - pad - 150 << "' y='" << pad + 15 * (si + 1) << "' fill='" << colors[si] << "'>"
          << series[si].first << "</text>\n";
    }
  };
  std::vector<double> p50, p99, cold, coldUp, idleUp;
  for (const auto& r : rows) {
    p50.push_back(r.changeP50);
    p99.push_back(r.changeP99);
    cold.push_back(static_cast<double>(r.coldCalls));
    coldUp.push_back(static_cast<double>(r.upCold.total));
    idleUp.push_back(static_cast<double>(r.upIdle.total));
  }
  panel(0, "endpoint change: event to programmed (ms)", {{"p50", p50}, {"p99", p99}}, {"#1f77b4", "#d62728"}, false);
  panel(W / 2, "HNS calls (log scale)", {{"cold start, hnsproxy", cold}, {"cold start, upstream model", coldUp},
                                        {"every idle sync, upstream model (hnsproxy: 0)", idleUp}},
        {"#2ca02c", "#ff7f0e", "#9467bd"}, true);
  out << "</svg>\n";
  std::ofstream(path) << out.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{100, 1000, 10000};
  int m = 10, k = 100, changes = 50, parallelism = 1;
  long latencyUs = 0;
  std::string jsonPath = "e2e-bench.json", svgPath = "e2e-bench.svg";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--quick") {
      sizes = {100, 1000};
      changes = 20;
    } else if (a == "--sizes") {
      sizes.clear();
      std::stringstream ss(next());
      std::string t;
      while (std::getline(ss, t, ',')) sizes.push_back(std::stoi(t));
    } else if (a == "--endpoints") m = std::stoi(next());
    else if (a == "--nodes") k = std::stoi(next());
    else if (a == "--changes") changes = std::stoi(next());
    else if (a == "--latency-us") latencyUs = std::stol(next());
    else if (a == "--parallelism") parallelism = std::stoi(next());
    else if (a == "--json") jsonPath = next();
    else if (a == "--svg") svgPath = next();
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  proxy::log::init({-1, true, "", 0, 0});  // quiet: errors only
  std::vector<Row> rows;
  for (int n : sizes) rows.push_back(runSize(n, m, k, changes, std::chrono::microseconds(latencyUs), parallelism));

  std::printf("\nhnsproxy end-to-end benchmark: test API server → watch → policy → programmer → HNS simulator\n");
  std::printf("%d endpoints per service over %d nodes; HNS latency %ld us per call; parallelism %d; %d changes per size\n\n",
              m, k, latencyUs, parallelism, changes);
  std::printf("%-44s", "services");
  for (const auto& r : rows) std::printf("%14d", r.n);
  std::printf("\n");
  auto line = [&](const char* what, auto f) {
    std::printf("%-44s", what);
    for (const auto& r : rows) std::printf("%14s", f(r).c_str());
    std::printf("\n");
  };
  auto d1 = [](double v) { char b[32]; std::snprintf(b, sizeof b, "%.1f", v); return std::string(b); };
  auto d3 = [](double v) { char b[32]; std::snprintf(b, sizeof b, "%.3f", v); return std::string(b); };
  auto u = [](std::uint64_t v) { return std::to_string(v); };
  line("load balancers / remote endpoints", [&](const Row& r) { return u(r.lbs) + "/" + u(r.remote); });
  line("list+cache from API server (ms)", [&](const Row& r) { return d1(r.listMs); });
  line("1 cold start: wall (ms)", [&](const Row& r) { return d1(r.coldWallMs); });
  line("  CPU (ms)", [&](const Row& r) { return d1(r.coldCpuMs); });
  line("  HNS calls (mutating)", [&](const Row& r) { return u(r.coldCalls) + " (" + u(r.coldMutating) + ")"; });
  line("  upstream model calls (mutating)*", [&](const Row& r) { return u(r.upCold.total) + " (" + u(r.upCold.mutating) + ")"; });
  line("2 endpoint change: p50 event->programmed (ms)", [&](const Row& r) { return d3(r.changeP50); });
  line("  p99 (ms)", [&](const Row& r) { return d3(r.changeP99); });
  line("  CPU per change (ms)", [&](const Row& r) { return d3(r.changeCpuMs); });
  line("  HNS calls per change (mutating)", [&](const Row& r) { return d1(r.callsPerChange) + " (" + d1(r.mutatingPerChange) + ")"; });
  line("  upstream model calls per change*", [&](const Row& r) { return u(r.upChange.total); });
  line("3 rolling update, 10 pods x 3 services (ms)", [&](const Row& r) { return d1(r.rollWallMs); });
  line("  HNS mutating calls", [&](const Row& r) { return u(r.rollMutating); });
  line("4 periodic sync, nothing changed: calls", [&](const Row& r) { return u(r.idleCalls); });
  line("  CPU (ms)", [&](const Row& r) { return d3(r.idleCpuMs); });
  line("  upstream model calls*", [&](const Row& r) { return u(r.upIdle.total); });
  line("5 restart: mutating HNS calls", [&](const Row& r) { return u(r.restartMutating); });
  line("  time until ready (ms)", [&](const Row& r) { return d1(r.restartReadyMs); });
  line("  upstream model mutating calls*", [&](const Row& r) { return u(r.upRestart.mutating); });
  line("6 RSS after cold start (MB)", [&](const Row& r) { return d1(r.rssKb / 1024.0); });
  std::printf("%-44s%14.1f\n", "  peak RSS, whole process (MB)", statusKb("VmHWM:") / 1024.0);
  std::printf("\n* upstream: the cost model of upstream-behaviour.md §2.8 (HCN-level calls), not a measurement.\n");

  json out = json::array();
  for (const auto& r : rows)
    out.push_back({{"services", r.n}, {"loadBalancers", r.lbs}, {"remoteEndpoints", r.remote}, {"listMs", r.listMs},
                   {"coldStart", {{"wallMs", r.coldWallMs}, {"cpuMs", r.coldCpuMs}, {"hnsCalls", r.coldCalls}, {"mutating", r.coldMutating},
                                  {"upstreamModelCalls", r.upCold.total}}},
                   {"endpointChange", {{"p50Ms", r.changeP50}, {"p99Ms", r.changeP99}, {"cpuMs", r.changeCpuMs},
                                       {"hnsCalls", r.callsPerChange}, {"mutating", r.mutatingPerChange}, {"upstreamModelCalls", r.upChange.total}}},
                   {"rollingUpdate", {{"wallMs", r.rollWallMs}, {"mutating", r.rollMutating}}},
                   {"idleSync", {{"hnsCalls", r.idleCalls}, {"cpuMs", r.idleCpuMs}, {"upstreamModelCalls", r.upIdle.total}}},
                   {"restart", {{"mutating", r.restartMutating}, {"readyMs", r.restartReadyMs}, {"upstreamModelMutating", r.upRestart.mutating}}},
                   {"rssMb", r.rssKb / 1024.0}});
  std::ofstream(jsonPath) << json{{"peakRssMb", statusKb("VmHWM:") / 1024.0}, {"latencyUs", latencyUs}, {"rows", out}}.dump(2) << "\n";
  svg(rows, svgPath);
  std::printf("wrote %s and %s\n", jsonPath.c_str(), svgPath.c_str());
  return 0;
}

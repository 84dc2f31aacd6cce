// The end-to-end benchmark. The driver (this process) serves a synthetic cluster from the in-repo
// test API server and plays churn on it; kube-proxy's side runs in a child process (this binary
// with --proxy-child): the real watch/ (reflectors) → proxy/ (change tracker, proxier) → policy/ →
// hns/ (programmer) path into the HNS simulator, in the child (--hns inproc) or in an hnssim
// daemon of its own (--hns daemon, so the child's memory is kube-proxy's alone). CPU and RSS are
// the child's own; event → programmed is measured from the driver's write to the child's end of
// sync on the shared monotonic clock.
//   e2e_bench [--quick] [--sizes 100,1000,10000] [--endpoints 10] [--nodes 100] [--changes 50] [--roll-pods 10]
//             [--repeat 3] [--latency-us 0] [--parallelism 1] [--hns inproc|daemon]
//             [--no-listing-cache] [--restart-latency-us N (daemon: HNS latency from the restart on)]
//             [--json FILE] [--svg FILE]
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "bench/upstream_model.h"
#include "hns/instrumented_api.h"
#include "hns/sim/simulated_hns.h"
#include "hns/sim/socket_api.h"
#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/logging.h"
#include "proxy/metrics.h"
#include "proxy/process_metrics.h"
#include "proxy/proxier.h"
#include "test_api_server.h"
#include "watch/kube_source.h"
#include "hns/tools/cli.h"

extern char** environ;

using namespace hnsproxy;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
std::int64_t nowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }
double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}
double cpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}
// Bytes malloc has handed out and not had back: from the heap and as blocks of their own (large
// vectors, the node pools' blocks), which mallinfo counts apart.
std::size_t heapInUse(const struct mallinfo2& mi) { return mi.uordblks + mi.hblkhd; }
std::size_t heapInUse() { return heapInUse(mallinfo2()); }
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
    return s[static_cast<std::size_t>(std::lround(q * static_cast<double>(s.size() - 1)))];
  }
  double mean() const {
    double t = 0;
    for (double x : v) t += x;
    return v.empty() ? 0 : t / static_cast<double>(v.size());
  }
  json j() const { return {{"p50", pct(0.5)}, {"p99", pct(0.99)}, {"max", pct(1.0)}, {"n", v.size()}}; }
};

// ----------------------------------------------------------------------------------------------
// The synthetic cluster.
// Services: 1 in 10 NodePort, 1 in 10 LoadBalancer with an ingress IP (1 in 20 of all with
// ETP=Local), 1 in 7 ClientIP affinity, 1 in 100 dual-stack, 1 in 2,000 (and at least one) above
// the backend cap (1,100 endpoints in 100-endpoint slices; the cap is 1,024 on HNS 15.6). Each
// service has M endpoints spread round-robin over K nodes, so most are remote; a node holds at
// most 250 pods, so at scale a pod backs several services. Services 0-2 share one 10-pod
// deployment (the rolling update's).

constexpr int kAboveCap = 1100;
std::string podIp(int node, int idx) {
  return "10." + std::to_string(128 + node / 256) + "." + std::to_string(node % 256) + "." + std::to_string(idx % 250 + 2);
}
std::string podIp6(int node, int idx) { return "fd00:10:" + std::to_string(node) + "::" + std::to_string(idx % 250 + 2); }
std::string nodeName(int node) { return "node-" + std::to_string(node); }

struct Cluster {
  int n, m, k;
  int rollPods = 10;  // the deployment behind services 0-2
  bool dualStack(int s) const { return s % 100 == 50; }
  bool aboveCap(int s) const { return s % 2000 == 1999 || (n < 2000 && s == n - 1); }
  bool special(int s) const { return s < 3 || dualStack(s) || aboveCap(s); }
  std::string name(int s) const { return "svc" + std::to_string(s); }
  std::string ns(int s) const { return "ns" + std::to_string(s % 50); }

  json service(int s, bool affinityFlip = false) const {
    std::string type = s % 10 == 0 ? "NodePort" : s % 10 == 1 ? "LoadBalancer" : "ClusterIP";
    json port{{"name", "http"}, {"protocol", "TCP"}, {"port", 80}, {"targetPort", 8080}};
    if (type != "ClusterIP") port["nodePort"] = 30000 + (s / 10 * 2 + s % 10) % 2768;  // unique below 13,840 services
    std::string cip = "10.96." + std::to_string(s / 250) + "." + std::to_string(s % 250 + 1);
    json svc{{"kind", "Service"},
             {"metadata", {{"name", name(s)}, {"namespace", ns(s)}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
             {"spec", {{"type", type}, {"clusterIP", cip}, {"ports", {port}}}}};
    if (dualStack(s)) {
      svc["spec"]["ipFamilyPolicy"] = "RequireDualStack";
      svc["spec"]["ipFamilies"] = {"IPv4", "IPv6"};
      svc["spec"]["clusterIPs"] = {cip, "fd00:96::" + std::to_string(s)};
    }
    if ((s % 7 == 0) != affinityFlip) svc["spec"]["sessionAffinity"] = "ClientIP";
    if (type == "LoadBalancer") {
      svc["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "20." + std::to_string(s / 62500) + "." + std::to_string(s / 250 % 250) + "." + std::to_string(s % 250 + 1)}}}}}}};
      if (s % 20 == 1) svc["spec"]["externalTrafficPolicy"] = "Local";
    }
    return svc;
  }
  static json slice(const std::string& ns, const std::string& svc, const std::string& name, const std::string& family, json eps) {
    return {{"kind", "EndpointSlice"}, {"addressType", family},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"kubernetes.io/service-name", svc}}}}},
            {"ports", {{{"name", "http"}, {"protocol", "TCP"}, {"port", 8080}}}}, {"endpoints", std::move(eps)}};
  }
  static json endpoint(const std::string& ip, int node, bool ready = true, bool terminating = false) {
    return {{"addresses", {ip}}, {"nodeName", nodeName(node)},
            {"conditions", {{"ready", ready}, {"serving", true}, {"terminating", terminating}}}};
  }
  // The deployment behind services 0-2: pod i of generation g (addresses no other pod has).
  static std::pair<std::string, int> deploymentPod(int i, int g) {
    return {"10.127." + std::to_string(g * 4 + i / 250) + "." + std::to_string(i % 250 + 2), 2 + g % 2};
  }
  static json deploymentSlice(int svc, const std::string& ns, const std::vector<int>& gens, int terminatingIdx) {
    json eps = json::array();
    for (int i = 0; i < static_cast<int>(gens.size()); ++i) {
      auto [ip, nd] = deploymentPod(i, gens[static_cast<std::size_t>(i)]);
      eps.push_back(endpoint(ip, nd, i != terminatingIdx, i == terminatingIdx));
    }
    return slice(ns, "svc" + std::to_string(svc), "svc" + std::to_string(svc) + "-abcde", "IPv4", eps);
  }

  // The endpoint slices of service s; `extra` adds one endpoint (scale up by one).
  std::vector<json> slices(int s, bool extra = false) const {
    std::vector<json> out;
    if (s < 3) {
      out.push_back(deploymentSlice(s, ns(s), std::vector<int>(static_cast<std::size_t>(rollPods), 0), -1));
      return out;
    }
    int count = aboveCap(s) ? kAboveCap : m;
    json eps = json::array();
    int part = 0;
    auto flush = [&] {
      out.push_back(slice(ns(s), name(s), name(s) + "-" + std::to_string(part++), "IPv4", eps));
      eps = json::array();
    };
    for (int e = 0; e < count; ++e) {
      long pod = static_cast<long>(s) * m + e;
      int node = static_cast<int>(pod % k);
      eps.push_back(endpoint(podIp(node, static_cast<int>(pod / k)), node));
      if (eps.size() == 100) flush();
    }
    if (extra) eps.push_back(endpoint("10.250." + std::to_string(s / 250 % 250) + "." + std::to_string(s % 250 + 1), 1));
    if (!eps.empty() || out.empty()) flush();
    if (dualStack(s)) {
      json v6 = json::array();
      for (int e = 0; e < m; ++e) {
        long pod = static_cast<long>(s) * m + e;
        int node = static_cast<int>(pod % k);
        v6.push_back(endpoint(podIp6(node, static_cast<int>(pod / k)), node));
      }
      out.push_back(slice(ns(s), name(s), name(s) + "-v6", "IPv6", v6));
    }
    return out;
  }
  // The first slice's name (the one `extra` changes).
  std::string firstSlice(int s) const { return s < 3 ? name(s) + "-abcde" : name(s) + "-0"; }

  void serve(test::TestApiServer& api) const {
    api.upsert("nodes", json{{"kind", "Node"},
                             {"metadata", {{"name", "node-0"}, {"labels", {{"topology.kubernetes.io/zone", "zone-a"}}}}},
                             {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "192.168.0.10"}},
                                                        {{"type", "InternalIP"}, {"address", "fd00:192:168::10"}}}}}}});
    for (int s = 0; s < n; ++s) {
      api.upsert("services", service(s));
      for (auto& sl : slices(s)) api.upsert("endpointslices", std::move(sl));
    }
  }
};

// The node's HNS before kube-proxy starts: an L2Bridge network and 250 local (CNI) endpoints,
// dual-stack ones for the node's pods.
void prepareNode(hns::Api& api) {
  auto net = api.create(hns::ObjectKind::Network, "", R"({"Name":"cbr0","Type":"L2Bridge"})", 0);
  if (!net) throw std::runtime_error("network: " + net.error().message);
  for (int i = 0; i < 250; ++i) {
    json cfg = {{{"IpAddress", podIp(0, i)}}, {{"IpAddress", podIp6(0, i)}}};
    auto e = api.create(hns::ObjectKind::Endpoint, "", json{{"Name", "pod" + std::to_string(i)}, {"IpConfigurations", cfg}}.dump(), *net);
    if (!e) throw std::runtime_error("endpoint: " + e.error().message);
    api.close(*e);
  }
  api.close(*net);
}

// CPU time spent inside the wrapped Api's calls, by the calling threads' own CPU clocks.
class CpuTimedApi final : public hns::Api {
 public:
  explicit CpuTimedApi(hns::Api& inner) : inner_(inner) {}
  HNSPROXY_HNS_API_OVERRIDES
  Result<std::vector<policy::HostAdapter>> hostAdapters() override { return inner_.hostAdapters(); }
  double cpuMs() const { return static_cast<double>(ns_.load()) / 1e6; }

 private:
  static std::int64_t threadCpuNs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  }
  template <typename F>
  auto timed(F&& f) {
    auto t0 = threadCpuNs();
    auto r = f();
    ns_ += threadCpuNs() - t0;
    return r;
  }
  hns::Api& inner_;
  std::atomic<std::int64_t> ns_{0};
};

Result<std::vector<std::string>> CpuTimedApi::enumerate(hns::ObjectKind k, const std::string& q) {
  return timed([&] { return inner_.enumerate(k, q); });
}
Result<hns::Handle> CpuTimedApi::open(hns::ObjectKind k, const std::string& id) {
  return timed([&] { return inner_.open(k, id); });
}
Result<std::string> CpuTimedApi::query(hns::Handle h, const std::string& q) {
  return timed([&] { return inner_.query(h, q); });
}
Result<hns::Handle> CpuTimedApi::create(hns::ObjectKind k, const std::string& id, const std::string& s, hns::Handle n) {
  return timed([&] { return inner_.create(k, id, s, n); });
}
Status CpuTimedApi::modify(hns::Handle h, const std::string& s) { return timed([&] { return inner_.modify(h, s); }); }
Status CpuTimedApi::remove(hns::ObjectKind k, const std::string& id) { return timed([&] { return inner_.remove(k, id); }); }
void CpuTimedApi::close(hns::Handle h) {
  timed([&] {
    inner_.close(h);
    return 0;
  });
}
Result<policy::HnsVersion> CpuTimedApi::version() { return timed([&] { return inner_.version(); }); }

// ----------------------------------------------------------------------------------------------
// The child: kube-proxy's side. Reads one command per line on stdin, answers one JSON line.

struct Pipeline {
  std::mutex mu;
  std::condition_variable cv;
  proxy::ChangeTracker tracker{"node-0"};
  proxy::Metrics metrics;
  proxy::ProxyHealth health{std::chrono::seconds(60)};
  std::unique_ptr<watch::KubeSource> source;
  std::unique_ptr<proxy::Proxier> proxier;
  // The reconciler's clock: steady time plus an offset the driver moves (a verification period is
  // measured without waiting it out).
  std::atomic<std::int64_t> offsetNs{0};
  // A sync waits for the verification slice in progress, and no new slice starts while a sync waits,
  // as in the daemon's sync runner (a pending change goes first). std::mutex is not fair: without
  // the flag, a slice loop re-locking at once could starve the sync.
  std::mutex reconcilerMu;
  std::atomic<int> syncsWaiting{0};
  Pipeline(const std::string& url, hns::Api& api, int parallelism, const std::string& listingCache) {
    tracker.setOnChange([this] {
      std::lock_guard<std::mutex> l(mu);
      cv.notify_all();
    });
    watch::ClientConfig cfg;
    cfg.server = url;
    cfg.token = "t0ken-v1";
    source = std::move(watch::KubeSource::create(cfg, "e2e-bench", "node-0", tracker, {}).value());
    hns::ReconcilerOptions o;
    o.node.nodeName = "node-0";
    o.networkName = "cbr0";
    o.programmer.parallelism = parallelism;
    o.verifyPeriod = std::chrono::minutes(5);  // the default; the driver moves the clock
    o.listingCache = listingCache;
    proxier = std::make_unique<proxy::Proxier>(o, api, tracker, metrics, health, [this] {
      return std::chrono::steady_clock::now() + std::chrono::nanoseconds(offsetNs.load());
    });
  }
  ~Pipeline() {
    (void)proxier->reconciler().saveListingCache();  // as the daemon does when it stops
    source->stop();
  }
  template <typename Pred>
  void waitFor(Pred p) {
    std::unique_lock<std::mutex> l(mu);
    while (!p()) cv.wait_for(l, std::chrono::milliseconds(100));
  }
  // As the daemon starts (proxy/run_modes.cc): the sources' lists and the start-up HNS listing
  // overlap; once both are done (and this node's Node is seen, for its addresses), the first sync.
  // Cold-start CPU is the listing's (this thread's clock: the reflectors decode meanwhile on theirs)
  // plus the whole process's during the first sync.
  json start() {
    auto t0 = Clock::now();
    double p0 = cpuMs();
    source->start();
    double l0 = threadCpuMs();
    if (!proxier->initialize([] { return false; })) throw std::runtime_error("initialize failed");
    double listingCpu = threadCpuMs() - l0;
    auto listed = Clock::now();
    waitFor([&] { return tracker.ready() && tracker.nodeSynced(); });
    auto synced = Clock::now();
    // The watch threads' CPU until synced: lists read and decoded, the tracker fed (the process's
    // CPU over the window without this thread's HNS listing, which ran beside them).
    double sourcesCpu = cpuMs() - p0 - listingCpu;
    std::size_t heapReady = heapInUse();  // (mallinfo2 walks the heap: outside the timings)
    long rssReady = statusKb("VmRSS:"), hwmReady = statusKb("VmHWM:");
    auto t2 = Clock::now();
    double c0 = cpuMs();
    bool ok = proxier->sync();
    auto t3 = Clock::now();
    const auto& st = proxier->startInfo();
    return {{"fromCache", st.fromCache}, {"queried", st.queried}, {"sourcesMs", ms(synced - t0)}, {"listingMs", ms(listed - t0)},
            {"programMs", ms(t3 - t2)}, {"coldMs", ms(listed - t0) + ms(t3 - t2)}, {"readyMs", ms(t3 - t0) - ms(t2 - synced)},
            {"cpuMs", listingCpu + cpuMs() - c0}, {"sourcesCpuMs", sourcesCpu}, {"ok", ok}, {"heapReadyKb", heapReady / 1024}, {"rssReadyKb", rssReady},
            {"hwmReadyKb", hwmReady}, {"heapProgrammedKb", heapInUse() / 1024}};
  }
};

int childMain(const std::string& url, const std::string& hnsSocket, long latencyUs, int parallelism,
              const std::string& listingCache) {
  std::unique_ptr<hns::Api> base;
  if (hnsSocket.empty()) {
    auto sim = std::make_unique<hns::SimulatedHns>(*hns::profileByName("ws2025-updated"));
    prepareNode(*sim);
    sim->setLatency(std::chrono::microseconds(latencyUs));
    base = std::move(sim);
  } else {
    base = std::make_unique<hns::SocketApi>(hnsSocket);
  }
  // With the simulator in this process, its calls run on kube-proxy's threads: the CPU they use
  // (measured with each calling thread's CPU clock, so a simulated latency costs nothing) is HNS's
  // work, not kube-proxy's, and is reported apart.
  CpuTimedApi timed(*base);
  hns::InstrumentedApi calls(timed);
  std::unique_ptr<Pipeline> pipe;
  bool hnsInProcess = hnsSocket.empty();
  auto hnsCpuMs = [&] { return hnsInProcess ? timed.cpuMs() : 0.0; };
  auto counters = [&](json j) {
    j["hnsCpuMs"] = hnsCpuMs();
    j["cpuMs"] = j.contains("cpuMs") ? j["cpuMs"] : json(cpuMs());
    j["calls"] = calls.totalCalls();
    j["mutating"] = calls.mutatingCalls();
    j["doneNs"] = nowNs();
    return j;
  };
  std::thread background;
  std::atomic<bool> backgroundStop{false};
  std::atomic<std::uint64_t> backgroundSlices{0};
  auto stopBackground = [&] {
    backgroundStop = true;
    if (background.joinable()) background.join();
    backgroundStop = false;
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    json reply;
    try {
      if (cmd == "start" || cmd == "restart") {
        stopBackground();
        pipe.reset();
        calls.reset();
        json r = (pipe = std::make_unique<Pipeline>(url, calls, parallelism, listingCache))->start();
        json byKind = json::object();
        for (const auto& [k, st] : calls.stats()) byKind[k] = st.total();
        r["byKind"] = byKind;
        r["lbs"] = pipe->proxier->reconciler().applied().loadBalancers.size();
        r["remote"] = pipe->proxier->reconciler().applied().endpoints.size();
        r["rssKb"] = statusKb("VmRSS:");
        reply = counters(r);  // keeps r's cpuMs: the cold start's own
      } else if (cmd == "sync") {  // sync E S: wait for E pending slices and S pending services
        std::size_t e = 0, s = 0;
        in >> e >> s;
        pipe->waitFor([&] { return pipe->tracker.pendingEndpoints() >= e && pipe->tracker.pendingServices() >= s; });
        ++pipe->syncsWaiting;
        std::unique_lock<std::mutex> lock(pipe->reconcilerMu);
        --pipe->syncsWaiting;
        bool ok = pipe->proxier->sync();
        reply = counters({{"ok", ok}});
      } else if (cmd == "verify-bg") {  // verify-bg on|off: full re-reads, slice after slice, between syncs
        std::string on;
        in >> on;
        stopBackground();
        if (on == "on") {
          background = std::thread([&, p = pipe.get()] {
            while (!backgroundStop) {
              while (p->syncsWaiting.load() > 0 && !backgroundStop) std::this_thread::yield();
              std::lock_guard<std::mutex> lock(p->reconcilerMu);
              if (p->proxier->verificationDue() > std::chrono::steady_clock::now() + std::chrono::nanoseconds(p->offsetNs.load()))
                p->proxier->requestVerification();  // one re-read done: start the next
              p->proxier->verify();
              ++backgroundSlices;
            }
          });
        }
        reply = counters({{"slices", backgroundSlices.load()}});
      } else if (cmd == "verify-full") {  // a re-read of the whole node, slice after slice
        std::lock_guard<std::mutex> lock(pipe->reconcilerMu);
        auto t0 = Clock::now();
        auto c0 = calls.totalCalls();
        pipe->proxier->requestVerification();
        std::size_t slices = 0;
        while (pipe->proxier->verificationDue() <= std::chrono::steady_clock::now() + std::chrono::nanoseconds(pipe->offsetNs.load())) {
          pipe->proxier->verify();
          ++slices;
        }
        reply = counters({{"ms", ms(Clock::now() - t0)}, {"reads", calls.totalCalls() - c0}, {"slices", slices}});
      } else if (cmd == "verify-period") {  // one verification period with nothing changing: its calls
        std::lock_guard<std::mutex> lock(pipe->reconcilerMu);
        auto c0 = calls.totalCalls();
        auto t0 = Clock::now();
        const std::int64_t period = std::chrono::nanoseconds(std::chrono::minutes(5)).count();
        for (int step = 0; step < 100; ++step) {
          pipe->offsetNs += period / 100;
          while (pipe->proxier->verificationDue() <= std::chrono::steady_clock::now() + std::chrono::nanoseconds(pipe->offsetNs.load()))
            pipe->proxier->verify();
        }
        reply = counters({{"periodCalls", calls.totalCalls() - c0}, {"ms", ms(Clock::now() - t0)}});
      } else if (cmd == "stats") {
        reply = counters({{"rssKb", statusKb("VmRSS:")}, {"hwmKb", statusKb("VmHWM:")}});
      } else if (cmd == "heap") {  // mallinfo2 walks the heap: not for timed windows
        auto mi = mallinfo2();
        reply = counters({{"heapInUseKb", heapInUse(mi) / 1024}, {"heapFreeKb", mi.fordblks / 1024}, {"arenaKb", mi.arena / 1024}});
      } else if (cmd == "quit") {
        stopBackground();
        break;
      } else {
        reply = {{"error", "unknown command " + cmd}};
      }
    } catch (const std::exception& ex) {
      reply = {{"error", ex.what()}};
    }
    std::cout << reply.dump() << std::endl;
  }
  stopBackground();
  pipe.reset();
  return 0;
}

// ----------------------------------------------------------------------------------------------
// The driver.

std::string selfDir() { return std::filesystem::read_symlink("/proc/self/exe").parent_path().string(); }

class Process {
 public:
  // stdin and stdout are pipes to this process; stderr goes to `errPath` (appended) when given.
  explicit Process(const std::vector<std::string>& argv, const std::string& errPath = "") {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (!errPath.empty()) posix_spawn_file_actions_addopen(&fa, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) throw std::runtime_error("cannot start " + argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  // Closing stdin ends a child; a daemon (or a child that does not end in `grace`) gets SIGTERM.
  ~Process() {
    if (to_) std::fclose(to_);
    int st = 0;
    for (auto end = Clock::now() + grace; pid_ > 0 && Clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(5)))
      if (waitpid(pid_, &st, WNOHANG) == pid_) pid_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, &st, 0);
    }
    if (from_) std::fclose(from_);
  }
  std::chrono::milliseconds grace{60000};
  std::string readLine() {
    std::string s;
    for (int c; (c = std::fgetc(from_)) != EOF && c != '\n';) s.push_back(static_cast<char>(c));
    return s;
  }
  void send(const std::string& line) {
    std::fputs((line + "\n").c_str(), to_);
    std::fflush(to_);
  }
  json cmd(const std::string& line) {
    send(line);
    std::string r = readLine();
    while (!r.empty() && r[0] != '{') r = readLine();  // a profiler wrapping the child may print first
    auto reply = json::parse(r, nullptr, false);
    if (reply.is_discarded() || reply.contains("error"))
      throw std::runtime_error("child: " + line + ": " + (reply.is_discarded() ? "no answer" : reply["error"].get<std::string>()));
    return reply;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

struct Options {
  std::vector<int> sizes{100, 1000, 10000};
  int m = 10, k = 100, changes = 50, repeat = 3, parallelism = 1;
  int rollPods = 10;  // the rolling update's deployment size
  long latencyUs = 0;
  long restartLatencyUs = -1;  // >= 0: the hnssim daemon's latency from the restart on
  bool listingCache = true;  // kube-proxy keeps --hns-listing-cache (a file per size, removed after)
  bool daemon = false;
  bool memoryModel = true;
  bool hnsSerial = false;  // hnssim --serial: HNS serves one call at a time
  std::string childLog = (std::filesystem::temp_directory_path() / "e2e-bench-child.log").string();  // the children's klog output
  int childVerbosity = 0;
  bool manifestYaml = false;  // --manifest-format yaml: the Lists written as YAML (block style)
};

// An HNS for one child: the child's own simulator, or an hnssim daemon prepared like the node.
struct Hns {
  std::unique_ptr<Process> daemon;
  std::string socket;
  Hns(const Options& o, int id) {
    if (!o.daemon) return;
    socket = (std::filesystem::temp_directory_path() / ("e2e-bench-" + std::to_string(getpid()) + "-" + std::to_string(id) + ".sock")).string();
    std::vector<std::string> argv{selfDir() + "/../hns/hnssim", "--socket", socket, "--profile", "ws2025-updated",
                                  "--latency-us", std::to_string(o.latencyUs)};
    if (o.hnsSerial) argv.push_back("--serial");
    daemon = std::make_unique<Process>(argv);
    daemon->grace = std::chrono::milliseconds(0);
    daemon->readLine();  // "hnssim: serving ..."
    hns::SocketApi api(socket);
    prepareNode(api);
  }
  ~Hns() { daemon.reset(); std::filesystem::remove(socket); }
};

// E2E_CHILD_WRAPPER runs the child under a profiler, e.g. "perf record -g -o perf.data" or
// "heaptrack -o kube-proxy" (words split on spaces; the wrapper's program needs a full path).
std::vector<std::string> childWrapper() {
  std::vector<std::string> w;
  if (const char* e = std::getenv("E2E_CHILD_WRAPPER")) {
    std::istringstream in(e);
    for (std::string t; in >> t;) w.push_back(t);
  }
  return w;
}

std::unique_ptr<Process> spawnChild(const Options& o, const std::string& url, const Hns& h, const std::string& cache = "") {
  std::vector<std::string> argv = childWrapper();
  std::vector<std::string> own{
      selfDir() + "/e2e_bench", "--proxy-child", url, "--hns-socket", h.socket.empty() ? "-" : h.socket, "--latency-us",
      std::to_string(o.latencyUs), "--parallelism", std::to_string(o.parallelism), "--v", std::to_string(o.childVerbosity),
      "--listing-cache", cache.empty() ? "-" : cache};
  argv.insert(argv.end(), own.begin(), own.end());
  return std::make_unique<Process>(argv, o.childLog);
}

struct Churn {  // one kind of change, measured over several events
  Dist latencyMs, cpuMs, ownCpuMs, calls, mutating;
  void add(std::int64_t eventNs, const json& before, const json& after) {
    latencyMs.v.push_back(static_cast<double>(after["doneNs"].get<std::int64_t>() - eventNs) / 1e6);
    cpuMs.v.push_back(after["cpuMs"].get<double>() - before["cpuMs"].get<double>());
    ownCpuMs.v.push_back(cpuMs.v.back() - (after["hnsCpuMs"].get<double>() - before["hnsCpuMs"].get<double>()));
    calls.v.push_back(after["calls"].get<double>() - before["calls"].get<double>());
    mutating.v.push_back(after["mutating"].get<double>() - before["mutating"].get<double>());
  }
  json j() const {
    return {{"latencyMs", latencyMs.j()}, {"cpuMs", {{"mean", cpuMs.mean()}, {"p50", cpuMs.pct(0.5)}}},
            {"kubeProxyCpuMs", {{"mean", ownCpuMs.mean()}, {"p50", ownCpuMs.pct(0.5)}}},
            {"hnsCalls", calls.mean()}, {"mutating", mutating.mean()}};
  }
};

struct Row {
  int n = 0;
  std::uint64_t lbs = 0, remote = 0;
  Dist sourcesMs, sourcesCpuMs, listingMs, programMs, coldMs, coldCpuMs, coldOwnCpuMs;
  std::uint64_t coldCalls = 0, coldMutating = 0;
  json coldByKind;
  Churn endpoint, roll, svcAdd, svcRemove, spec;
  Churn duringVerify;  // endpoint +1/-1 while a full re-read of the node runs
  std::uint64_t verifyPeriodCalls = 0, fullReadCalls = 0;
  double fullReadMs = 0;
  double rollTotalMs = 0;
  std::uint64_t rollMutating = 0;
  std::uint64_t idleCalls = 0;
  double idleCpuMs = 0;
  std::uint64_t restartMutating = 0, restartCalls = 0, restartFromCache = 0, restartQueried = 0;
  double restartReadyMs = 0, restartListingMs = 0, restartSourcesMs = 0, restartFirstChangeMs = 0;
  std::uint64_t rollUpstreamCalls = 0;
  long rssKb = 0, hwmKb = 0, rssSyncedKb = 0, rssColdKb = 0, heapColdKb = 0, restartHwmKb = 0;
  json manifests;  // manifestRuns(), with --manifests
  bench::UpstreamCalls upCold, upIdle, upChange, upRestart;
  // Upstream's calls one after another at the run's latency, seconds (the model's time).
  double upstreamSeconds(const bench::UpstreamCalls& c, long latencyUs) const { return static_cast<double>(c.total) * latencyUs / 1e6; }
};

Row runSize(const Options& o, int n) {
  Row row;
  row.n = n;
  Cluster cl{n, o.m, o.k, o.rollPods};
  test::TestApiServer api(test::TestApiServer::Options{false, "t0ken-v1"});
  cl.serve(api);
  std::fprintf(stderr, "[%d services] served\n", n);
  const std::string cache =
      o.listingCache ? (std::filesystem::temp_directory_path() / ("e2e-bench-" + std::to_string(getpid()) + "-" + std::to_string(n) + ".cache")).string()
                     : "";
  struct RemoveCache {
    std::string path;
    ~RemoveCache() { if (!path.empty()) std::filesystem::remove(path); }
  } removeCache{cache};

  // 1. Cold start, repeated: each run a new kube-proxy over a new (empty) node.
  std::unique_ptr<Hns> hnsNode;
  std::unique_ptr<Process> child;
  for (int r = 0; r < o.repeat; ++r) {
    child.reset();
    hnsNode = std::make_unique<Hns>(o, r);
    if (!cache.empty()) std::filesystem::remove(cache);  // a fresh node
    child = spawnChild(o, api.url(), *hnsNode, cache);
    json s = child->cmd("start");
    row.sourcesMs.v.push_back(s["sourcesMs"]);
    row.sourcesCpuMs.v.push_back(s["sourcesCpuMs"]);
    row.listingMs.v.push_back(s["listingMs"]);
    row.programMs.v.push_back(s["programMs"]);
    row.coldMs.v.push_back(s["coldMs"]);
    row.coldCpuMs.v.push_back(s["cpuMs"]);
    row.coldOwnCpuMs.v.push_back(s["cpuMs"].get<double>() - s["hnsCpuMs"].get<double>());
    row.coldCalls = s["calls"];
    row.coldMutating = s["mutating"];
    row.coldByKind = s["byKind"];
    row.lbs = s["lbs"];
    row.remote = s["remote"];
    if (!s["ok"].get<bool>()) std::fprintf(stderr, "cold start reported failures\n");
    row.rssSyncedKb = s["rssReadyKb"];
    row.rssColdKb = s["rssKb"];
    row.heapColdKb = s["heapProgrammedKb"];
  }
  std::fprintf(stderr, "[%d services] cold start done\n", n);

  auto publish = [&](const std::vector<json>& slices, const std::vector<json>& services, std::size_t removedSlices = 0,
                     std::size_t removedServices = 0, const std::function<void()>& removals = {}) {
    json before = child->cmd("stats");
    std::int64_t t = nowNs();
    for (const auto& s : services) api.upsert("services", s);
    for (const auto& s : slices) api.upsert("endpointslices", s);
    if (removals) removals();
    json after = child->cmd("sync " + std::to_string(slices.size() + removedSlices) + " " +
                            std::to_string(services.size() + removedServices));
    return std::make_tuple(t, before, after);
  };

  // 2. One endpoint added to one service, then removed again (scale up / down by one).
  double changesFrom = static_cast<double>(nowNs()) / 1e9;
  for (int c = 0; c < o.changes; ++c) {
    int s = (c / 2 * 7919) % n;
    while (cl.special(s)) s = (s + 1) % n;
    auto [t, b, a] = publish({cl.slices(s, c % 2 == 0).front()}, {});
    row.endpoint.add(t, b, a);
  }
  // On CLOCK_MONOTONIC, for profiles: perf record -k mono ..., then perf report --time FROM,TO.
  std::fprintf(stderr, "[%d services] endpoint changes from %.6f to %.6f\n", n, changesFrom, static_cast<double>(nowNs()) / 1e9);

  // 3. A rolling update of the deployment behind services 0-2: each pod terminating, then replaced.
  {
    std::vector<int> gens(static_cast<std::size_t>(o.rollPods), 0);
    json first = child->cmd("stats");
    auto r0 = nowNs();
    for (int i = 0; i < o.rollPods; ++i) {
      for (int step = 0; step < 2; ++step) {
        if (step == 1) gens[static_cast<std::size_t>(i)] = 1;
        std::vector<json> sl;
        for (int svc = 0; svc < 3; ++svc) sl.push_back(Cluster::deploymentSlice(svc, cl.ns(svc), gens, step == 0 ? i : -1));
        auto [t, b, a] = publish(sl, {});
        row.roll.add(t, b, a);
        if (i == o.rollPods - 1 && step == 1) {
          row.rollTotalMs = static_cast<double>(a["doneNs"].get<std::int64_t>() - r0) / 1e6;
          row.rollMutating = a["mutating"].get<std::uint64_t>() - first["mutating"].get<std::uint64_t>();
        }
      }
    }
  }

  // 4. Services added and removed (with their slices), and a Service spec changed (ClientIP
  //    affinity switched on or off: every load balancer of the service changes its distribution).
  int adds = std::max(1, o.changes / 4);
  for (int i = 0; i < adds; ++i) {
    int s = n + i;  // a new service number, outside the served range
    Cluster big{1 << 30, o.m, o.k};
    auto [t, b, a] = publish(big.slices(s), {big.service(s)});
    row.svcAdd.add(t, b, a);
  }
  for (int i = 0; i < adds; ++i) {
    int s = n + i;
    Cluster big{1 << 30, o.m, o.k};
    auto sl = big.slices(s);
    auto [t, b, a] = publish({}, {}, sl.size(), 1, [&] {
      api.remove("services", big.ns(s), big.name(s));
      for (const auto& x : sl) api.remove("endpointslices", x["metadata"]["namespace"], x["metadata"]["name"]);
    });
    row.svcRemove.add(t, b, a);
  }
  for (int c = 0; c < o.changes; ++c) {
    int s = (c / 2 * 104729 + 3) % n;
    while (cl.special(s)) s = (s + 1) % n;
    auto [t, b, a] = publish({}, {cl.service(s, c % 2 == 0)});
    row.spec.add(t, b, a);
  }
  std::fprintf(stderr, "[%d services] churn done\n", n);

  // 5. A periodic sync with nothing changed.
  {
    json b = child->cmd("stats");
    json a = child->cmd("sync 0 0");
    row.idleCalls = a["calls"].get<std::uint64_t>() - b["calls"].get<std::uint64_t>();
    row.idleCpuMs = a["cpuMs"].get<double>() - b["cpuMs"].get<double>();
  }
  // 6. Verification: a period with nothing changing, a re-read of the whole node, and endpoint
  //    changes while re-reads run (slice after slice, as the daemon does after an HNS notification).
  {
    json vp = child->cmd("verify-period");
    row.verifyPeriodCalls = vp["periodCalls"];
    json vf = child->cmd("verify-full");
    row.fullReadMs = vf["ms"];
    row.fullReadCalls = vf["reads"];
    child->cmd("verify-bg on");
    for (int c = 0; c < o.changes; ++c) {
      int s = (c / 2 * 6007 + 11) % n;
      while (cl.special(s)) s = (s + 1) % n;
      auto [t, b, a] = publish({cl.slices(s, c % 2 == 0).front()}, {});
      row.duringVerify.add(t, b, a);
    }
    child->cmd("verify-bg off");
    std::fprintf(stderr, "[%d services] verification done\n", n);
  }
  json st = child->cmd("stats");
  row.rssKb = st["rssKb"];
  row.hwmKb = st["hwmKb"];

  // 7. Restart over the unchanged cluster: a new kube-proxy process over the same HNS daemon; with
  //    the simulator in the child, a new proxy in the same process.
  //    Then one endpoint change: restart → that change programmed is what an operator waits for
  //    (the sources' list, HNS read back, the first sync, then the change).
  json rs;
  auto restartAt = nowNs();
  if (o.daemon) {
    child.reset();
    if (o.restartLatencyUs >= 0) {
      hns::SocketApi ctl(hnsNode->socket);
      if (!ctl.call(json{{"op", "latency"}, {"micros", o.restartLatencyUs}})) throw std::runtime_error("cannot set hnssim's latency");
    }
    restartAt = nowNs();
    child = spawnChild(o, api.url(), *hnsNode, cache);
    rs = child->cmd("start");
  } else {
    rs = child->cmd("restart");
  }
  row.restartReadyMs = rs["readyMs"];
  row.restartSourcesMs = rs["sourcesMs"];
  row.restartListingMs = rs["listingMs"];
  row.restartMutating = rs["mutating"];
  row.restartCalls = rs["calls"];
  row.restartFromCache = rs["fromCache"];
  row.restartQueried = rs["queried"];
  {
    int s = 7;
    while (cl.special(s)) s = (s + 1) % n;
    auto [t, b, a] = publish({cl.slices(s, true).front()}, {});
    (void)t;
    (void)b;
    row.restartFirstChangeMs = static_cast<double>(a["doneNs"].get<std::int64_t>() - restartAt) / 1e6;
  }
  if (o.daemon) row.restartHwmKb = child->cmd("stats")["hwmKb"];
  child.reset();
  hnsNode.reset();

  std::uint64_t e = 250 + row.remote;
  row.upCold = bench::coldStart(250, row.remote, row.lbs);
  row.upIdle = bench::idleSync(e, row.lbs);
  row.upChange = bench::endpointAdded(e, row.lbs, 1, true);
  row.upRestart = bench::restart(e, row.lbs);
  // Each step of the rolling update is an endpoint change to the 3 services' load balancers.
  row.rollUpstreamCalls = static_cast<std::uint64_t>(2 * o.rollPods) * bench::endpointAdded(e, row.lbs, 3, true).total;
  return row;
}

// Bytes per service and per endpoint, for N services with M and 4M endpoints each and with no
// services (HNS in a daemon, after the cold start): of the heap in use (what kube-proxy's state
// holds, allocator overhead per block included) and of the RSS (what the process costs; it also
// holds free pages the allocator keeps, so it moves by a few MB from run to run).
json memoryModel(const Options& base, int n) {
  Options o = base;
  o.daemon = true;
  struct Mem {
    double rss, heap;
  };
  auto measure = [&](int services, int m) {
    Cluster cl{services, m, o.k};
    test::TestApiServer api(test::TestApiServer::Options{false, "t0ken-v1"});
    cl.serve(api);
    Hns h(o, 100 + m);
    auto child = spawnChild(o, api.url(), h);
    child->cmd("start");
    return Mem{child->cmd("stats")["rssKb"].get<double>() * 1024, child->cmd("heap")["heapInUseKb"].get<double>() * 1024};
  };
  const Mem empty = measure(0, o.m), small = measure(n, o.m), large = measure(n, 4 * o.m);
  auto fit = [&](double Mem::*f) {
    double perEndpoint = (large.*f - small.*f) / (static_cast<double>(n) * 3 * o.m);
    double perService = (small.*f - empty.*f - perEndpoint * n * o.m) / n;
    return json{{"baseMb", empty.*f / 1048576}, {"bytesPerService", perService}, {"bytesPerEndpoint", perEndpoint},
                {"bytesPerServiceWithItsEndpoints", perService + perEndpoint * o.m}};
  };
  json rss = fit(&Mem::rss);
  rss["services"] = n;
  rss["heap"] = fit(&Mem::heap);
  return rss;
}

// A JSON value as YAML, through yaml-cpp's emitter (strings quoted where YAML would read them as
// something else: the emitter decides).
void emitYaml(YAML::Emitter& e, const json& v) {
  if (v.is_object()) {
    e << YAML::BeginMap;
    for (const auto& [k, x] : v.items()) {
      e << YAML::Key << k << YAML::Value;
      emitYaml(e, x);
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& x : v) emitYaml(e, x);
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    e << YAML::DoubleQuoted << v.get<std::string>();
  } else if (v.is_null()) {
    e << YAML::Null;
  } else {
    e << v.dump();  // numbers and booleans, as JSON writes them (valid plain YAML scalars)
  }
}

// kube-proxy itself (the built program) on the cluster written as manifest files: one List file of
// the Services, one of the EndpointSlices, the Node; HNS in an hnssim daemon prepared as for the
// other runs. --dry-run (list HNS, compute, print the plan) and --sync-once (program it), each a
// fresh node: the peak RSS and CPU the kernel accounts to the process.
json manifestRuns(const Options& base, int n) {
  Options o = base;
  o.daemon = true;
  Cluster cl{n, o.m, o.k};
  cl.rollPods = o.rollPods;
  const auto dir = std::filesystem::temp_directory_path() / ("e2e-bench-manifests-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string ext = o.manifestYaml ? ".yaml" : ".json";
  if (o.manifestYaml) {
    // What `kubectl get -o yaml` writes: one document of kind List, each item a block mapping.
    std::ofstream svc(dir / "services.yaml"), eps(dir / "endpointslices.yaml");
    YAML::Emitter es(svc), ee(eps);
    for (auto* e : {&es, &ee}) *e << YAML::BeginMap << YAML::Key << "apiVersion" << YAML::Value << "v1" << YAML::Key << "kind"
                                  << YAML::Value << "List" << YAML::Key << "items" << YAML::Value << YAML::BeginSeq;
    for (int s = 0; s < n; ++s) {
      emitYaml(es, cl.service(s));
      for (const auto& sl : cl.slices(s)) emitYaml(ee, sl);
    }
    for (auto* e : {&es, &ee}) *e << YAML::EndSeq << YAML::EndMap;
    svc << "\n";
    eps << "\n";
  } else {
    std::ofstream svc(dir / "services.json"), eps(dir / "endpointslices.json");
    svc << R"({"apiVersion":"v1","kind":"List","items":[)";
    eps << R"({"apiVersion":"v1","kind":"List","items":[)";
    bool firstSlice = true;
    for (int s = 0; s < n; ++s) {
      svc << (s ? "," : "") << cl.service(s).dump();
      for (const auto& sl : cl.slices(s)) {
        eps << (firstSlice ? "" : ",") << sl.dump();
        firstSlice = false;
      }
    }
    svc << "]}\n";
    eps << "]}\n";
  }
  {
    std::ofstream(dir / "node.json") << json{{"kind", "Node"},
                                             {"metadata", {{"name", "node-0"}}},
                                             {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "192.168.0.10"}}}}}}}
                                            .dump();
  }
  const double mb = static_cast<double>(std::filesystem::file_size(dir / ("services" + ext)) +
                                        std::filesystem::file_size(dir / ("endpointslices" + ext))) / 1048576.0;
  json out{{"manifestMb", mb}, {"format", o.manifestYaml ? "yaml" : "json"}};
  for (const char* mode : {"--dry-run", "--sync-once"}) {
    Hns h(o, 900);
    std::vector<std::string> argv{selfDir() + "/../proxy/kube-proxy", "--manifest-dir=" + dir.string(), "--hns-sim-socket=" + h.socket,
                                  "--hostname-override=node-0", "--network-name=cbr0", mode};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);  // --dry-run prints every operation
    posix_spawn_file_actions_addopen(&fa, 2, o.childLog.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
    auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) throw std::runtime_error("cannot start kube-proxy");
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    out[mode + 2] = {{"peakRssMb", static_cast<double>(ru.ru_maxrss) / 1024.0}, {"cpuS", cpu}, {"wallS", wall},
                     {"exitCode", WIFEXITED(status) ? WEXITSTATUS(status) : -1}};
  }
  std::filesystem::remove_all(dir);
  return out;
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
  std::vector<double> p50, p99, cold, coldUp, idle, idleUp;
  for (const auto& r : rows) {
    p50.push_back(r.endpoint.latencyMs.pct(0.5));
    p99.push_back(r.endpoint.latencyMs.pct(0.99));
    cold.push_back(static_cast<double>(r.coldCalls));
    coldUp.push_back(static_cast<double>(r.upCold.total));
    idle.push_back(static_cast<double>(r.idleCalls));  // measured (0 draws at the axis)
    idleUp.push_back(static_cast<double>(r.upIdle.total));
  }
  panel(0, "endpoint change: event to programmed (ms)", {{"p50", p50}, {"p99", p99}}, {"#1f77b4", "#d62728"}, false);
  panel(W / 2, "HNS calls (log scale)",
        {{"cold start, hnsproxy (measured)", cold}, {"cold start, upstream (model)", coldUp},
         {"every idle sync, hnsproxy (measured)", idle}, {"every idle sync, upstream (model)", idleUp}},
        {"#2ca02c", "#ff7f0e", "#17becf", "#9467bd"}, true);
  out << "</svg>\n";
  std::ofstream(path) << out.str();
}

std::string d1(double v) { char b[32]; std::snprintf(b, sizeof b, "%.1f", v); return b; }
std::string d3(double v) { char b[32]; std::snprintf(b, sizeof b, "%.3f", v); return b; }
std::string u(std::uint64_t v) { return std::to_string(v); }
std::string pp(const Dist& d, std::string (*f)(double)) { return f(d.pct(0.5)) + " / " + f(d.pct(0.99)); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  namespace po = hns::po;
  po::options_description options("options");
  options.add_options()  //
      ("quick", po::bool_switch(), "sizes 100 and 1,000, 20 changes, 2 repetitions")
      ("sizes", po::value<std::string>()->default_value("100,1000,10000"), "service counts, comma-separated")
      ("endpoints", po::value<int>(&o.m)->default_value(o.m), "endpoints per service")
      ("nodes", po::value<int>(&o.k)->default_value(o.k), "the cluster's nodes (1,000: every endpoint its own pod)")
      ("changes", po::value<int>()->default_value(o.changes), "endpoint and spec changes per size (at least 2)")
      ("repeat", po::value<int>()->default_value(o.repeat), "cold starts per size")
      ("latency-us", po::value<long>(&o.latencyUs)->default_value(o.latencyUs), "HNS latency per call, microseconds")
      ("parallelism", po::value<int>(&o.parallelism)->default_value(o.parallelism), "the programmer's HNS calls at once")
      ("roll-pods", po::value<int>()->default_value(o.rollPods), "the rolling update's deployment (1 to 500)")
      ("no-listing-cache", po::bool_switch(), "kube-proxy keeps no listing cache")
      ("restart-latency-us", po::value<long>(&o.restartLatencyUs)->default_value(o.restartLatencyUs),
       "daemon: HNS latency from the restart on (-1: unchanged)")
      ("hns", po::value<std::string>()->default_value("inproc"), "inproc (the child's own simulator) or daemon (hnssim)")
      ("no-memory-model", po::bool_switch(), "skip the memory model runs")
      ("manifests", po::bool_switch(), "also run kube-proxy --dry-run and --sync-once on the cluster as manifest files")
      ("manifests-only", po::bool_switch(), "only those runs (their results as JSON on stdout)")
      ("manifest-format", po::value<std::string>()->default_value("json"), "the manifest files: json or yaml (kubectl's -o yaml)")
      ("hns-serial", po::bool_switch(), "hnssim --serial: HNS serves one call at a time")
      ("child-log", po::value<std::string>(&o.childLog)->default_value(o.childLog), "the children's klog output")
      ("v", po::value<int>(&o.childVerbosity)->default_value(o.childVerbosity), "the children's log verbosity")
      ("json", po::value<std::string>()->default_value((std::filesystem::temp_directory_path() / "e2e-bench.json").string()),
       "results as JSON")
      ("svg", po::value<std::string>()->default_value((std::filesystem::temp_directory_path() / "e2e-bench.svg").string()),
       "charts as SVG");
  po::options_description internal("internal (the driver runs itself as kube-proxy's side)");
  internal.add_options()  //
      ("proxy-child", po::value<std::string>(), "the API server's URL: run as the child")
      ("hns-socket", po::value<std::string>()->default_value("-"), "the child's hnssim socket (-: in-process)")
      ("listing-cache", po::value<std::string>()->default_value("-"), "the child's listing cache file (-: none)");
  options.add(internal);
  auto commandLine = hns::parseProgramCommandLine("e2e_bench [options]", options, argc, argv);
  if (!commandLine.parsed) return commandLine.exitCode;
  const hns::ParsedCommandLine& cl = *commandLine.parsed;
  const std::string jsonPath = cl.get<std::string>("json"), svgPath = cl.get<std::string>("svg"),
                    childUrl = cl.get<std::string>("proxy-child"), childSocket = cl.get<std::string>("hns-socket"),
                    childCache = cl.get<std::string>("listing-cache"), hnsMode = cl.get<std::string>("hns");
  if (hnsMode != "inproc" && hnsMode != "daemon") {
    std::fprintf(stderr, "e2e_bench: --hns is inproc or daemon, not %s\n", hnsMode.c_str());
    return 2;
  }
  o.daemon = hnsMode == "daemon";
  o.changes = std::max(2, cl.get<int>("changes"));
  o.repeat = std::max(1, cl.get<int>("repeat"));
  o.rollPods = std::max(1, std::min(500, cl.get<int>("roll-pods")));
  o.listingCache = !cl.get<bool>("no-listing-cache");
  o.memoryModel = !cl.get<bool>("no-memory-model");
  const bool manifests = cl.get<bool>("manifests");
  if (const auto fmt = cl.get<std::string>("manifest-format"); fmt == "yaml" || fmt == "json") {
    o.manifestYaml = fmt == "yaml";
  } else {
    std::fprintf(stderr, "e2e_bench: --manifest-format: json or yaml, not \"%s\"\n", fmt.c_str());
    return 2;
  }
  o.hnsSerial = cl.get<bool>("hns-serial");
  o.sizes.clear();
  {
    std::stringstream ss(cl.get<std::string>("sizes"));
    for (std::string t; std::getline(ss, t, ',');) {
      int n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec != std::errc{} || end != t.data() + t.size() || n <= 0) {
        std::fprintf(stderr, "e2e_bench: invalid value \"%s\" in --sizes: want positive integers\n", t.c_str());
        return 2;
      }
      o.sizes.push_back(n);
    }
  }
  if (cl.get<bool>("quick")) {
    o.sizes = {100, 1000};
    o.changes = 20;
    o.repeat = 2;
  }
  if (!childUrl.empty()) {
    proxy::tuneAllocator();  // as kube-proxy's main does
    proxy::log::LogOptions lo;
    lo.verbosity = o.childVerbosity;
    proxy::log::init(lo);
    return childMain(childUrl, childSocket == "-" ? "" : childSocket, o.latencyUs, o.parallelism, childCache == "-" ? "" : childCache);
  }
  proxy::log::LogOptions quiet;
  quiet.verbosity = -1;  // errors only
  proxy::log::init(quiet);
  std::ofstream(o.childLog, std::ios::trunc);
  signal(SIGPIPE, SIG_IGN);

  if (cl.get<bool>("manifests-only")) {
    try {
      for (int n : o.sizes) std::printf("%s\n", json{{"services", n}, {"nodes", o.k}, {"runs", manifestRuns(o, n)}}.dump().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "e2e_bench: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  std::vector<Row> rows;
  json mem;
  try {
    for (int n : o.sizes) rows.push_back(runSize(o, n));
    if (manifests)
      for (auto& r : rows) r.manifests = manifestRuns(o, r.n);
    if (o.memoryModel) mem = memoryModel(o, std::min(o.sizes.back(), 2000));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_bench: %s\n", e.what());
    return 1;
  }

  std::printf("\nhnsproxy end-to-end benchmark: test API server → watch → policy → programmer → HNS simulator\n");
  std::printf("kube-proxy side in its own process; HNS %s; %d endpoints per service over %d nodes; HNS latency %ld us per call;\n"
              "parallelism %d; cold start x%d, %d endpoint changes and %d spec changes per size; times p50 / p99\n\n",
              o.daemon ? (o.hnsSerial ? "in an hnssim daemon serving one call at a time" : "in an hnssim daemon")
                       : "simulated in that process",
              o.m, o.k, o.latencyUs, o.parallelism, o.repeat,
              o.changes, o.changes);
  std::printf("%-46s", "services");
  for (const auto& r : rows) std::printf("%18d", r.n);
  std::printf("\n");
  auto line = [&](const char* what, auto f) {
    std::printf("%-46s", what);
    for (const auto& r : rows) std::printf("%18s", f(r).c_str());
    std::printf("\n");
  };
  line("load balancers / remote endpoints", [&](const Row& r) { return u(r.lbs) + "/" + u(r.remote); });
  line("list+watch from API server until synced (ms)", [&](const Row& r) { return d1(r.sourcesMs.pct(0.5)); });
  line("  kube-proxy's CPU: lists read and decoded (ms)", [&](const Row& r) { return pp(r.sourcesCpuMs, d1); });
  line("1 cold start: HNS listing + first sync (ms)", [&](const Row& r) { return pp(r.coldMs, d1); });
  line("  of which start-up HNS listing (ms)", [&](const Row& r) { return pp(r.listingMs, d1); });
  line("  of which programming (ms)", [&](const Row& r) { return pp(r.programMs, d1); });
  line("  CPU (ms)", [&](const Row& r) { return pp(r.coldCpuMs, d1); });
  if (!o.daemon) line("  CPU without the simulated HNS's own (ms)", [&](const Row& r) { return pp(r.coldOwnCpuMs, d1); });
  line("  HNS calls (mutating)", [&](const Row& r) { return u(r.coldCalls) + " (" + u(r.coldMutating) + ")"; });
  line("  upstream model calls (mutating)*", [&](const Row& r) { return u(r.upCold.total) + " (" + u(r.upCold.mutating) + ")"; });
  if (o.latencyUs > 0)
    line("  upstream model at this latency (s)*", [&](const Row& r) { return d1(r.upstreamSeconds(r.upCold, o.latencyUs)); });
  line("2 endpoint +1/-1: event->programmed (ms)", [&](const Row& r) { return pp(r.endpoint.latencyMs, d3); });
  line("  while the node is re-read (ms)", [&](const Row& r) { return pp(r.duringVerify.latencyMs, d3); });
  line("  CPU per change, median (ms)", [&](const Row& r) { return d3(r.endpoint.cpuMs.pct(0.5)); });
  if (!o.daemon) line("  without the simulated HNS's own (ms)", [&](const Row& r) { return d3(r.endpoint.ownCpuMs.pct(0.5)); });
  line("  HNS calls per change (mutating)", [&](const Row& r) { return d1(r.endpoint.calls.mean()) + " (" + d1(r.endpoint.mutating.mean()) + ")"; });
  line("  upstream model calls per change*", [&](const Row& r) { return u(r.upChange.total); });
  const std::string rollTitle = "3 rolling update, " + std::to_string(o.rollPods) + " pods x 3 svcs (ms)";
  line(rollTitle.c_str(), [&](const Row& r) { return d1(r.rollTotalMs); });
  line("  per step event->programmed (ms)", [&](const Row& r) { return pp(r.roll.latencyMs, d3); });
  line("  HNS mutating calls", [&](const Row& r) { return u(r.rollMutating); });
  line("  upstream model calls*", [&](const Row& r) { return u(r.rollUpstreamCalls); });
  if (o.latencyUs > 0)
    line("  upstream model at this latency (s)*", [&](const Row& r) {
      return d1(static_cast<double>(r.rollUpstreamCalls) * static_cast<double>(o.latencyUs) / 1e6);
    });
  line("  service added: event->programmed (ms)", [&](const Row& r) { return pp(r.svcAdd.latencyMs, d3); });
  line("    HNS calls (mutating)", [&](const Row& r) { return d1(r.svcAdd.calls.mean()) + " (" + d1(r.svcAdd.mutating.mean()) + ")"; });
  line("  service removed: event->programmed (ms)", [&](const Row& r) { return pp(r.svcRemove.latencyMs, d3); });
  line("    HNS calls (mutating)", [&](const Row& r) { return d1(r.svcRemove.calls.mean()) + " (" + d1(r.svcRemove.mutating.mean()) + ")"; });
  line("  spec change (affinity): event->prog. (ms)", [&](const Row& r) { return pp(r.spec.latencyMs, d3); });
  line("    HNS calls (mutating)", [&](const Row& r) { return d1(r.spec.calls.mean()) + " (" + d1(r.spec.mutating.mean()) + ")"; });
  line("4 periodic sync, nothing changed: calls", [&](const Row& r) { return u(r.idleCalls); });
  line("  CPU (ms)", [&](const Row& r) { return d3(r.idleCpuMs); });
  line("  upstream model calls*", [&](const Row& r) { return u(r.upIdle.total); });
  line("verification period (5m), nothing changed: calls", [&](const Row& r) {
    const double listing = 3.0 * static_cast<double>(r.lbs + r.remote + 250) + 6;
    return u(r.verifyPeriodCalls) + " (" + d1(100.0 * static_cast<double>(r.verifyPeriodCalls) / listing) + "%)";
  });
  line("  re-read of the whole node, in slices (s)", [&](const Row& r) { return d1(r.fullReadMs / 1000.0); });
  line("    HNS calls", [&](const Row& r) { return u(r.fullReadCalls); });
  line("5 restart: mutating HNS calls", [&](const Row& r) { return u(r.restartMutating); });
  line("  HNS calls (from the listing cache / queried)", [&](const Row& r) {
    return u(r.restartCalls) + " (" + u(r.restartFromCache) + "/" + u(r.restartQueried) + ")";
  });
  line("  sources synced (ms)", [&](const Row& r) { return d1(r.restartSourcesMs); });
  line("  HNS read back, meanwhile (ms)", [&](const Row& r) { return d1(r.restartListingMs); });
  line("  time until ready: both, then a sync (ms)", [&](const Row& r) { return d1(r.restartReadyMs); });
  line("  restart -> first change programmed (ms)", [&](const Row& r) { return d1(r.restartFirstChangeMs); });
  line("  upstream model calls*", [&](const Row& r) { return u(r.upRestart.total); });
  if (o.latencyUs > 0)
    line("  upstream model at this latency (s)*", [&](const Row& r) { return d1(r.upstreamSeconds(r.upRestart, o.latencyUs)); });
  line("  upstream model mutating calls*", [&](const Row& r) { return u(r.upRestart.mutating); });
  std::printf("6 memory of the kube-proxy process%s\n", o.daemon ? "" : " (the HNS simulator's objects included)");
  line("  RSS when sources synced (MB)", [&](const Row& r) { return d1(r.rssSyncedKb / 1024.0); });
  line("  RSS after cold start (MB)", [&](const Row& r) { return d1(r.rssColdKb / 1024.0); });
  line("  of which heap in use (MB)", [&](const Row& r) { return d1(r.heapColdKb / 1024.0); });
  line("  RSS after churn (MB)", [&](const Row& r) { return d1(r.rssKb / 1024.0); });
  line("  peak RSS (MB)", [&](const Row& r) { return d1(r.hwmKb / 1024.0); });
  if (o.daemon) line("  peak RSS of the restarted process (MB)", [&](const Row& r) { return d1(r.restartHwmKb / 1024.0); });
  if (!mem.is_null()) {
    std::printf("%-46s%d services of %d and %d endpoints, HNS in a daemon\n", "  memory model", mem["services"].get<int>(), o.m, 4 * o.m);
    for (const auto& [what, m] : {std::pair<const char*, const json&>{"    heap in use", mem["heap"]}, {"    RSS", mem}})
      std::printf("%-46s%.0f B per service + %.0f B per endpoint (%.0f B per service of %d endpoints; + %.1f MB base)\n", what,
                  m["bytesPerService"].get<double>(), m["bytesPerEndpoint"].get<double>(),
                  m["bytesPerServiceWithItsEndpoints"].get<double>(), o.m, m["baseMb"].get<double>());
  }
  if (manifests) {
    std::printf("7 kube-proxy on the cluster as manifest files, HNS in an hnssim daemon\n");
    line("  manifest files (MB)", [&](const Row& r) { return d1(r.manifests["manifestMb"].get<double>()); });
    for (const char* mode : {"dry-run", "sync-once"}) {
      auto value = [&](const Row& r, const char* k) { return r.manifests[mode][k].get<double>(); };
      const std::string name = std::string("  --") + mode;
      line((name + ": peak RSS (MB)").c_str(), [&](const Row& r) { return d1(value(r, "peakRssMb")); });
      line((name + ": CPU / wall (s)").c_str(),
           [&](const Row& r) { return d1(value(r, "cpuS")) + " / " + d1(value(r, "wallS")); });
      line((name + ": exit code").c_str(),
           [&](const Row& r) { return std::to_string(r.manifests[mode]["exitCode"].get<int>()); });
    }
  }
  std::printf("\nHNS calls of the last cold start by function:\n");
  for (const auto& r : rows) {
    std::printf("  %6d services:", r.n);
    for (const auto& [k, v] : r.coldByKind.items()) std::printf(" %s %s", k.c_str(), v.dump().c_str());
    std::printf("\n");
  }
  std::printf("\n* upstream: the cost model of bench/upstream_model.h (HCN-level calls), not a measurement.\n");
  if (o.latencyUs > 0)
    for (const auto& r : rows)
      std::printf("%d services: programming %.0f ms against mutating calls x latency / parallelism = %.0f ms (%+.0f%%)\n", r.n,
                  r.programMs.pct(0.5), static_cast<double>(r.coldMutating) * static_cast<double>(o.latencyUs) / 1000.0 / o.parallelism,
                  100.0 * (r.programMs.pct(0.5) / (static_cast<double>(r.coldMutating) * static_cast<double>(o.latencyUs) / 1000.0 / o.parallelism) - 1));

  json out = json::array();
  for (const auto& r : rows)
    out.push_back({{"services", r.n}, {"loadBalancers", r.lbs}, {"remoteEndpoints", r.remote}, {"sourcesMs", r.sourcesMs.j()}, {"sourcesCpuMs", r.sourcesCpuMs.j()},
                   {"coldStart", {{"ms", r.coldMs.j()}, {"listingMs", r.listingMs.j()}, {"programMs", r.programMs.j()},
                                  {"cpuMs", r.coldCpuMs.j()}, {"kubeProxyCpuMs", r.coldOwnCpuMs.j()}, {"hnsCalls", r.coldCalls}, {"mutating", r.coldMutating},
                                  {"byFunction", r.coldByKind}, {"upstreamModelCalls", r.upCold.total}}},
                   {"endpointChange", r.endpoint.j()}, {"endpointChangeUpstreamModelCalls", r.upChange.total},
                   {"rollingUpdate", {{"pods", o.rollPods}, {"totalMs", r.rollTotalMs}, {"mutating", r.rollMutating}, {"steps", r.roll.j()},
                                      {"upstreamModelCalls", r.rollUpstreamCalls}}},
                   {"serviceAdded", r.svcAdd.j()}, {"serviceRemoved", r.svcRemove.j()}, {"specChange", r.spec.j()},
                   {"idleSync", {{"hnsCalls", r.idleCalls}, {"cpuMs", r.idleCpuMs}, {"upstreamModelCalls", r.upIdle.total}}},
                   {"verification", {{"periodCalls", r.verifyPeriodCalls}, {"fullReadMs", r.fullReadMs},
                                     {"fullReadCalls", r.fullReadCalls}, {"endpointChangeDuringReRead", r.duringVerify.j()}}},
                   {"restart", {{"mutating", r.restartMutating}, {"calls", r.restartCalls}, {"fromListingCache", r.restartFromCache},
                                {"queried", r.restartQueried}, {"sourcesMs", r.restartSourcesMs}, {"listingMs", r.restartListingMs},
                                {"readyMs", r.restartReadyMs}, {"firstChangeMs", r.restartFirstChangeMs},
                                {"upstreamModelCalls", r.upRestart.total}, {"upstreamModelMutating", r.upRestart.mutating}}},
                   {"memory", {{"rssSyncedMb", r.rssSyncedKb / 1024.0}, {"rssColdStartMb", r.rssColdKb / 1024.0},
                               {"heapColdStartMb", r.heapColdKb / 1024.0}, {"rssAfterChurnMb", r.rssKb / 1024.0},
                               {"peakRssMb", r.hwmKb / 1024.0}, {"restartPeakRssMb", r.restartHwmKb / 1024.0}}},
                   {"manifests", r.manifests}});
  std::ofstream(jsonPath) << json{{"hns", o.daemon ? "daemon" : "inproc"}, {"latencyUs", o.latencyUs}, {"parallelism", o.parallelism},
                                  {"memoryModel", mem}, {"rows", out}}.dump(2)
                          << "\n";
  svg(rows, svgPath);
  std::printf("wrote %s and %s\n", jsonPath.c_str(), svgPath.c_str());
  return 0;
}

#include "proxy/app.h"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hns/instrumented_api.h"
#include "hns/simulated_hns.h"
#include "hns/socket_api.h"
#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/http_server.h"
#include "proxy/logging.h"
#include "proxy/metrics.h"
#include "proxy/options.h"
#include "proxy/proxier.h"
#include "proxy/sync_runner.h"
#include "watch/kube_source.h"
#include "watch/manifest_source.h"

#ifdef _WIN32
#include <windows.h>
#include "hns/hcn_api.h"
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#ifndef HNSPROXY_KUBE_VERSION
#define HNSPROXY_KUBE_VERSION "v1.35.0"
#endif
#ifndef HNSPROXY_VERSION
#define HNSPROXY_VERSION "0.1.0"
#endif

namespace hnsproxy::proxy {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::string osHostname() {
  char buf[256] = {};
#ifdef _WIN32
  DWORD n = sizeof buf;
  if (!GetComputerNameA(buf, &n)) return "localhost";
#else
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
#endif
  return lower(buf);
}

struct Backend {
  std::unique_ptr<hns::Api> owned;
  hns::SimulatedHns* sim = nullptr;  // in-process simulator (persisted to statePath)
  std::string statePath;
};

Result<Backend> makeBackend(const Options& o) {
  Backend b;
  std::string kind = o.hnsBackend;
#ifdef _WIN32
  if (kind.empty()) kind = (o.hnsSimState.empty() && o.hnsSimSocket.empty()) ? "hcn" : "sim";
#else
  if (kind.empty()) kind = "sim";
#endif
  if (kind == "hcn") {
#ifdef _WIN32
    auto api = hns::makeHcnApi();
    if (!api) return api.error();
    b.owned = std::move(api).value();
    return b;
#else
    return Error(ErrorCode::InvalidInput,
                 "invalid value \"hcn\" for flag --hns-backend: the Windows HNS exists only on Windows (use --hns-backend=sim)");
#endif
  }
  if (!o.hnsSimSocket.empty()) {
    b.owned = std::make_unique<hns::SocketApi>(o.hnsSimSocket);
    return b;
  }
  std::optional<hns::Profile> profile;
  if (!o.hnsSimProfile.empty()) {
    profile = hns::profileByName(o.hnsSimProfile);
    if (!profile) {
      std::string names;
      for (const auto& p : hns::profiles()) names += (names.empty() ? "" : ", ") + p.name;
      return Error(ErrorCode::InvalidInput,
                   "invalid value \"" + o.hnsSimProfile + "\" for flag --hns-sim-profile: want one of " + names);
    }
  }
  hns::HnsSnapshot snap;
  if (!o.hnsSimState.empty() && std::filesystem::exists(o.hnsSimState)) {
    auto loaded = hns::loadSnapshot(o.hnsSimState);
    if (!loaded) return Error(ErrorCode::InvalidInput, "--hns-sim-state: " + loaded.error().message);
    snap = std::move(*loaded);
  } else if (profile) {
    snap.version = profile->version;
  }
  auto sim = std::make_unique<hns::SimulatedHns>(snap, profile);
  b.sim = sim.get();
  b.statePath = o.hnsSimState;
  b.owned = std::move(sim);
  return b;
}

void persist(const Backend& b) {
  if (!b.sim || b.statePath.empty()) return;
  if (auto st = hns::saveSnapshot(b.sim->snapshot(), b.statePath); !st)
    HLOG_ERROR("Failed to write the HNS simulator state", "file", b.statePath, "err", st.error().message);
}

std::string hnsCallMetrics(const hns::InstrumentedApi& api) {
  std::string out =
      "# HELP hnsproxy_hns_calls_total HNS (HCN) calls by function and result\n# TYPE hnsproxy_hns_calls_total counter\n";
  std::string lat =
      "# HELP hnsproxy_hns_call_seconds_total Time spent in HNS calls by function\n# TYPE hnsproxy_hns_call_seconds_total counter\n";
  for (const auto& [fn, s] : api.stats()) {
    out += fmt::format("hnsproxy_hns_calls_total{{function=\"{}\",result=\"ok\"}} {}\n", fn, s.ok);
    for (const auto& [code, n] : s.failed)
      out += fmt::format("hnsproxy_hns_calls_total{{function=\"{}\",result=\"{}\"}} {}\n", fn, code, n);
    lat += fmt::format("hnsproxy_hns_call_seconds_total{{function=\"{}\"}} {:.6f}\n", fn, s.seconds);
  }
  return out + lat;
}

void printPlan(const policy::Plan& plan, const policy::HnsState& desired, bool asJson, std::ostream& out) {
  if (asJson) {
    json j;
    j["operations"] = json::array();
    for (const auto& op : plan.ops)
      j["operations"].push_back({{"phase", op.phase},
                                 {"op", std::string(policy::toString(op.kind))},
                                 {"object", op.kind == policy::OpKind::CreateEndpoint || op.kind == policy::OpKind::DeleteEndpoint
                                                ? op.endpoint.str()
                                                : op.lb.str()},
                                 {"reason", op.reason}});
    j["desired"] = {{"loadBalancers", desired.loadBalancers.size()}, {"endpoints", desired.endpoints.size()}};
    out << j.dump(2) << "\n";
  } else {
    out << plan.text();
  }
}

}  // namespace

int runKubeProxy(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                 std::function<bool()> externalStop) {
  auto parsed = parseCommandLine(argc, argv);
  if (!parsed) {
    err << usage() << "\nError: " << parsed.error().message << "\n";
    return 2;
  }
  if (parsed->help) {
    out << usage();
    return 0;
  }
  Options o = parsed->options;
  if (!o.version.empty()) {
    if (o.version == "raw") {
      out << fmt::format(
          "version.Info{{Major:\"1\", Minor:\"35\", GitVersion:\"{}\", GitCommit:\"\", GitTreeState:\"\", "
          "BuildDate:\"\", GoVersion:\"\", Compiler:\"gcc\", Platform:\"{}\"}}\nhnsproxy {}\n",
          HNSPROXY_KUBE_VERSION,
#ifdef _WIN32
          "windows/amd64",
#else
          "linux/amd64",
#endif
          HNSPROXY_VERSION);
    } else {
      out << "Kubernetes " << (o.version == "true" ? std::string(HNSPROXY_KUBE_VERSION) : o.version) << "\n"
          << "hnsproxy " << HNSPROXY_VERSION << "\n";
    }
    return 0;
  }

  // Logging: stderr by default; the legacy file flags write a rotated file.
  log::LogOptions lo;
  lo.verbosity = o.verbosity;
  if (!o.logFile.empty()) lo.file = o.logFile;
  else if (!o.logDir.empty()) lo.file = (std::filesystem::path(o.logDir) / "kube-proxy.log").string();
  lo.toStderr = lo.file.empty() || o.logToStderr || o.alsoLogToStderr;
  if (!o.logDir.empty() && o.logFile.empty()) lo.toStderr = lo.toStderr && !(!o.logToStderr);
  lo.maxFileBytes = o.logFileMaxSizeMB << 20;
  if (!lo.file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(lo.file).parent_path(), ec);
#ifndef _WIN32
    int fd = ::open(lo.file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (fd >= 0) ::close(fd);
#endif
  }
  try {
    log::init(lo);
  } catch (const std::exception& e) {
    err << "Error: cannot open log file " << lo.file << ": " << e.what() << "\n";
    return 1;
  }
  HLOG_INFO("Version info", "version", HNSPROXY_KUBE_VERSION, "hnsproxy", HNSPROXY_VERSION);
  if (!o.legacyFlagsUsed.empty()) {
    std::string flags;
    for (const auto& f : o.legacyFlagsUsed) flags += (flags.empty() ? "" : ",") + f;
    HLOG_WARN("Legacy klog flags were removed upstream in 1.26; hnsproxy honours them for existing start scripts",
              "flags", flags);
  }
  for (const auto& [name, value] : parsed->flagsSet) HLOG_V(1, fmt::format("FLAG: --{}=\"{}\"", name, value).c_str());
  for (const auto& n : parsed->notes) HLOG_WARN(n.c_str());

  if (auto st = validate(o); !st) {
    HLOG_ERROR("Invalid configuration", "err", st.error().message);
    err << "Error: " << st.error().message << "\n";
    return 2;
  }
  if (!o.writeConfigTo.empty()) {
    std::string tmp = o.writeConfigTo + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << configYaml(o);
      if (!f) {
        err << "Error: cannot write " << o.writeConfigTo << "\n";
        return 1;
      }
    }
#ifndef _WIN32
    ::chmod(tmp.c_str(), 0600);
#endif
    std::filesystem::rename(tmp, o.writeConfigTo);
    HLOG_INFO("Wrote configuration", "file", o.writeConfigTo);
    return 0;
  }

  std::string nodeName = lower(trim(o.hostnameOverride));
  if (nodeName.empty()) nodeName = osHostname();
  std::string networkName = o.networkName;
  if (networkName.empty())
    if (const char* env = std::getenv("KUBE_NETWORK")) networkName = env;
  if (networkName.empty()) {
    err << "Error: Environment variable KUBE_NETWORK and network-flag not initialized\n";
    HLOG_ERROR("Environment variable KUBE_NETWORK and network-flag not initialized");
    return 1;
  }

  auto backend = makeBackend(o);
  if (!backend) {
    err << "Error: " << backend.error().message << "\n";
    return 2;
  }
  hns::InstrumentedApi api(*backend->owned);

  ProxierConfig pc;
  pc.nodeName = nodeName;
  if (auto b = policy::IpAddress::parse(o.bindAddress); b && !b->isUnspecified()) pc.bindAddress = *b;
  pc.networkName = networkName;
  pc.rootEndpointName = o.rootHnsEndpointName;
  pc.winOverlay = o.gate("WinOverlay");
  pc.rules.enableDsr = o.enableDsr;
  if (!o.sourceVip.empty()) pc.rules.sourceVip = policy::IpAddress::parse(o.sourceVip);
  pc.rules.forwardHealthCheckVip = o.forwardHealthCheckVip;
  pc.rules.maxBackendsOverride = o.maxBackendsPerLoadBalancer;
  if (!o.healthzBindAddress.empty()) {
    auto colon = o.healthzBindAddress.rfind(':');
    pc.rules.healthzPort = static_cast<std::uint16_t>(std::stoi(o.healthzBindAddress.substr(colon + 1)));
    std::string host = o.healthzBindAddress.substr(0, colon);
    pc.rules.healthzOnAllAddresses = host == "0.0.0.0" || host == "[::]" || host == "::";
  }
  pc.programmer.parallelism = o.hnsParallelism;
  pc.verifyPeriod = o.hnsVerifyPeriod;

  Metrics metrics;
  metrics.setFeatureGates(o.featureGates);
  metrics.setExtra([&api] { return hnsCallMetrics(api); });
  ProxyHealth health(2 * o.syncPeriod);
  ChangeTracker tracker(nodeName);
  Proxier proxier(pc, api, tracker, metrics, health);

  std::atomic<bool> stopping{false};
  auto stopRequested = [&] { return stopping.load() || (externalStop && externalStop()); };

  // --cleanup: remove what kube-proxy programmed on this network, print it, exit 0.
  if (o.cleanup) {
    int tries = 0;
    auto init = proxier.initialize([&] { return ++tries > 1 || stopRequested(); });
    if (!init) {
      err << "Error: " << init.error().message << "\n";
      return 1;
    }
    hns::ApplyReport report;
    auto plan = proxier.cleanup(report);
    if (!plan) {
      err << "Error: " << plan.error().message << "\n";
      return 1;
    }
    printPlan(*plan, {}, o.output == "json", out);
    persist(*backend);
    for (const auto& e : report.errors) err << "cleanup: " << e << "\n";
    return report.complete() ? 0 : 1;
  }

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::unique_ptr<HttpServer> healthzServer, metricsServer;
  ServiceHealthServers serviceHealth(io, health);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::mutex stopMu;
  std::condition_variable stopCv;
  auto requestStop = [&] {
    stopping = true;
    stopCv.notify_all();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    HLOG_INFO("Received signal, shutting down; programmed HNS state is left in place", "signal", sig);
    requestStop();
  });

  const bool daemon = !o.dryRun && !o.syncOnce;
  if (daemon) {
    auto bindWithRetry = [&](std::unique_ptr<HttpServer>& server, const std::string& addr, const char* what,
                             HttpHandler handler) -> Status {
      if (addr.empty()) return Ok{};
      server = std::make_unique<HttpServer>(io, std::move(handler));
      auto st = server->listen(addr);
      if (st) {
        HLOG_INFO(fmt::format("Serving {}", what).c_str(), "address", addr, "port", server->port());
        return Ok{};
      }
      if (o.bindAddressHardFail) return st;
      HLOG_ERROR(fmt::format("Failed to start {}; retrying every 5s", what).c_str(), "err", st.error().message);
      auto timer = std::make_shared<asio::steady_timer>(io);
      auto* srv = server.get();
      std::function<void()> retry = [timer, srv, addr, what, &retry]() {
        timer->expires_after(std::chrono::seconds(5));
        timer->async_wait([timer, srv, addr, what, &retry](const boost::system::error_code& ec) {
          if (ec) return;
          if (srv->listen(addr)) HLOG_INFO(fmt::format("Serving {}", what).c_str(), "address", addr);
          else retry();
        });
      };
      retry();
      return Ok{};
    };
    auto h = bindWithRetry(healthzServer, o.healthzBindAddress, "healthz", [&](const std::string&, const std::string& target) {
      return healthzHandler(health, metrics, target, std::chrono::system_clock::now());
    });
    std::string config = configJson(o);
    auto m = bindWithRetry(metricsServer, o.metricsBindAddress, "metrics", [&, config](const std::string&, const std::string& target) {
      std::string path = target.substr(0, target.find('?'));
      if (path == "/metrics") return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(), {}};
      if (path == "/proxyMode") return HttpResponse{200, "text/plain; charset=utf-8", "kernelspace", {}};
      if (path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok", {}};
      if (path == "/configz") return HttpResponse{200, "application/json", config, {}};
      return HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n", {}};
    });
    if (!h || !m) {
      err << "Error: " << (!h ? h.error().message : m.error().message) << "\n";
      return 1;
    }
  }
  std::thread ioThread([&] { io.run(); });
  auto shutdownIo = [&] {
    asio::post(io, [&] {
      signals.cancel();
      if (healthzServer) healthzServer->stop();
      if (metricsServer) metricsServer->stop();
      serviceHealth.sync({}, {});
      guard.reset();
      io.stop();
    });
    ioThread.join();
  };

  // The source: a manifest directory, or the API server (--kubeconfig, --master, in-cluster).
  std::unique_ptr<watch::ManifestSource> source;
  std::unique_ptr<watch::KubeSource> kube;
  auto pollSource = [&] {
    if (!source) return;
    auto r = source->poll();
    for (const auto& e : r.errors) HLOG_ERROR("Manifest not applied; its previous objects are kept", "error", e.str());
  };
  if (!o.manifestDir.empty()) {
    source = std::make_unique<watch::ManifestSource>(o.manifestDir, tracker);
    pollSource();
  } else {
    auto cfg = watch::resolveClientConfig(o.kubeconfig, o.master);
    if (!cfg) {
      HLOG_ERROR("Failed to create the API client", "err", cfg.error().message);
      err << "Error: " << cfg.error().message << "\n";
      shutdownIo();
      return 1;
    }
    std::string ua = fmt::format("kube-proxy/{} ({}/amd64) hnsproxy/{}", HNSPROXY_KUBE_VERSION,
#ifdef _WIN32
                                 "windows",
#else
                                 "linux",
#endif
                                 HNSPROXY_VERSION);
    auto k = watch::KubeSource::create(*cfg, ua, nodeName, tracker, [](char sev, const std::string& m) {
      if (sev == 'E') HLOG_ERROR(m.c_str());
      else if (sev == 'W') HLOG_WARN(m.c_str());
      else HLOG_INFO(m.c_str());
    });
    if (!k) {
      err << "Error: " << k.error().message << "\n";
      shutdownIo();
      return 1;
    }
    kube = std::move(k).value();
    kube->start();
    HLOG_INFO("Watching the API server", "server", cfg->server);
  }
  auto stopSources = [&] {
    if (kube) kube->stop();
  };

  // The start-up HNS listing runs while the reflectors list the API server: neither needs the other.
  auto init = proxier.initialize([&] { return stopRequested() || o.dryRun || o.syncOnce; });
  if (!init) {
    HLOG_ERROR("Unable to create proxier", "err", init.error().message);
    err << "Error: unable to create proxier: " << init.error().message << "\n";
    stopSources();
    shutdownIo();
    return 1;
  }
  // Wait for the initial lists, as upstream waits for its informers to sync.
  if (kube)
    while (!tracker.ready() && !stopRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(20));

  if (o.dryRun) {
    auto plan = proxier.planOnly();
    stopSources();
    shutdownIo();
    if (!plan) {
      err << "Error: " << plan.error().message << "\n";
      return 1;
    }
    printPlan(*plan, proxier.engine().desired(), o.output == "json", out);
    return 0;
  }

  auto afterSync = [&] {
    persist(*backend);
    auto snap = proxier.healthSnapshot();
    asio::post(io, [&, snap] {
      auto failures = serviceHealth.sync(snap.ports, snap.localReady);
      for (const auto& [port, msg] : failures)
        HLOG_ERROR("FailedToStartServiceHealthcheck: health-check node port not bound; retrying at the next sync",
                   "port", port, "err", msg);
    });
  };

  if (o.syncOnce) {
    bool ok = proxier.sync();
    afterSync();
    stopSources();
    shutdownIo();
    const auto& applied = proxier.programmer().applied();
    if (ok) {
      out << fmt::format("synced: {} load balancers, {} remote endpoints programmed\n", applied.loadBalancers.size(),
                         applied.endpoints.size());
      return 0;
    }
    err << "sync failed:\n";
    for (const auto& e : proxier.lastErrors()) err << "  " << e << "\n";
    return 1;
  }

  // The daemon: a sync loop driven by changes, a periodic sync, and retries.
  auto retry = std::max<std::chrono::nanoseconds>(o.minSyncPeriod, std::chrono::seconds(1));
  SyncRunner runner(SyncScheduler(std::chrono::duration_cast<SyncScheduler::Duration>(o.minSyncPeriod),
                                  std::chrono::duration_cast<SyncScheduler::Duration>(o.syncPeriod),
                                  std::chrono::duration_cast<SyncScheduler::Duration>(std::min(retry, o.syncPeriod))),
                    [&] {
                      bool ok = proxier.sync();
                      afterSync();
                      return ok;
                    });
  tracker.setOnChange([&] {
    health.queuedUpdate(std::chrono::system_clock::now());
    metrics.setLastQueued(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    runner.request();
  });
  health.updated(std::chrono::system_clock::now());
  runner.start();
  runner.request();
  // Follow the manifest directory.
  auto pollTimer = std::make_shared<asio::steady_timer>(io);
  std::function<void()> schedulePoll = [&] {
    pollTimer->expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(o.manifestPollInterval));
    pollTimer->async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      pollSource();
      schedulePoll();
    });
  };
  asio::post(io, schedulePoll);
  HLOG_INFO("Started kube-proxy", "node", nodeName, "network", networkName);
  {
    std::unique_lock<std::mutex> lock(stopMu);
    while (!stopRequested()) stopCv.wait_for(lock, std::chrono::milliseconds(100));
  }
  asio::post(io, [&] { pollTimer->cancel(); });
  stopSources();
  runner.stop();  // finishes an in-flight sync; programmed state stays in place
  persist(*backend);
  shutdownIo();
  HLOG_INFO("Stopped");
  log::flush();
  return 0;
}

}  // namespace hnsproxy::proxy

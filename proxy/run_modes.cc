#include "proxy/run_modes.h"

#include <condition_variable>
#include <future>
#include <csignal>
#include <iostream>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policy/ip.h"
#include "proxy/logging.h"
#include "proxy/sources.h"
#include "proxy/status_servers.h"
#include "proxy/sync_runner.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace hnsproxy::proxy {

namespace asio = boost::asio;

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

hns::ReconcilerOptions reconcilerOptions(const Runtime& rt, const Options& o, const std::string& nodeName,
                                         const std::string& networkName) {
  hns::ReconcilerOptions r;
  r.networkName = networkName;
  r.node.nodeName = nodeName;
  if (auto b = policy::IpAddress::parse(o.bindAddress); b && !b->isUnspecified()) r.node.bindAddress = *b;
  r.node.rootEndpointName = o.rootHnsEndpointName;
  r.node.rules.enableDsr = o.enableDsr;
  if (!o.sourceVip.empty()) r.node.rules.sourceVip = policy::IpAddress::parse(o.sourceVip);
  r.node.rules.forwardHealthCheckVip = o.forwardHealthCheckVip;
  r.node.rules.maxBackendsOverride = o.maxBackendsPerLoadBalancer;
  if (auto hp = policy::HostPort::parse(o.healthzBindAddress); hp && hp->port) {  // validated as IP:port
    r.node.rules.healthzPort = *hp->port;
    r.node.rules.healthzOnAllAddresses = hp->host == "0.0.0.0" || hp->host == "::";
  }
  r.winOverlay = o.gate("WinOverlay");
  r.programmer.stop = [&rt] { return rt.stopRequested(); };
  r.programmer.parallelism = o.hnsParallelism;
  r.verifyPeriod = o.hnsVerifyPeriod;
  r.verifyContentPercent = static_cast<unsigned>(o.hnsVerifyBudget);
  r.listingCache = o.hnsListingCache;
  return r;
}

void printPlan(const policy::Plan& plan, const policy::HnsState* desired, const std::string& format, std::ostream& out) {
  if (format == "by-service") {
    plan.writeTextByService(out);
    return;
  }
  if (format != "json") {
    plan.writeText(out);
    return;
  }
  nlohmann::json j;
  j["operations"] = nlohmann::json::array();
  for (const auto& op : plan.ops) {
    bool endpoint = op.kind == policy::OpKind::CreateEndpoint || op.kind == policy::OpKind::DeleteEndpoint;
    j["operations"].push_back({{"phase", static_cast<int>(op.phase)},
                               {"op", std::string(policy::toString(op.kind))},
                               {"object", endpoint ? op.endpoint.str() : op.lb->str()},
                               {"reason", op.reason.str()}});
  }
  j["desired"] = {{"loadBalancers", desired ? desired->loadBalancers.size() : 0},
                  {"endpoints", desired ? desired->endpoints.size() : 0}};
  out << j.dump(2) << "\n";
}

// Starts the sources and the proxier's start-up HNS listing, which overlap (neither needs the
// other); `wait` false fails fast when the network is missing instead of waiting for it.
Result<std::unique_ptr<Sources>> startSources(Runtime& rt, bool wait) {
  auto sources = Sources::create(rt.opts, rt.nodeName, rt.tracker, [m = &rt.metrics](const watch::RequestRecord& r) {
    m->countRequest(r.method, r.host, r.code, r.seconds);
  });
  if (!sources) return sources.error();
  (*sources)->start();
  int tries = 0;
  rt.health.waitingFor("the HNS network '" + rt.networkName + "'");
  auto init = rt.proxier->initialize([&] { return rt.stopRequested() || (!wait && ++tries > 1); });
  if (!init) {
    (*sources)->stop();
    return Error(init.error().code, "unable to create proxier: " + init.error().message);
  }
  // The initial lists, as upstream waits for its informers — this Node's too: its addresses are the
  // node IPs (SourceVIP) and its zone selects topology hints, so a first sync without it would
  // program a loopback SourceVIP.
  rt.health.waitingFor("the first lists of Services, EndpointSlices and this Node");
  if ((*sources)->fromApiServer())
    while (!(rt.tracker.ready() && rt.tracker.nodeSynced()) && !rt.stopRequested())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return sources;
}

int fail(Runtime& rt, const std::string& what, const Error& e) {
  HLOG_ERROR(what.c_str(), "err", e.message);
  log::flush();
  rt.err << "Error: " << e.message << "\n";
  return 1;
}

}  // namespace

// ---------------------------------------------------------------- the runtime

Runtime::Runtime(const Options& o, std::ostream& o1, std::ostream& e1, std::function<bool()> externalStop)
    : opts(o),
      out(o1),
      err(e1),
      health(2 * o.syncPeriod),
      tracker(""),
      externalStop_(std::move(externalStop)),
      guard_(asio::make_work_guard(io)),
      signals_(io, SIGINT, SIGTERM) {}

Runtime::~Runtime() { stopIo(); }

Result<std::unique_ptr<Runtime>> Runtime::create(const Options& o, std::ostream& out, std::ostream& err,
                                                 std::function<bool()> externalStop) {
  auto rt = std::unique_ptr<Runtime>(new Runtime(o, out, err, std::move(externalStop)));
  rt->nodeName = lower(trim(o.hostnameOverride));
  if (rt->nodeName.empty()) rt->nodeName = osHostname();
  rt->networkName = o.networkName;
  if (rt->networkName.empty())
    // Read at start-up, before any thread that could change the environment exists.
    if (const char* env = std::getenv("KUBE_NETWORK")) rt->networkName = env;  // NOLINT(concurrency-mt-unsafe)
  if (rt->networkName.empty())
    return Error(ErrorCode::NotFound, "Environment variable KUBE_NETWORK and network-flag not initialized");
  auto backend = HnsBackend::create(o);
  if (!backend) return backend.error();
  rt->backend = std::move(backend).value();
  Runtime* stopper = rt.get();
  // A stop abandons an HNS call that hangs instead of waiting out --hns-call-timeout: nssm and the
  // SCM kill a service that does not stop within seconds, and then nothing is saved or logged.
  if (auto* d = rt->backend->deadline()) d->setStop([stopper] { return stopper->stopRequested(); });
  rt->tracker.setNodeName(rt->nodeName);
  std::map<std::string, bool> gates;  // every gate kube-proxy knows, as in effect
  for (auto name : kFeatureGates) gates[std::string(name)] = o.gate(std::string(name));
  rt->metrics.setFeatureGates(gates);
  rt->metrics.addCollector([b = rt->backend.get()](Exposition& exposition) { b->writeCallMetrics(exposition); });
  Runtime* r = rt.get();
  rt->proxier = std::make_unique<Proxier>(reconcilerOptions(*r, o, rt->nodeName, rt->networkName), rt->backend->api(),
                                          rt->tracker, rt->metrics, rt->health, hns::Clock{},
                                          [r](std::chrono::milliseconds d) { r->sleepUnlessStopped(d); });
  rt->signals_.async_wait([r = rt.get()](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    r->requestStop();  // first: logging may block on a full stderr pipe
    HLOG_INFO("Received signal, shutting down; programmed HNS state is left in place", "signal", sig);
  });
  rt->ioThread_ = std::thread([r = rt.get()] { r->io.run(); });
  return rt;
}

void Runtime::requestStop() {
  stopping_ = true;
  stopCv_.notify_all();
}

void Runtime::waitForStop() {
  std::unique_lock<std::mutex> lock(stopMu_);
  while (!stopRequested()) stopCv_.wait_for(lock, std::chrono::milliseconds(100));
}

void Runtime::sleepUnlessStopped(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  std::unique_lock<std::mutex> lock(stopMu_);
  while (!stopRequested() && std::chrono::steady_clock::now() < until)
    stopCv_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
}

void Runtime::persist() const {
  if (auto st = backend->persist(); !st)
    HLOG_ERROR("Failed to write the HNS simulator state", "file", opts.hnsSimState, "err", st.error().message);
}

void Runtime::stopIo(const std::function<void()>& onIoThread) {
  if (!ioThread_.joinable()) return;
  asio::post(io, [this, onIoThread] {
    boost::system::error_code ec;
    signals_.cancel(ec);
    if (onIoThread) onIoThread();
    guard_.reset();
    io.stop();
  });
  ioThread_.join();
}

// ---------------------------------------------------------------- the modes

int runCleanup(Runtime& rt) {
  int tries = 0;
  if (auto init = rt.proxier->initialize([&] { return ++tries > 1 || rt.stopRequested(); }); !init)
    return fail(rt, "Unable to create proxier", init.error());
  hns::SyncReport r = rt.proxier->cleanup();
  if (r.error) return fail(rt, "Cleanup failed", *r.error);
  printPlan(r.plan, nullptr, rt.opts.output, rt.out);
  rt.persist();
  for (const auto& f : r.applied.failures) rt.err << "cleanup: " << f.str() << "\n";
  return r.applied.complete() ? 0 : 1;
}

int runDryRun(Runtime& rt) {
  auto sources = startSources(rt, false);
  if (!sources) return fail(rt, "Dry run failed", sources.error());
  auto plan = rt.proxier->planOnly();
  (*sources)->stop();
  if (!plan) return fail(rt, "Dry run failed", plan.error());
  printPlan(*plan, &rt.proxier->reconciler().engine().desired(), rt.opts.output, rt.out);
  return 0;
}

// A late HNS call (past --hns-call-timeout) returned: what it did is re-read before the next plan,
// so a create that succeeded late is adopted, not made twice.
void watchLateCalls(Runtime& rt, std::function<void()> thenSync) {
  auto* d = rt.backend->deadline();
  if (!d) return;
  d->setTimeoutHandler([timeout = rt.opts.hnsCallTimeout](const std::string& function, const std::string& object) {
    HLOG_ERROR("HNS call did not return within --hns-call-timeout; HNS may be hung, calls are held until it answers",
               "function", function, "object", object, "timeout", formatGoDuration(timeout));
  });
  d->setLateHandler([&rt, thenSync = std::move(thenSync)](const std::string& function, const std::string& object,
                                                            std::chrono::milliseconds took, bool succeeded) {
      HLOG_WARN("A late HNS call returned; HNS is re-read", "function", function, "object", object, "tookMs",
                took.count(), "succeeded", succeeded);
      rt.proxier->requestVerification();
      if (thenSync) thenSync();
    });
}

void stopWatchingLateCalls(Runtime& rt) {
  if (auto* d = rt.backend->deadline()) {
    d->setTimeoutHandler({});
    d->setLateHandler({});
  }
}

constexpr int kSyncOnceRetries = 4;  // 1 + 2 + 4 + 8 s of backoff at most

int runSyncOnce(Runtime& rt) {
  watchLateCalls(rt, {});
  struct Unwatch {
    Runtime& rt;
    ~Unwatch() { stopWatchingLateCalls(rt); }
  } unwatch{rt};
  auto sources = startSources(rt, false);
  if (!sources) return fail(rt, "Unable to create proxier", sources.error());
  // One sync; while it fails only transiently (HNS restarting, a call past --hns-call-timeout)
  // a few more, backing off, and never past a stop request.
  bool ok = rt.proxier->sync();
  for (int attempt = 1; !ok && attempt <= kSyncOnceRetries && rt.proxier->lastFailuresTransient() && !rt.stopRequested();
       ++attempt) {
    auto wait = std::chrono::milliseconds(1000) * (1 << (attempt - 1));
    HLOG_INFO("Sync failed transiently; trying again", "attempt", attempt + 1, "inMs", wait.count());
    rt.sleepUnlessStopped(wait);
    if (rt.stopRequested()) break;
    ok = rt.proxier->sync();
  }
  if (auto saved = rt.proxier->reconciler().saveListingCache(); !saved)
    HLOG_ERROR("Failed to write the HNS listing cache", "file", rt.opts.hnsListingCache, "err", saved.error().message);
  rt.persist();
  (*sources)->stop();
  const auto& applied = rt.proxier->reconciler().applied();
  if (ok) {
    rt.out << fmt::format("synced: {} load balancers, {} remote endpoints programmed\n", applied.loadBalancers.size(),
                          applied.endpoints.size());
    return 0;
  }
  rt.err << "sync failed:\n";
  for (const auto& e : rt.proxier->lastErrors()) rt.err << "  " << e << "\n";
  return 1;
}

int runDaemon(Runtime& rt) {
  const Options& o = rt.opts;
  // Nothing is programmed yet: the initial state is a queued change, so a start-up that hangs
  // turns /healthz 503 after 2 × --sync-period (upstream counts only changes queued later).
  rt.health.startingUp(std::chrono::system_clock::now());
  StatusServers status(rt.io, o, rt.health, rt.metrics);
  ServiceHealthServers serviceHealth(rt.io, rt.health);
  std::promise<Status> bound;
  asio::post(rt.io, [&] { bound.set_value(status.start()); });
  if (auto st = bound.get_future().get(); !st) {
    rt.stopIo([&] { status.stop(); });
    return fail(rt, "Failed to start", st.error());
  }
  auto sources = startSources(rt, true);
  if (!sources) {
    rt.stopIo([&] { status.stop(); });
    // Asked to stop while waiting (for HNS, the network, the API server): a clean stop, not a
    // failure — the service manager must see exit code 0.
    if (rt.stopRequested()) {
      HLOG_INFO("Stopped before start-up finished", "waitingFor", sources.error().message);
      return 0;
    }
    return fail(rt, "Unable to create proxier", sources.error());
  }

  auto afterSync = [&] {
    rt.persist();
    asio::post(rt.io, [&, snap = rt.proxier->healthSnapshot()] {
      for (const auto& [port, msg] : serviceHealth.sync(snap.ports, snap.localReady))
        HLOG_ERROR("FailedToStartServiceHealthcheck: health-check node port not bound; retrying at the next sync",
                   "port", port, "err", msg);
    });
  };
  using D = SyncScheduler::Duration;
  auto retry = std::min(std::max<Duration>(o.minSyncPeriod, std::chrono::seconds(1)), o.syncPeriod);
  SyncRunner runner(SyncScheduler(std::chrono::duration_cast<D>(o.minSyncPeriod), std::chrono::duration_cast<D>(o.syncPeriod),
                                  std::chrono::duration_cast<D>(retry)),
                    [&] {
                      bool ok = rt.proxier->sync();
                      afterSync();
                      return ok;
                    });
  // Verification runs between syncs, a slice at a time: a change never waits behind it.
  runner.setBackground([&] { return rt.proxier->verificationDue(); }, [&] { return rt.proxier->verify(); });
  rt.tracker.setOnChange([&] {
    rt.health.queuedUpdate(std::chrono::system_clock::now());
    rt.metrics.setLastQueued(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    runner.request();
  });
  runner.start();
  runner.request();
  // HNS service notifications (a restart of the HNS service, a network created or deleted): verify
  // HNS at once rather than at the next --hns-verify-period or failed call.
  auto notifications = rt.backend->api().subscribe([&](const hns::ServiceNotification& n) {
    HLOG_INFO("HNS service notification: verifying what HNS holds", "type", fmt::format("0x{:X}", n.type));
    rt.proxier->requestVerification();
    runner.request();
  });
  if (!notifications)
    HLOG_V(2, "No HNS service notifications; drift is found by periodic verification", "reason",
           notifications.error().message);
  watchLateCalls(rt, [&] { runner.request(); });

  // The manifest directory is read on a thread of its own: parsing a large file (or a file that
  // blocks) must never hold up the health and metrics listeners, which share the io thread.
  std::mutex pollMu;
  std::condition_variable pollCv;
  bool pollStop = false;
  std::thread poller;
  if (!(*sources)->fromApiServer())
    poller = std::thread([&] {
      std::unique_lock<std::mutex> lock(pollMu);
      while (!pollCv.wait_for(lock, o.manifestPollInterval, [&] { return pollStop; })) {
        lock.unlock();
        (*sources)->poll();
        lock.lock();
      }
    });
  HLOG_INFO("Started kube-proxy", "node", rt.nodeName, "network", rt.networkName);

  rt.waitForStop();
  {
    std::lock_guard<std::mutex> lock(pollMu);
    pollStop = true;
  }
  pollCv.notify_all();
  if (poller.joinable()) poller.join();
  (*sources)->stop();
  rt.tracker.setOnChange({});
  if (notifications) notifications->reset();  // no notification reaches the runner after this
  stopWatchingLateCalls(rt);
  runner.stop();  // finishes an in-flight sync; programmed state stays in place
  if (auto saved = rt.proxier->reconciler().saveListingCache(); !saved)
    HLOG_ERROR("Failed to write the HNS listing cache", "file", o.hnsListingCache, "err", saved.error().message);
  rt.persist();
  rt.stopIo([&] {
    status.stop();
    serviceHealth.sync({}, {});
  });
  HLOG_INFO("Stopped");
  log::flush();
  return 0;
}

}  // namespace hnsproxy::proxy

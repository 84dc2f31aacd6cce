#include "proxy/proxier.h"

#include <fmt/format.h>

#include "proxy/logging.h"
#include "proxy/process_metrics.h"

namespace hnsproxy::proxy {

using namespace hnsproxy::policy;

namespace {

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A large sync (start-up, a relist, a mass change) frees most of what it allocated — decoded
// objects' JSON, the plan, HNS documents: releaseFreedMemory() after it.
constexpr std::size_t kLargeSync = 1000;  // objects in the batch plus operations in the plan

const char* networkTypeName(NetworkType t) {
  switch (t) {
    case NetworkType::L2Bridge: return "L2Bridge";
    case NetworkType::Overlay: return "Overlay";
    case NetworkType::Other: return "Other";
  }
  return "?";
}

}  // namespace

Proxier::Proxier(hns::ReconcilerOptions opts, hns::Api& api, ChangeTracker& tracker, Metrics& metrics,
                 ProxyHealth& health, hns::Clock clock, hns::Sleep sleep)
    : reconciler_(api, std::move(opts), std::move(clock), std::move(sleep)),
      tracker_(tracker),
      metrics_(metrics),
      published_(std::make_unique<Published>(metrics)),
      health_(health) {}

Proxier::Published::Published(Metrics& m)
    : loadBalancers(m.gauge("hnsproxy_load_balancers", "Load balancers hnsproxy keeps programmed")),
      remoteEndpoints(m.gauge("hnsproxy_remote_endpoints", "Remote (and VIP) endpoints hnsproxy keeps programmed")),
      backendsTruncated(m.gauge("hnsproxy_backends_truncated", "Usable endpoints left out by the HNS backend limit")),
      frontendConflicts(m.gauge("hnsproxy_frontend_conflicts",
                                "Load balancer claims lost to an older service on the same frontend")),
      opsSucceeded(m.counter("hnsproxy_hns_operations_succeeded_total", "HNS plan operations that succeeded")),
      opsFailed(m.counter("hnsproxy_hns_operations_failed_total", "HNS plan operations that failed (and are retried)")),
      retries(m.counter("hnsproxy_hns_retries_total", "HNS calls retried after a transient failure")),
      driftRepaired(m.counter("hnsproxy_drift_repaired_total", "Objects found changed or missing in HNS by verification")),
      adopted(m.counter("hnsproxy_adopted_objects_total", "HNS objects adopted at start-up and verification")),
      opsPlanned(m.counter("hnsproxy_plan_operations_total", "Operations planned, summed over plans")),
      lastPlanOps(m.gauge("hnsproxy_last_plan_operations", "Operations in the last plan")) {}

Status Proxier::initialize(const std::function<bool()>& stop) {
  auto started = reconciler_.start(stop, [&](const std::string& m) {
    health_.waitingFor("HNS (" + m + ")");
    HLOG_WARN("Unable to find HNS Network specified, please check network name and CNI deployment", "detail", m);
  });
  if (!started) return started.error();
  started_ = *started;
  // The start-up listing (its documents freed by now) was the largest allocation of a restart.
  if (started->fromCache + started->queried > kLargeSync) releaseFreedMemory();
  const auto& v = started->view;
  for (const auto& p : started->problems) HLOG_WARN("HNS network policy ignored", "detail", p);
  if (started->cacheProblem)
    HLOG_WARN("HNS listing cache ignored; every object was read from HNS", "err", started->cacheProblem->message);
  HLOG_INFO("HNS listed", "fromListingCache", started->fromCache, "queried", started->queried, "cachedButModified",
            started->cacheModified);
  HLOG_INFO("Hns Network loaded", "name", v.network.name, "id", v.network.id, "type", networkTypeName(v.network.type),
            "hnsVersion", v.caps.version.str(), "dsr", v.caps.dsr, "dualStack", started->dualStack,
            "modifyLoadBalancer", v.caps.modifyLoadBalancer, "maxBackends", v.caps.maxBackends);
  HLOG_INFO(started->dualStack ? "kube-proxy running in dual-stack mode" : "kube-proxy running in single-stack mode");
  return Ok{};
}

void Proxier::applyBatch(ChangeBatch& b) {
  Engine& engine = reconciler_.engine();
  // Each entry leaves the batch as the engine takes it: at a cold start the batch is the whole
  // cluster, and its emptied entries (6 MB at 10,000 services) were held until the sync ended,
  // through the first programming's peak.
  while (!b.services.empty()) {
    auto entry = b.services.extract(b.services.begin());
    if (auto& s = entry.mapped()) engine.upsertService(std::move(*s));
    else engine.deleteService(entry.key());
  }
  while (!b.slices.empty()) {
    auto entry = b.slices.extract(b.slices.begin());
    if (auto& s = entry.mapped()) {
      if (s->triggerTime) pendingTriggers_.emplace_back(s->ns + "/" + s->name, *s->triggerTime);
      engine.upsertSlice(std::move(*s));
    } else {
      engine.deleteSlice(entry.key().first, entry.key().second);
    }
  }
  if (b.node) {
    const auto& node = *b.node;
    health_.setNodeEligible(node && !node->deleting && !node->toBeDeletedByAutoscaler);
    if (!node) HLOG_WARN("Node is being deleted or is gone", "node", tracker_.nodeName());
    reconciler_.setNode(node);
  }
}

void Proxier::logWarnings(const std::vector<Warning>& ws) {
  for (const auto& w : ws) {
    std::string k = std::string(toString(w.reason)) + ": " + w.message;
    if (!loggedWarnings_[w.service].insert(k).second) continue;
    HLOG_WARN("Service cannot be programmed exactly as specified", "service", w.service.str(), "reason",
              toString(w.reason), "detail", w.message);
  }
}

void Proxier::report(const hns::SyncReport& r) {
  if (r.assumedLoopback && !loopbackLogged_) {
    HLOG_WARN("Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag");
    loopbackLogged_ = true;
  }
  if (r.hostMacNote != hostMacLogged_) {
    if (r.hostMacWarning) HLOG_WARN(r.hostMacNote);
    else if (!r.hostMacNote.empty()) HLOG_INFO(r.hostMacNote);
    hostMacLogged_ = r.hostMacNote;
  }
  for (const auto& p : r.hostProblems) HLOG_WARN("HNS network policy ignored", "detail", p);
  if (r.networkChanged)
    HLOG_WARN("The HNS network is not present or has changed since the last sync, please check the CNI deployment",
              "oldId", r.networkChanged->first, "newId", r.networkChanged->second);
  if (r.adoption) {
    if (r.adoption->first)
      HLOG_INFO("Adopted existing HNS objects", "loadBalancers", r.adoption->loadBalancers, "remoteEndpoints",
                r.adoption->endpoints);
    else if (r.adoption->drift > 0)
      HLOG_WARN("HNS state drifted from what was programmed; repairing", "objects", r.adoption->drift);
  }
  if (r.verificationFailed) HLOG_WARN("HNS verification listing failed; will retry", "err", r.verificationFailed->str());
  if (r.localRefreshFailed)
    HLOG_WARN("Could not read the node's new HNS endpoints; will retry", "err", r.localRefreshFailed->str());
  if (r.listingCacheFailed)
    HLOG_WARN("Could not write the HNS listing cache; will retry", "err", r.listingCacheFailed->str());
  if (r.listingCacheSaved > 0) HLOG_V(4, "HNS listing cache written", "objects", r.listingCacheSaved);
  for (const auto& ip : r.missingLocalEndpoints)
    if (loggedMissing_.insert(ip).second) HLOG_V(2, "Local endpoint not yet in HNS", "ip", ip.str());
  std::erase_if(loggedMissing_, [&](const IpAddress& ip) { return !r.missingLocalEndpoints.count(ip); });
  logWarnings(r.warnings);
}

bool Proxier::sync() {
  auto start = std::chrono::steady_clock::now();
  ChangeBatch batch = tracker_.take();
  std::size_t work = batch.services.size() + batch.slices.size();
  if (!batch.empty()) metrics_.setLastQueued(unixNow());
  applyBatch(batch);
  metrics_.setPending(static_cast<std::int64_t>(tracker_.pendingServices()),
                      static_cast<std::int64_t>(tracker_.pendingEndpoints()));
  if (!tracker_.ready()) {
    HLOG_V(2, "Not syncing hns until Services and Endpoints have been received from master");
    return true;
  }
  lastErrors_.clear();
  lastFailuresTransient_ = true;
  hns::SyncReport r = reconciler_.sync();
  report(r);
  work += r.work();
  if (r.error) {
    lastErrors_.push_back(r.error->str());
    lastFailuresTransient_ = r.error->retryable();
    HLOG_ERROR("Sync failed", "err", r.error->str());
    metrics_.countSync(false);
    return false;
  }
  // The first failures in full, then one summary: an outage under thousands of services is one
  // screen of log, not thousands of lines.
  constexpr std::size_t kLoggedFailures = 5;
  std::map<std::string, std::size_t> byCode;
  for (std::size_t i = 0; i < r.applied.failures.size(); ++i) {
    const auto& f = r.applied.failures[i];
    lastErrors_.push_back(f.str());
    if (!f.error.retryable()) lastFailuresTransient_ = false;
    ++byCode[toString(f.error.code)];
    if (i < kLoggedFailures) HLOG_ERROR("HNS operation failed; it will be retried", "err", f.str());
  }
  if (r.applied.failures.size() > kLoggedFailures) {
    std::string codes;
    for (const auto& [c, n] : byCode) codes += (codes.empty() ? "" : ", ") + c + "=" + std::to_string(n);
    HLOG_ERROR("HNS operations failed this sync; they will be retried", "failed", r.applied.failures.size(),
               "byError", codes);
  }
  if (r.applied.abandoned)
    HLOG_ERROR("HNS is not answering; the rest of this sync's plan was left for the next attempt", "pending",
               r.applied.failures.size());
  const bool ok = r.ok();
  auto end = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(end - start).count();
  metrics_.syncDuration.observe(elapsed);
  metrics_.countSync(ok);
  auto now = std::chrono::system_clock::now();
  if (ok) {
    metrics_.setLastSync(unixNow());
    health_.updated(now);
    for (const auto& [slice, trigger] : pendingTriggers_)
      if (trigger <= now) metrics_.networkProgrammingDuration.observe(std::chrono::duration<double>(now - trigger).count());
    pendingTriggers_.clear();
  }
  publishMetrics();
  if (!r.plan.empty())
    HLOG_V(2, "Programmed HNS", "operations", r.plan.ops.size(), "failed", r.applied.failed, "retries",
           r.applied.retries, "full", r.fullDiff);
  HLOG_V(4, "Syncing proxy rules complete", "elapsed", fmt::format("{:.6f}s", elapsed));
  if (work >= kLargeSync) releaseFreedMemory();
  return ok;
}

bool Proxier::verify() {
  hns::VerifyReport v = reconciler_.verifySlice();
  if (!v.ran) return false;
  if (v.failed) {
    HLOG_WARN("HNS verification could not read HNS; will retry", "err", v.failed->str());
    return false;
  }
  if (v.networkChanged)
    HLOG_WARN("The HNS network is not present or has changed since the last sync, please check the CNI deployment");
  if (v.drift > 0) HLOG_WARN("HNS state drifted from what was programmed; repairing", "objects", v.drift);
  if (v.adopted > 0) HLOG_INFO("HNS holds objects of ours the record did not; adopted", "objects", v.adopted);
  if (v.duplicates > 0) HLOG_WARN("HNS holds duplicates of our objects; deleting them", "objects", v.duplicates);
  if (v.fullReadDone) HLOG_INFO("HNS re-read in full; what differed is repaired", "unverifiedLeft", reconciler_.unverified());
  HLOG_V(5, "HNS verification slice", "existence", v.existencePass, "read", v.read);
  if (v.needsSync()) publishMetrics();
  return v.needsSync();
}

void Proxier::publishMetrics() {
  const Engine& engine = reconciler_.engine();
  metrics_.setNoLocalEndpoints(static_cast<std::int64_t>(engine.noLocalEndpointsInternal()),
                               static_cast<std::int64_t>(engine.noLocalEndpointsExternal()));
  const auto& applied = reconciler_.applied();
  const auto st = reconciler_.programmerStats();
  const auto& rs = reconciler_.stats();
  Published& p = *published_;
  p.loadBalancers.set(static_cast<double>(applied.loadBalancers.size()));
  p.remoteEndpoints.set(static_cast<double>(applied.endpoints.size()));
  p.backendsTruncated.set(static_cast<double>(engine.backendsTruncated()));
  p.frontendConflicts.set(static_cast<double>(engine.conflictingFrontends()));
  p.opsSucceeded.set(static_cast<double>(st.opsSucceeded));
  p.opsFailed.set(static_cast<double>(st.opsFailed));
  p.retries.set(static_cast<double>(st.retries));
  p.driftRepaired.set(static_cast<double>(rs.driftRepaired));
  p.adopted.set(static_cast<double>(rs.adoptedLoadBalancers + rs.adoptedEndpoints));
  p.opsPlanned.set(static_cast<double>(st.opsPlanned));
  p.lastPlanOps.set(static_cast<double>(st.lastPlanSize));
}

Result<Plan> Proxier::planOnly() {
  ChangeBatch batch = tracker_.take();
  applyBatch(batch);
  if (!tracker_.ready()) return Error(ErrorCode::Transient, "sources have not synced");
  hns::SyncReport r = reconciler_.plan();
  report(r);
  if (r.error) return *r.error;
  return std::move(r.plan);
}

hns::SyncReport Proxier::cleanup() {
  hns::SyncReport r = reconciler_.cleanup();
  report(r);
  return r;
}

HealthSnapshot Proxier::healthSnapshot() const {
  const Engine& engine = reconciler_.engine();
  HealthSnapshot h;
  h.ports = engine.healthCheckNodePorts();
  for (const auto& [port, svc] : h.ports) h.localReady[svc] = engine.localReadyEndpoints(svc);
  return h;
}

}  // namespace hnsproxy::proxy

#include "proxy/proxier.h"

#include <malloc.h>  // malloc_trim (glibc), _heapmin (Windows CRT)

#include <ctime>

#include <fmt/format.h>

#include "hns/node_context.h"
#include "proxy/logging.h"

namespace hnsproxy::proxy {

using namespace hnsproxy::policy;

namespace {

// RFC 3339 (with optional fraction and offset) to system time; nullopt when it does not parse.
std::optional<SysTime> parseRfc3339(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  char t;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &t, &h, &mi, &sec) != 7 || (t != 'T' && t != 't'))
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
#ifdef _WIN32
  std::time_t base = _mkgmtime(&tm);
#else
  std::time_t base = timegm(&tm);
#endif
  std::size_t i = 19;
  double frac = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t j = i + 1;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    frac = std::stod("0" + s.substr(i, j - i));
    i = j;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return std::nullopt;
  }
  auto tp = std::chrono::system_clock::from_time_t(base - offset);
  return tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(frac));
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Proxier::Proxier(ProxierConfig cfg, hns::Api& api, ChangeTracker& tracker, Metrics& metrics, ProxyHealth& health)
    : cfg_(std::move(cfg)),
      api_(api),
      tracker_(tracker),
      metrics_(metrics),
      health_(health),
      programmer_(api, [&] {
        auto p = cfg_.programmer;
        p.networkName = cfg_.networkName;
        return p;
      }()) {}

Status Proxier::initialize(const std::function<bool()>& stop) {
  auto l = programmer_.listWaiting(stop, [&](const std::string& m) {
    HLOG_WARN("Unable to find HNS Network specified, please check network name and CNI deployment",
              "hnsNetworkName", cfg_.networkName, "detail", m);
  });
  if (!l) return l.error();
  auto caps = Capabilities::fromVersion(l->version);
  if (!caps.apiV2)
    return Error(ErrorCode::InvalidInput,
                 "Windows HNS Api V2 required. This version of windows does not support API V2 (HNS " +
                     l->version.str() + ")");
  bool overlay = hns::equalsIgnoreCase(l->network.type, "Overlay");
  if (overlay) {
    if (!cfg_.winOverlay)
      return Error(ErrorCode::InvalidInput, "WinOverlay feature gate not enabled: the HNS network '" +
                                                cfg_.networkName + "' is of type Overlay; set --feature-gates=WinOverlay=true");
    if (!caps.remoteSubnet)
      return Error(ErrorCode::InvalidInput, "remote subnet policies are not supported by HNS " + l->version.str() +
                                                ", which an Overlay network needs");
    if (!cfg_.rules.sourceVip) return Error(ErrorCode::InvalidInput, "source-vip flag not set");
  }
  if (cfg_.rules.enableDsr && !caps.dsr)
    return Error(ErrorCode::InvalidInput, "--enable-dsr: DSR is not supported by HNS " + l->version.str() +
                                              " (needs 9.3+ on Windows Server 2019, or 10.2+)");
  HLOG_INFO("Hns Network loaded", "name", l->network.name, "id", l->network.id, "type", l->network.type, "hnsVersion",
            l->version.str(), "dsr", caps.dsr, "dualStack", caps.dualStack && !overlay, "modifyLoadBalancer",
            caps.modifyLoadBalancer, "maxBackends", caps.maxBackends);
  HLOG_INFO(caps.dualStack && !overlay ? "kube-proxy running in dual-stack mode" : "kube-proxy running in single-stack mode");
  listing_ = std::move(*l);
  lastVerify_ = std::chrono::steady_clock::now();
  return Ok{};
}

Result<NodeContext> Proxier::contextFrom(const hns::Listing& l) {
  hns::NodeContextOptions o;
  o.networkName = cfg_.networkName;
  o.nodeName = cfg_.nodeName;
  o.rootEndpointName = cfg_.rootEndpointName;
  o.config = cfg_.rules;
  if (node_) o.zone = node_->zone;
  if (cfg_.bindAddress) {
    o.nodeIPs = {*cfg_.bindAddress};
  } else if (node_) {
    for (const auto* list : {&node_->internalIPs, &node_->externalIPs})
      for (const auto& ip : *list) {
        bool haveFamily = false;
        for (const auto& x : o.nodeIPs) haveFamily |= x.family() == ip.family();
        if (!haveFamily) o.nodeIPs.push_back(ip);
      }
  }
  if (o.nodeIPs.empty()) {
    for (const auto& p : l.network.policies)
      if (p.type == "ProviderAddress" && p.settings.contains("ProviderAddress") && p.settings["ProviderAddress"].is_string())
        if (auto ip = IpAddress::parse(p.settings["ProviderAddress"].get<std::string>())) o.nodeIPs = {*ip};
  }
  if (o.nodeIPs.empty()) {
    o.nodeIPs = {IpAddress::v4(127, 0, 0, 1)};
    if (!loopbackLogged_) {
      HLOG_WARN("Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag");
      loopbackLogged_ = true;
    }
  }
  // What the node context reads: the network and the local (CNI) endpoints.
  hns::HnsSnapshot local;
  local.version = l.version;
  local.networks = {l.network};
  for (const auto& e : l.endpoints)
    if (!e.isRemote()) local.endpoints.push_back(e);
  auto r = hns::nodeContextFrom(local, o);
  if (!r) return r.error();
  for (const auto& w : r->warnings) HLOG_WARN("HNS network policy ignored", "detail", w);
  if (!programmer_.modifySupported()) r->context.caps.modifyLoadBalancer = false;
  return r->context;
}

void Proxier::applyBatch(ChangeBatch& b) {
  for (auto& [id, s] : b.services) {
    if (s) engine_.upsertService(std::move(*s));
    else engine_.deleteService(id);
  }
  for (auto& [key, s] : b.slices) {
    if (s) {
      if (!s->triggerTime.empty()) pendingTriggers_.emplace_back(s->ns + "/" + s->name, s->triggerTime);
      engine_.upsertSlice(std::move(*s));
    } else {
      engine_.deleteSlice(key.first, key.second);
    }
  }
  if (b.node) {
    node_ = *b.node;
    bool eligible = node_ && !node_->deleting && !node_->toBeDeletedByAutoscaler;
    health_.setNodeEligible(eligible);
    if (!node_) HLOG_WARN("Node is being deleted or is gone", "node", cfg_.nodeName);
    if (adopted_ && listing_) {
      auto ctx = contextFrom(*listing_);
      if (ctx) {
        NodeContext c = *ctx;
        c.localEndpointIPs = engine_.context().localEndpointIPs;  // keep what was learned since
        engine_.setContext(std::move(c));
      }
    }
  }
}

Status Proxier::adoptFromListing(hns::Listing& l) {
  auto ctx = contextFrom(l);
  if (!ctx) return ctx.error();
  engine_.setContext(*ctx);
  auto ch = engine_.recompute();
  carriedWarnings_.insert(carriedWarnings_.end(), ch.warnings.begin(), ch.warnings.end());
  std::size_t drift = programmer_.adopt(l, engine_.context(), engine_.desired());
  if (adopted_ && drift > 0) HLOG_WARN("HNS state drifted from what was programmed; repairing", "objects", drift);
  if (!adopted_)
    HLOG_INFO("Adopted existing HNS objects", "loadBalancers", programmer_.applied().loadBalancers.size(),
              "remoteEndpoints", programmer_.applied().endpoints.size());
  // Keep only what later context changes read (the network and the CNI's endpoints): the load
  // balancers and remote endpoints are in the programmer's record now.
  l.loadBalancers = {};
  std::erase_if(l.endpoints, [](const hns::HcnEndpoint& e) { return e.isRemote(); });
  l.endpoints.shrink_to_fit();
  adopted_ = true;
  return Ok{};
}

void Proxier::logWarnings(const std::vector<Warning>& ws) {
  std::map<ServiceName, std::set<std::string>> now;
  for (const auto& w : ws) {
    std::string k = w.reason + ": " + w.message;
    now[w.service].insert(k);
    auto& seen = loggedWarnings_[w.service];
    if (seen.count(k)) continue;
    if (w.reason == "LocalEndpointMissing") {
      HLOG_V(2, "Local endpoint not yet in HNS", "service", w.service.str(), "detail", w.message);
    } else {
      HLOG_WARN("Service cannot be programmed exactly as specified", "service", w.service.str(), "reason", w.reason,
                "detail", w.message);
    }
  }
  for (auto& [svc, set] : now) loggedWarnings_[svc].insert(set.begin(), set.end());
}

Result<Plan> Proxier::computePlan(bool& fullDiff) {
  fullDiff = false;
  if (!adopted_) {
    if (!listing_) return Error(ErrorCode::Internal, "the proxier was not initialized");
    if (auto st = adoptFromListing(*listing_); !st) return st.error();
    fullDiff = true;
  } else if (verifyNow_ || (cfg_.verifyPeriod.count() > 0 && std::chrono::steady_clock::now() - lastVerify_ >= cfg_.verifyPeriod)) {
    auto l = programmer_.list();
    lastVerify_ = std::chrono::steady_clock::now();
    if (l) {
      bool networkChanged = listing_ && !hns::equalsIgnoreCase(listing_->network.id, l->network.id);
      if (networkChanged)
        HLOG_WARN("The HNS network is not present or has changed since the last sync, please check the CNI deployment",
                  "oldId", listing_->network.id, "newId", l->network.id);
      if (auto st = adoptFromListing(*l); !st) return st.error();
      listing_ = std::move(*l);
      fullDiff = true;
      verifyNow_ = false;
    } else {
      HLOG_WARN("HNS verification listing failed; will retry", "err", l.error().str());
    }
  }
  Changes changes = engine_.recompute();
  changes.warnings.insert(changes.warnings.begin(), carriedWarnings_.begin(), carriedWarnings_.end());
  carriedWarnings_.clear();
  bool missingLocal = false;
  for (const auto& w : changes.warnings) missingLocal |= w.reason == "LocalEndpointMissing";
  if (missingLocal) {
    // Pods started on this node since HNS was last listed: learn their endpoints (one
    // enumerate, plus a query per new endpoint).
    auto locals = programmer_.refreshLocalEndpoints(cfg_.rules.sourceVip);
    if (locals) {
      engine_.setLocalEndpoints(*locals);
      Changes again = engine_.recompute();
      changes.scope.loadBalancers.insert(again.scope.loadBalancers.begin(), again.scope.loadBalancers.end());
      changes.scope.endpoints.insert(again.scope.endpoints.begin(), again.scope.endpoints.end());
      changes.scope.repointed.insert(again.scope.repointed.begin(), again.scope.repointed.end());
      changes.scope.all = changes.scope.all || again.scope.all;
      std::erase_if(changes.warnings, [](const Warning& w) { return w.reason == "LocalEndpointMissing"; });
      changes.warnings.insert(changes.warnings.end(), again.warnings.begin(), again.warnings.end());
    }
  }
  logWarnings(changes.warnings);
  lastWarnings_ = changes.warnings;
  DiffScope scope = changes.scope;
  if (fullDiff) {
    scope.all = true;
  } else if (!scope.all) {
    const auto& p = programmer_.pending();
    scope.loadBalancers.insert(p.loadBalancers.begin(), p.loadBalancers.end());
    scope.endpoints.insert(p.endpoints.begin(), p.endpoints.end());
  }
  Capabilities caps = engine_.context().caps;
  if (!programmer_.modifySupported()) caps.modifyLoadBalancer = false;
  return diff(programmer_.applied(), engine_.desired(), caps, scope);
}

namespace {
// A large sync (start-up, a relist, a mass change) frees most of what it allocated — decoded
// objects' JSON, the plan, HNS documents — in holes between long-lived state; hand the free pages
// back so the resident size follows what the proxy holds, not its high-water mark.
constexpr std::size_t kLargeSync = 1000;  // objects in the batch plus operations in the plan
void releaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#elif defined(_WIN32)
  _heapmin();
#endif
}
}  // namespace

bool Proxier::sync() {
  std::size_t work = 0;
  bool ok = syncOnce(work);
  if (work >= kLargeSync) releaseFreedMemory();
  return ok;
}

bool Proxier::syncOnce(std::size_t& work) {
  auto start = std::chrono::steady_clock::now();
  ChangeBatch batch = tracker_.take();
  work = batch.services.size() + batch.slices.size();
  if (!batch.empty()) metrics_.setLastQueued(unixNow());
  applyBatch(batch);
  metrics_.setPending(static_cast<std::int64_t>(tracker_.pendingServices()),
                      static_cast<std::int64_t>(tracker_.pendingEndpoints()));
  if (!tracker_.ready()) {
    HLOG_V(2, "Not syncing hns until Services and Endpoints have been received from master");
    return true;
  }
  lastErrors_.clear();
  bool fullDiff = false;
  auto plan = computePlan(fullDiff);
  if (!plan) {
    lastErrors_.push_back(plan.error().str());
    HLOG_ERROR("Sync failed", "err", plan.error().str());
    metrics_.countSync(false);
    return false;
  }
  programmer_.clearPending();
  work += plan->ops.size();
  hns::ApplyReport report = programmer_.apply(*plan);
  bool ok = report.complete();
  for (const auto& e : report.errors) {
    lastErrors_.push_back(e);
    HLOG_ERROR("HNS operation failed; it will be retried", "err", e);
    if (e.find("network was not found") != std::string::npos || e.find("HcnOpenNetwork") != std::string::npos)
      verifyNow_ = true;
  }
  auto end = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(end - start).count();
  metrics_.syncDuration.observe(elapsed);
  metrics_.countSync(ok);
  auto now = std::chrono::system_clock::now();
  if (ok) {
    metrics_.setLastSync(unixNow());
    health_.updated(now);
    for (const auto& [slice, trigger] : pendingTriggers_)
      if (auto t = parseRfc3339(trigger); t && *t <= now)
        metrics_.networkProgrammingDuration.observe(std::chrono::duration<double>(now - *t).count());
    pendingTriggers_.clear();
  }
  publishMetrics();
  if (!plan->empty())
    HLOG_V(2, "Programmed HNS", "operations", plan->ops.size(), "failed", report.failed, "retries", report.retries,
           "full", fullDiff);
  HLOG_V(4, "Syncing proxy rules complete", "elapsed", fmt::format("{:.6f}s", elapsed));
  return ok;
}

void Proxier::publishMetrics() {
  metrics_.setNoLocalEndpoints(static_cast<std::int64_t>(engine_.noLocalEndpointsInternal()),
                               static_cast<std::int64_t>(engine_.noLocalEndpointsExternal()));
  metrics_.setGauge("hnsproxy_load_balancers", "Load balancers hnsproxy keeps programmed",
                    static_cast<double>(programmer_.applied().loadBalancers.size()));
  metrics_.setGauge("hnsproxy_remote_endpoints", "Remote (and VIP) endpoints hnsproxy keeps programmed",
                    static_cast<double>(programmer_.applied().endpoints.size()));
  metrics_.setGauge("hnsproxy_backends_truncated", "Usable endpoints left out by the HNS backend limit",
                    static_cast<double>(engine_.backendsTruncated()));
  metrics_.setGauge("hnsproxy_frontend_conflicts", "Load balancer claims lost to an older service on the same frontend",
                    static_cast<double>(engine_.conflictingFrontends()));
  const auto& st = programmer_.stats();
  metrics_.setGauge("hnsproxy_hns_operations_succeeded_total", "HNS plan operations that succeeded", static_cast<double>(st.opsSucceeded));
  metrics_.setGauge("hnsproxy_hns_operations_failed_total", "HNS plan operations that failed (and are retried)", static_cast<double>(st.opsFailed));
  metrics_.setGauge("hnsproxy_hns_retries_total", "HNS calls retried after a transient failure", static_cast<double>(st.retries));
  metrics_.setGauge("hnsproxy_drift_repaired_total", "Objects found changed or missing in HNS by verification", static_cast<double>(st.driftRepaired));
  metrics_.setGauge("hnsproxy_adopted_objects_total", "HNS objects adopted at start-up and verification",
                    static_cast<double>(st.adoptedLoadBalancers + st.adoptedEndpoints));
  metrics_.setGauge("hnsproxy_plan_operations_total", "Operations planned, summed over plans", static_cast<double>(st.opsPlanned));
  metrics_.setGauge("hnsproxy_last_plan_operations", "Operations in the last plan", static_cast<double>(st.lastPlanSize));
}

Result<Plan> Proxier::planOnly() {
  ChangeBatch batch = tracker_.take();
  applyBatch(batch);
  if (!tracker_.ready()) return Error(ErrorCode::Transient, "sources have not synced");
  bool full = false;
  return computePlan(full);
}

Result<Plan> Proxier::cleanup(hns::ApplyReport& report) {
  if (!listing_) return Error(ErrorCode::Internal, "the proxier was not initialized");
  auto ctx = contextFrom(*listing_);
  if (!ctx) return ctx.error();
  programmer_.adopt(*listing_, *ctx, HnsState{});
  Plan plan = diff(programmer_.applied(), HnsState{}, ctx->caps);
  report = programmer_.apply(plan);
  return plan;
}

HealthSnapshot Proxier::healthSnapshot() const {
  HealthSnapshot h;
  h.ports = engine_.healthCheckNodePorts();
  for (const auto& [port, svc] : h.ports) h.localReady[svc] = engine_.localReadyEndpoints(svc);
  return h;
}

}  // namespace hnsproxy::proxy

#include "hns/reconcile/reconciler.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "hns/reconcile/adoption.h"
#include "hns/reconcile/host_view.h"
#include "hns/reconcile/listing_cache.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

namespace {

bool sameGuid(const std::string& a, const std::string& b) { return normalizeGuid(a) == normalizeGuid(b); }

void mergeInto(Changes& into, Changes&& more) {
  into.scope.all = into.scope.all || more.scope.all;
  into.scope.loadBalancers.merge(more.scope.loadBalancers);
  into.scope.endpoints.merge(more.scope.endpoints);
  into.scope.repointed.merge(more.scope.repointed);
  into.warnings.insert(into.warnings.end(), std::make_move_iterator(more.warnings.begin()),
                       std::make_move_iterator(more.warnings.end()));
  into.servicesRecomputed += more.servicesRecomputed;
}

}  // namespace

Reconciler::Reconciler(Api& api, ReconcilerOptions opts, Clock clock, Sleep sleep)
    : opts_(std::move(opts)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      reader_(api, opts_.networkName, opts_.programmer.parallelism, sleep),
      programmer_(api, ids_, opts_.programmer, sleep) {}

Result<StartInfo> Reconciler::start(const std::function<bool()>& stop,
                                    const std::function<void(const std::string&)>& waitLog) {
  CachedDocs cache;
  std::optional<Error> cacheProblem;
  if (!opts_.listingCache.empty()) {
    auto c = loadListingCache(opts_.listingCache, opts_.programmer.stop);  // (`stop` counts tries: not for this)
    if (c)
      cache = std::move(*c);
    else
      cacheProblem = c.error();
  }
  auto l = reader_.listWaiting(cache.empty() ? nullptr : &cache, stop, waitLog, opts_.waitInitial, opts_.waitMax,
                               opts_.waitLogEvery);
  if (!l) return l.error();
  HostRead host = hostViewFrom(*l);
  const Capabilities& caps = host.view.caps;
  const std::string build = "HNS " + caps.version.str();
  if (!caps.apiV2)
    return Error(ErrorCode::InvalidInput,
                 "Windows HNS Api V2 required. This version of windows does not support API V2 (" + build + ")");
  const bool overlay = host.view.network.type == NetworkType::Overlay;
  if (overlay) {
    if (!opts_.winOverlay)
      return Error(ErrorCode::InvalidInput, "WinOverlay feature gate not enabled: the HNS network '" + opts_.networkName +
                                                "' is of type Overlay; set --feature-gates=WinOverlay=true");
    if (!caps.remoteSubnet)
      return Error(ErrorCode::InvalidInput,
                   "remote subnet policies are not supported by " + build + ", which an Overlay network needs");
    if (!opts_.node.rules.sourceVip) return Error(ErrorCode::InvalidInput, "source-vip flag not set");
  }
  if (opts_.node.rules.enableDsr && !caps.dsr)
    return Error(ErrorCode::InvalidInput,
                 "--enable-dsr: DSR is not supported by " + build + " (needs 9.3+ on Windows Server 2019, or 10.2+)");
  StartInfo info{host.view, caps.dualStack && !overlay, host.problems, l->fromCache, l->queried, cache.modified, cacheProblem};
  // The first write of the cache waits a save period: at start-up (a cold start programming
  // everything, a restart adopting from the cache) it would hold up the first sync, the one that
  // matters most. A process that dies before then leaves the previous cache, which is still safe
  // (existence from the enumerate, marked modifies queried).
  lastCacheSave_ = clock_();
  view_ = std::move(host.view);
  adaptersError_ = l->adaptersError;
  startHostProblems_ = std::move(host.problems);
  startNetworkId_ = l->network.id;
  v_.periodStart = clock_();
  // What came from the cache is unverified: read before a plan touches it, and all of it re-read
  // in slices after the first sync.
  unverified_ = std::move(l->cachedIds);
  std::sort(unverified_.begin(), unverified_.end());
  verified_.assign(unverified_.size(), false);
  fullReadAfterStart_ = !unverified_.empty();
  applyContext(nullptr);
  // Read what is ours now, without the desired state (annotated at the first sync); the listing
  // goes when this returns.
  startAdoption_ = adopt(*l, engine_.context(), HnsState{});
  return info;
}

bool Reconciler::applyContext(SyncReport* r) {
  if (!view_) return false;
  auto built = makeNodeContext(*view_, node_, opts_.node);
  assumedLoopback_ = built.assumedLoopback;
  hostMacNote_.clear();
  hostMacWarning_ = false;
  if (view_->network.type == policy::NetworkType::Overlay) {
    using Source = policy::NodeContextResult::MacSource;
    const auto& c = built.context;
    const std::string nodeIp = c.nodeIPs.empty() ? std::string("?") : c.nodeIPs.front().str();
    const std::string why = adaptersError_.empty() ? "no network adapter has that address" : adaptersError_;
    const std::string& root = opts_.node.rootEndpointName;
    if (built.hostMacFrom == Source::Adapter) {
      hostMacNote_ = "Record Host MAC address " + c.hostMac + " (the adapter with node IP " + nodeIp + ")";
    } else if (built.hostMacFrom == Source::RootEndpoint) {
      hostMacWarning_ = true;
      hostMacNote_ = "could not find host mac address for " + nodeIp + " (" + why + "); using " + c.hostMac +
                     ", the MAC of the HNS endpoint '" + root + "'";
    } else {
      hostMacWarning_ = true;
      hostMacNote_ = "could not find host mac address for " + nodeIp + " (" + why + "), and there is no HNS endpoint '" +
                     root + "' with a MAC: the service VIP and source VIP endpoints are not created until one is found";
    }
  }
  if (r) {
    r->assumedLoopback = assumedLoopback_;
    r->hostMacNote = hostMacNote_;
    r->hostMacWarning = hostMacWarning_;
  }
  return engine_.setContext(std::move(built.context));
}

void Reconciler::setNode(std::optional<Node> node) {
  node_ = std::move(node);
  applyContext(nullptr);
}

// What a listing holds of ours becomes the record: the desired state of every service first
// (adoption takes provenance and endpoint kinds from it), then the IDs and the applied state.
void Reconciler::install(Adoption a, const std::string& networkId, bool first, SyncReport& r) {
  r.warnings = engine_.recompute().warnings;
  askedAbout_ = engine_.missingLocalEndpoints();  // the listing showed every endpoint there is
  annotate(a, engine_.desired());
  std::size_t drift = first || r.networkChanged ? 0 : driftBetween(programmer_.applied(), a.applied);
  ids_.reset(std::move(a.ids));
  programmer_.reset(std::move(a.applied), std::move(a.duplicateLoadBalancers), networkId, std::move(a.duplicateEndpoints));
  stats_.adoptedLoadBalancers += a.adoptedLoadBalancers;
  stats_.adoptedEndpoints += a.adoptedEndpoints;
  stats_.driftRepaired += drift;
  r.adoption = SyncReport::Adoption{first, a.adoptedLoadBalancers, a.adoptedEndpoints, drift};
  r.fullDiff = true;
  adopted_ = true;
}

// Verification: HNS read again.
void Reconciler::adoptListing(const Listing& listing, SyncReport& r) {
  HostRead host = hostViewFrom(listing);
  if (view_ && !sameGuid(view_->network.id, host.view.network.id))
    r.networkChanged = std::make_pair(view_->network.id, host.view.network.id);
  // What this process learned of HNS outlives a re-read of it.
  if (!programmer_.modifySupported()) host.view.caps.modifyLoadBalancer = false;
  view_ = std::move(host.view);
  adaptersError_ = listing.adaptersError;
  r.hostProblems = std::move(host.problems);
  applyContext(&r);
  install(adopt(listing, engine_.context(), HnsState{}), listing.network.id, false, r);
}

// The first sync: what start() read of the listing.
void Reconciler::adoptStart(SyncReport& r) {
  r.hostProblems = std::move(startHostProblems_);
  applyContext(&r);
  Adoption a = std::move(*startAdoption_);
  startAdoption_.reset();
  install(std::move(a), startNetworkId_, true, r);
  // Documents taken from the listing cache are re-read, all of them, in slices from now on.
  if (fullReadAfterStart_) {
    v_.fullRead = true;
    v_.existenceDue = true;
  }
}

// An operation found the network gone: is it? A new ID (the CNI re-created it) drops the record
// and reads HNS whole; the same ID was a transient miss.
void Reconciler::checkNetworkIfSuspect(SyncReport& r) {
  if (!networkSuspect_ || !view_) return;
  auto net = reader_.network();
  if (net && sameGuid(net->id, view_->network.id)) {
    networkSuspect_ = false;
    return;
  }
  if (!net && net.error().code != ErrorCode::NotFound) {
    r.verificationFailed = net.error();
    return;
  }
  auto l = reader_.list();  // NotFound while the network is missing: retried at the next sync
  if (!l) {
    r.verificationFailed = l.error();
    return;
  }
  networkSuspect_ = false;
  adoptListing(*l, r);
}

// Pods started on this node since HNS was last read: the rules left their endpoints out. Ask HNS
// once for the network's endpoints it has not shown before (one enumerate, plus a query per new
// ID), then recompute the services that use them. An IP HNS was already asked about is not asked
// about again until the next listing, so an endpoint that never appears (a host-network pod) costs
// nothing per sync.
void Reconciler::refreshLocalEndpoints(Changes& changes, SyncReport& r) {
  auto missing = engine_.missingLocalEndpoints();
  bool fresh = std::any_of(missing.begin(), missing.end(), [&](const IpAddress& ip) { return !askedAbout_.count(ip); });
  if (!fresh || !view_) {
    r.missingLocalEndpoints = std::move(missing);
    return;
  }
  ++stats_.localRefreshes;
  auto known = ids_.knownEndpointIds();
  auto delta = reader_.endpointsSince(view_->network.id, [&](const std::string& id) { return known.count(id) > 0; });
  if (!delta) {
    r.localRefreshFailed = delta.error();  // asked again at the next sync
    r.missingLocalEndpoints = std::move(missing);
    return;
  }
  askedAbout_ = missing;
  std::vector<std::pair<std::string, std::vector<IpAddress>>> freshLocal;
  std::vector<std::string> freshForeign;
  auto& locals = view_->localEndpoints;
  std::erase_if(locals, [&](const HostEndpoint& e) { return !delta->present.count(normalizeGuid(e.id)); });
  for (const auto& e : delta->fresh) {
    if (e.isRemote()) {
      freshForeign.push_back(e.id);
      continue;
    }
    locals.push_back(hostEndpointFrom(e));
    freshLocal.emplace_back(e.id, locals.back().ips);
  }
  ids_.updateLocal(delta->present, freshLocal, freshForeign);
  if (applyContext(&r)) mergeInto(changes, engine_.recompute());
  r.missingLocalEndpoints = engine_.missingLocalEndpoints();
}

void Reconciler::prepare(SyncReport& r) {
  r.assumedLoopback = assumedLoopback_;
  r.hostMacNote = hostMacNote_;
  r.hostMacWarning = hostMacWarning_;
  if (!adopted_) {
    if (!startAdoption_) {
      r.error = Error(ErrorCode::Internal, "the reconciler was not started");
      return;
    }
    adoptStart(r);
  } else {
    checkNetworkIfSuspect(r);
  }
  Changes changes = engine_.recompute();
  refreshLocalEndpoints(changes, r);
  r.servicesRecomputed = changes.servicesRecomputed;
  r.warnings.insert(r.warnings.end(), std::make_move_iterator(changes.warnings.begin()),
                    std::make_move_iterator(changes.warnings.end()));
  DiffScope scope = std::move(changes.scope);
  if (r.fullDiff) {
    scope.all = true;
  } else if (!scope.all) {
    const auto& p = programmer_.pending();
    scope.loadBalancers.insert(p.loadBalancers.begin(), p.loadBalancers.end());
    scope.endpoints.insert(p.endpoints.begin(), p.endpoints.end());
    // What verification found since the last sync.
    scope.loadBalancers.insert(found_.loadBalancers.begin(), found_.loadBalancers.end());
    scope.endpoints.insert(found_.endpoints.begin(), found_.endpoints.end());
    scope.repointed.insert(found_.repointed.begin(), found_.repointed.end());
  }
  found_ = DiffScope{false, {}, {}, {}};
  r.plan = diff(programmer_.applied(), engine_.desired(), engine_.context().caps, scope);
  // Objects whose documents came from the cache are read before the plan writes to them or points
  // a load balancer at them; what that finds is planned again (a few rounds at most: each reads
  // only objects not read before).
  for (int round = 0; round < 3 && !unverified_.empty() && verifyPlanTargets(r.plan); ++round) {
    Changes more = engine_.recompute();  // the reads may have changed the node context (a CNI endpoint learned)
    if (more.scope.all) scope.all = true;
    scope.loadBalancers.insert(more.scope.loadBalancers.begin(), more.scope.loadBalancers.end());
    scope.endpoints.insert(more.scope.endpoints.begin(), more.scope.endpoints.end());
    scope.repointed.insert(more.scope.repointed.begin(), more.scope.repointed.end());
    scope.loadBalancers.insert(found_.loadBalancers.begin(), found_.loadBalancers.end());
    scope.endpoints.insert(found_.endpoints.begin(), found_.endpoints.end());
    scope.repointed.insert(found_.repointed.begin(), found_.repointed.end());
    found_ = DiffScope{false, {}, {}, {}};
    r.plan = diff(programmer_.applied(), engine_.desired(), engine_.context().caps, scope);
  }
}

void Reconciler::learnFromApply(const ApplyReport& a) {
  // An operation found the network gone: the next sync checks it.
  if (a.networkGone()) networkSuspect_ = true;
  // HNS answered E_NOTIMPL to a modify: plan replaces from now on.
  if (!programmer_.modifySupported() && view_ && view_->caps.modifyLoadBalancer) {
    view_->caps.modifyLoadBalancer = false;
    applyContext(nullptr);
  }
}

// Before a plan runs: the load balancers it modifies are marked in the cache file, so that a
// restart after a crash mid-plan queries them instead of trusting their old documents.
void Reconciler::cacheBeforeApply(const Plan& plan, SyncReport& r) {
  if (opts_.listingCache.empty()) return;
  std::vector<std::string> modified;
  for (const auto& op : plan.ops)
    if (op.kind == OpKind::ModifyLoadBalancer)
      if (auto id = ids_.loadBalancer(op.lb->key)) modified.push_back(*id);
  if (auto st = markModified(opts_.listingCache, modified); !st) {
    r.listingCacheFailed = st.error();
    // Unmarked, the cache could vouch for a changed object: it must not be read at a restart.
    (void)std::remove(opts_.listingCache.c_str());
  }
}

void Reconciler::cacheAfterApply(SyncReport& r) {
  if (opts_.listingCache.empty()) return;
  if (r.applied.succeeded > 0 || r.adoption) cacheDirty_ = true;
  if (!cacheDirty_ || clock_() - lastCacheSave_ < opts_.listingCacheSavePeriod) return;
  auto saved = saveListingCache();
  if (saved)
    r.listingCacheSaved = *saved;
  else
    r.listingCacheFailed = saved.error();
}

Result<std::size_t> Reconciler::saveListingCache() {
  if (opts_.listingCache.empty() || !view_ || !adopted_ || !cacheDirty_) return std::size_t{0};
  lastCacheSave_ = clock_();  // a failure waits for the period too: never a write per sync against a full disk
  ListingCacheWriter w(opts_.listingCache, view_->network.id);
  const auto& applied = programmer_.applied();
  for (const auto& [key, lb] : applied.loadBalancers) {
    auto id = ids_.loadBalancer(key);
    if (!id || lb.foreignSettings) continue;  // HNS holds settings the document would not show: queried
    auto doc = toHcn(lb, [&](const IpAddress& ip) { return ids_.backend(ip); });
    if (!doc) continue;
    doc->id = *id;
    w.add(*doc);
  }
  for (const auto& [ip, ep] : applied.endpoints) {
    auto id = ids_.managedEndpoint(ip);
    if (!id) continue;
    HcnEndpoint doc = toHcn(ep, view_->network.id);
    doc.id = *id;
    w.add(doc);
  }
  if (auto st = w.commit(); !st) return st.error();
  cacheDirty_ = false;
  return w.objects();
}

SyncReport Reconciler::sync() {
  SyncReport r;
  prepare(r);
  if (r.error) return r;
  programmer_.clearPending();
  cacheBeforeApply(r.plan, r);
  r.applied = programmer_.apply(r.plan);
  learnFromApply(r.applied);
  cacheAfterApply(r);
  return r;
}

SyncReport Reconciler::plan() {
  SyncReport r;
  prepare(r);
  return r;
}

SyncReport Reconciler::cleanup() {
  SyncReport r;
  if (!startAdoption_ || !view_) {
    r.error = Error(ErrorCode::Internal, "the reconciler was not started");
    return r;
  }
  auto ctx = makeNodeContext(*view_, node_, opts_.node).context;
  Adoption a = std::move(*startAdoption_);  // adopted with no desired state, as cleanup wants
  startAdoption_.reset();
  ids_.reset(std::move(a.ids));
  programmer_.reset(std::move(a.applied), std::move(a.duplicateLoadBalancers), startNetworkId_,
                     std::move(a.duplicateEndpoints));
  r.plan = diff(programmer_.applied(), HnsState{}, ctx.caps);
  r.fullDiff = true;
  r.applied = programmer_.apply(r.plan);
  return r;
}

}  // namespace hnsproxy::hns

// Verification: what HNS holds, compared with the record, a bounded slice at a time between syncs
// (hns/reconciler.h). HNS has no call that returns many documents: reading the node whole is one
// enumerate plus open/query/close per object — 343,000 calls on a node of a 1,000-node cluster,
// six minutes at 1 ms a call. So nothing here ever reads the node in one go while a change waits:
//  - existence, every period: one enumerate of the network's endpoints and one of the load
//    balancers (and the network itself) against the IDs the record holds; what went is forgotten
//    (the diff re-creates it), what is new is read next (a CNI endpoint, or an object of ours the
//    record lacks: a late create, another writer's — adopted, or deleted when it duplicates one);
//  - content, in rotation: verifyContentPercent of the objects per period, spread over the period,
//    so the whole node is re-read every 100 / verifyContentPercent periods; on request and after a
//    restart from the listing cache, all of it, slice after slice;
//  - what differs replaces the record's entry and is put in scope for the next diff.
#include <algorithm>
#include <cmath>

#include "hns/reconcile/host_view.h"
#include "hns/reconcile/reconciler.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

using namespace hnsproxy::policy;
using TimePoint = std::chrono::steady_clock::time_point;

std::size_t Reconciler::objectCount() const {
  return programmer_.applied().loadBalancers.size() + programmer_.applied().endpoints.size();
}

void Reconciler::startPeriod(TimePoint now) {
  v_.periodStart = now;
  v_.existenceDue = true;
  if (v_.fullRead) return;
  const double share = static_cast<double>(std::min(opts_.verifyContentPercent, 100u)) / 100.0;
  v_.budget = static_cast<std::size_t>(std::ceil(static_cast<double>(objectCount()) * share));
  v_.budgetAtStart = v_.budget;
}

TimePoint Reconciler::verificationDue() const {
  if (!adopted_ || !view_) return TimePoint::max();
  if (verifyRequested_ || v_.existenceDue || v_.fullRead || !v_.unknownLbs.empty() || !v_.unknownEps.empty())
    return v_.retryAt;  // at once, unless HNS failed the last slice
  TimePoint next = TimePoint::max();
  const bool periodic = opts_.verifyPeriod.count() > 0;
  if (periodic) next = v_.periodStart + std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts_.verifyPeriod);
  if (periodic && v_.budget > 0 && v_.budgetAtStart > 0) {
    // Spread over the period: the nth read of the period is due at n/budget of it.
    const double done = static_cast<double>(v_.budgetAtStart - v_.budget) / static_cast<double>(v_.budgetAtStart);
    auto paced = v_.periodStart + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                      std::chrono::duration<double, std::nano>(static_cast<double>(opts_.verifyPeriod.count()) * done));
    next = std::min(next, paced);
  }
  return std::max(next, v_.retryAt);
}

VerifyReport Reconciler::verifySlice() {
  VerifyReport r = slice();
  const auto now = clock_();
  if (r.failed) {  // HNS did not answer: back off (1 s doubling to 30 s), never spin on it
    v_.retryDelay = std::clamp(v_.retryDelay * 2, std::chrono::milliseconds(1000), std::chrono::milliseconds(30000));
    v_.retryAt = now + v_.retryDelay;
  } else if (r.ran) {
    v_.retryDelay = std::chrono::milliseconds(0);
    v_.retryAt = TimePoint::min();
  }
  if (r.existencePass && !r.failed) ++stats_.verifications;
  stats_.driftRepaired += r.drift;
  return r;
}

VerifyReport Reconciler::slice() {
  VerifyReport r;
  if (!adopted_ || !view_) return r;
  const auto now = clock_();
  if (verifyRequested_.exchange(false)) {
    v_.fullRead = true;
    v_.lbCursor.reset();
    v_.epCursor.reset();
    v_.lbsDone = false;
    startPeriod(now);
  } else if (opts_.verifyPeriod.count() > 0 && now - v_.periodStart >= opts_.verifyPeriod) {
    startPeriod(now);
  }
  if (v_.existenceDue) {
    r.ran = r.existencePass = true;
    existencePass(r);
    if (!r.failed) v_.existenceDue = false;
    return r;
  }
  if (!v_.unknownLbs.empty() || !v_.unknownEps.empty()) {
    r.ran = true;
    readUnknown(r);
    return r;
  }
  if (v_.fullRead || (v_.budget > 0 && verificationDue() <= now)) {
    r.ran = true;
    readContent(r);
  }
  return r;
}

// --- existence ---

void Reconciler::existencePass(VerifyReport& r) {
  auto net = reader_.network();
  if (!net) {
    if (net.error().code == ErrorCode::NotFound) {
      networkSuspect_ = true;
      r.networkChanged = true;
    } else {
      r.failed = net.error();
    }
    return;
  }
  if (normalizeGuid(net->id) != normalizeGuid(view_->network.id)) {
    networkSuspect_ = true;
    r.networkChanged = true;
    return;
  }
  // The network's settings (remote subnets come and go with nodes on an overlay network).
  auto info = networkInfoFrom(*net);
  if (!(info.info == view_->network)) {
    view_->network = std::move(info.info);
    r.contextChanged = applyContext(nullptr) || r.contextChanged;
  }
  // The enumerates as sorted IDs (17 bytes each), each string freed as it is converted: 100,000 of
  // them are the pass's memory.
  auto sortedIds = [](std::vector<std::string>& ids) {
    std::vector<HnsId> out;
    out.reserve(ids.size());
    for (auto& id : ids) {
      out.emplace_back(id);
      std::string().swap(id);
    }
    std::vector<std::string>().swap(ids);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  std::vector<HnsId> eps, lbs;
  {
    auto epIds = reader_.endpointIds(view_->network.id);
    if (!epIds) {
      r.failed = epIds.error();
      return;
    }
    eps = sortedIds(*epIds);
  }
  {
    auto lbIds = reader_.loadBalancerIds();
    if (!lbIds) {
      r.failed = lbIds.error();
      return;
    }
    lbs = sortedIds(*lbIds);
  }
  const Existence ex = ids_.compare(eps, lbs);
  // Ours, gone: forgotten, so the diff creates them again (and re-points what used an endpoint).
  for (const auto& [id, ip] : ex.goneManagedEndpoints) {
    programmer_.forgetEndpoint(ip);
    found_.endpoints.insert(ip);
    found_.repointed.insert(ip);
    ++r.drift;
  }
  for (const auto& [id, key] : ex.goneLoadBalancers) {
    programmer_.forgetLoadBalancer(key);
    found_.loadBalancers.insert(key);
    ++r.drift;
  }
  // The CNI's, gone: the pods' services are recomputed.
  if (ids_.keepEndpointIds(eps)) {
    auto& locals = view_->localEndpoints;
    std::erase_if(locals, [&](const HostEndpoint& e) { return !std::binary_search(eps.begin(), eps.end(), HnsId(e.id)); });
    r.contextChanged = applyContext(nullptr) || r.contextChanged;
  }
  // New to the record: read in the next slices.
  v_.unknownEps.clear();
  for (const auto& id : ex.unknownEndpoints) v_.unknownEps.push_back(id.str());
  v_.unknownLbs.clear();
  std::set<std::string> stillForeign;
  for (const auto& h : ex.unknownLoadBalancers) {
    std::string id = h.str();
    if (v_.foreignLbs.count(id)) stillForeign.insert(std::move(id));
    else v_.unknownLbs.push_back(std::move(id));
  }
  v_.foreignLbs = std::move(stillForeign);
}

// Objects the enumerate showed that the record lacks: the CNI's new endpoints, and anything of ours
// made behind the record's back (adopted, or deleted when it duplicates an object of ours).
void Reconciler::readUnknown(VerifyReport& r) {
  const std::size_t n = std::max<std::size_t>(1, opts_.verifySliceObjects);
  auto take = [&](std::vector<std::string>& queue) {
    std::vector<std::string> ids(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(std::min(n, queue.size())));
    queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(ids.size()));
    return ids;
  };
  if (!v_.unknownEps.empty()) {
    auto ids = take(v_.unknownEps);
    if (!readUnknownEndpoints(ids, r)) v_.unknownEps.insert(v_.unknownEps.begin(), ids.begin(), ids.end());
    return;
  }
  auto ids = take(v_.unknownLbs);
  if (!readUnknownLoadBalancers(ids, r)) v_.unknownLbs.insert(v_.unknownLbs.begin(), ids.begin(), ids.end());
}

// An endpoint HNS holds that is not a remote endpoint of ours: the CNI's, learned into the view.
void Reconciler::learnLocal(const HcnEndpoint& e, VerifyReport& r) {
  ids_.addLocalEndpoint(e.id, addressesOf(e));
  auto& locals = view_->localEndpoints;
  std::erase_if(locals, [&](const HostEndpoint& h) { return normalizeGuid(h.id) == normalizeGuid(e.id); });
  locals.push_back(hostEndpointFrom(e));
  r.contextChanged = applyContext(nullptr) || r.contextChanged;
}

bool Reconciler::readUnknownEndpoints(const std::vector<std::string>& ids, VerifyReport& r) {
  auto docs = reader_.endpoints(ids);
  if (!docs) {
    r.failed = docs.error();
    return false;
  }
  r.read += ids.size();
  const auto& desired = engine_.desired();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    markVerified(ids[i]);
    auto& slot = (*docs)[i];
    if (!slot) continue;  // gone meanwhile
    const HcnEndpoint& e = *slot;
    auto ips = addressesOf(e);
    if (ips.empty()) continue;
    const bool sourceVip = !e.isRemote() && ips.size() == 1 && engine_.context().isSourceVip(ips[0]);
    if (!e.isRemote() && !sourceVip) {  // the CNI's: a pod started since the last read
      learnLocal(e, r);
      continue;
    }
    auto m = fromHcn(e, sourceVip ? EndpointKind::SourceVip : EndpointKind::Remote);
    if (!m) continue;
    if (auto mine = ids_.managedEndpoint(m->ip); mine && normalizeGuid(*mine) != normalizeGuid(e.id)) {
      programmer_.addDuplicateEndpoint(e.id);  // a second one for an IP that has ours
      ids_.addForeignEndpoint(e.id);
      ++r.duplicates;
      continue;
    }
    if (!sourceVip)
      if (auto d = desired.endpoints.find(m->ip); d != desired.endpoints.end()) m->kind = d->second.kind;
    ids_.setManagedEndpoint(m->ip, e.id);
    found_.endpoints.insert(m->ip);
    found_.repointed.insert(m->ip);
    programmer_.recordEndpoint(std::move(*m));
    ++r.adopted;
  }
  return true;
}

bool Reconciler::readUnknownLoadBalancers(const std::vector<std::string>& ids, VerifyReport& r) {
  auto docs = reader_.loadBalancers(ids);
  if (!docs) {
    r.failed = docs.error();
    return false;
  }
  r.read += ids.size();
  const auto addresses = ids_.endpointAddresses();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    markVerified(ids[i]);
    auto& slot = (*docs)[i];
    if (!slot) continue;
    auto lb = fromHcn(*slot, addresses);
    if (!lb || lb->backends.empty()) {  // not built on this network's endpoints: not ours
      v_.foreignLbs.insert(ids[i]);
      continue;
    }
    if (auto mine = ids_.loadBalancer(lb->key); mine && normalizeGuid(*mine) != normalizeGuid(slot->id)) {
      programmer_.addDuplicateLoadBalancer(slot->id);  // a second one on a frontend that has ours
      ++r.duplicates;
      continue;
    }
    adoptLoadBalancer(std::move(*lb), slot->id);
    ++r.adopted;
  }
  return true;
}

// A load balancer of ours HNS holds under `id`: into the record, with the desired state's provenance.
void Reconciler::adoptLoadBalancer(LoadBalancer lb, const std::string& id) {
  const auto& desired = engine_.desired();
  if (auto d = desired.loadBalancers.find(lb.key); d != desired.loadBalancers.end()) {
    lb.service = d->second.service;
    lb.portName = d->second.portName;
    lb.kind = d->second.kind;
    lb.allowModify = d->second.allowModify;
  }
  ids_.setLoadBalancer(lb.key, id);
  found_.loadBalancers.insert(lb.key);
  programmer_.recordLoadBalancer(std::move(lb));
}

// --- content ---

void Reconciler::readContent(VerifyReport& r) {
  std::size_t n = std::max<std::size_t>(1, opts_.verifySliceObjects);
  if (!v_.fullRead) n = std::min(n, v_.budget);
  const auto& applied = programmer_.applied();
  std::vector<LbKey> keys;
  std::vector<IpAddress> ips;
  if (!v_.lbsDone) {
    auto it = v_.lbCursor ? applied.loadBalancers.upper_bound(*v_.lbCursor) : applied.loadBalancers.begin();
    for (; it != applied.loadBalancers.end() && keys.size() < n; ++it) keys.push_back(it->first);
    if (it == applied.loadBalancers.end()) v_.lbsDone = true;
  }
  bool sweepDone = false;
  if (v_.lbsDone && keys.size() < n) {
    auto it = v_.epCursor ? applied.endpoints.upper_bound(*v_.epCursor) : applied.endpoints.begin();
    for (; it != applied.endpoints.end() && keys.size() + ips.size() < n; ++it) ips.push_back(it->first);
    sweepDone = it == applied.endpoints.end();
  }
  if (!keys.empty()) {
    readLoadBalancers(keys, r);
    if (r.failed) return;
    v_.lbCursor = keys.back();
  }
  if (!ips.empty()) {
    readEndpoints(ips, r);
    if (r.failed) return;
    v_.epCursor = ips.back();
  }
  if (!v_.fullRead) v_.budget -= std::min(v_.budget, keys.size() + ips.size());
  if (sweepDone) {  // the next sweep starts over
    v_.lbCursor.reset();
    v_.epCursor.reset();
    v_.lbsDone = false;
    if (v_.fullRead) {
      v_.fullRead = false;
      fullReadAfterStart_ = false;
      r.fullReadDone = true;
    }
  }
}

// The documents of these load balancers of ours, compared with the record.
void Reconciler::readLoadBalancers(const std::vector<LbKey>& keys, VerifyReport& r, std::vector<std::string>* reread) {
  if (!reread) reread = &v_.unknownLbs;
  std::vector<LbKey> present;
  std::vector<std::string> ids;
  for (const auto& k : keys)
    if (auto id = ids_.loadBalancer(k)) {
      present.push_back(k);
      ids.push_back(*id);
    }
  auto docs = reader_.loadBalancers(ids);
  if (!docs) {
    r.failed = docs.error();
    return;
  }
  r.read += ids.size();
  std::optional<std::map<std::string, std::vector<IpAddress>>> everyAddress;
  for (std::size_t i = 0; i < present.size(); ++i) {
    markVerified(ids[i]);
    const LbKey& key = present[i];
    auto mine = programmer_.applied().loadBalancers.find(key);
    if (mine == programmer_.applied().loadBalancers.end()) continue;
    const auto& slot = (*docs)[i];
    if (!slot) {  // deleted behind our back
      programmer_.forgetLoadBalancer(key);
      found_.loadBalancers.insert(key);
      ++r.drift;
      continue;
    }
    // The backends this load balancer should reference, by ID; any other ID needs every address.
    std::map<std::string, std::vector<IpAddress>> expected;
    for (const auto& b : mine->second.backends)
      if (auto id = ids_.backend(b)) expected[normalizeGuid(*id)].push_back(b);
    auto got = fromHcn(*slot, expected);
    if (!got) {
      if (!everyAddress) everyAddress = ids_.endpointAddresses();
      got = fromHcn(*slot, *everyAddress);
    }
    if (!got || got->key != key) {  // no longer the load balancer of this frontend
      programmer_.forgetLoadBalancer(key);
      found_.loadBalancers.insert(key);
      ++r.drift;
      if (!got || got->backends.empty()) continue;  // not ours any more (its ID is foreign now)
      // Another frontend of ours (IDs swapped in the record): what the record held for that one
      // is read again, and this object is that frontend's.
      if (auto other = ids_.loadBalancer(got->key); other && normalizeGuid(*other) != normalizeGuid(ids[i])) {
        programmer_.forgetLoadBalancer(got->key);
        reread->push_back(*other);
      }
      adoptLoadBalancer(std::move(*got), ids[i]);
      continue;
    }
    if (got->sameContent(mine->second)) continue;
    got->service = mine->second.service;
    got->portName = mine->second.portName;
    got->kind = mine->second.kind;
    got->allowModify = mine->second.allowModify;
    programmer_.recordLoadBalancer(std::move(*got));
    found_.loadBalancers.insert(key);
    ++r.drift;
  }
}

void Reconciler::readEndpoints(const std::vector<IpAddress>& ips, VerifyReport& r, std::vector<std::string>* reread) {
  if (!reread) reread = &v_.unknownEps;
  std::vector<IpAddress> present;
  std::vector<std::string> ids;
  for (const auto& ip : ips)
    if (auto id = ids_.managedEndpoint(ip)) {
      present.push_back(ip);
      ids.push_back(*id);
    }
  auto docs = reader_.endpoints(ids);
  if (!docs) {
    r.failed = docs.error();
    return;
  }
  r.read += ids.size();
  for (std::size_t i = 0; i < present.size(); ++i) {
    markVerified(ids[i]);
    const IpAddress& ip = present[i];
    auto mine = programmer_.applied().endpoints.find(ip);
    if (mine == programmer_.applied().endpoints.end()) continue;
    const auto& slot = (*docs)[i];
    const EndpointKind kind = mine->second.kind;  // `mine` goes with forgetEndpoint below
    std::optional<ManagedEndpoint> got;
    if (slot && (slot->isRemote() || kind == EndpointKind::SourceVip)) got = fromHcn(*slot, kind);
    if (!got || got->ip != ip) {  // gone, or another object now
      programmer_.forgetEndpoint(ip);
      found_.endpoints.insert(ip);
      found_.repointed.insert(ip);
      ++r.drift;
      if (slot && !slot->isRemote() && kind != EndpointKind::SourceVip) learnLocal(*slot, r);  // the CNI's
      else if (slot) reread->push_back(ids[i]);  // another IP's: read as a new object
      continue;
    }
    if (*got == mine->second) continue;
    programmer_.recordEndpoint(std::move(*got));
    found_.endpoints.insert(ip);
    ++r.drift;
  }
}

// --- objects from the listing cache ---

bool Reconciler::isUnverified(const std::string& id) const {
  if (verifiedCount_ == unverified_.size()) return false;
  auto it = std::lower_bound(unverified_.begin(), unverified_.end(), HnsId(id));
  return it != unverified_.end() && *it == HnsId(id) && !verified_[static_cast<std::size_t>(it - unverified_.begin())];
}

void Reconciler::markVerified(const std::string& id) {
  if (verifiedCount_ == unverified_.size()) return;
  auto it = std::lower_bound(unverified_.begin(), unverified_.end(), HnsId(id));
  if (it == unverified_.end() || !(*it == HnsId(id))) return;
  auto i = static_cast<std::size_t>(it - unverified_.begin());
  if (verified_[i]) return;
  verified_[i] = true;
  if (++verifiedCount_ == unverified_.size()) {  // all confirmed: the index goes
    std::vector<HnsId>().swap(unverified_);
    std::vector<bool>().swap(verified_);
    verifiedCount_ = 0;
  }
}

bool Reconciler::verifyPlanTargets(const Plan& plan) {
  std::vector<LbKey> lbs;
  std::vector<IpAddress> eps;
  std::set<IpAddress> seen;
  auto endpointUsed = [&](const IpAddress& ip) {
    if (auto id = ids_.managedEndpoint(ip); id && isUnverified(*id) && seen.insert(ip).second) eps.push_back(ip);
  };
  for (const auto& op : plan.ops) {
    switch (op.kind) {
      case OpKind::ModifyLoadBalancer:
      case OpKind::DeleteLoadBalancer:
        if (auto id = ids_.loadBalancer(op.lb->key); id && isUnverified(*id)) lbs.push_back(op.lb->key);
        if (op.kind == OpKind::DeleteLoadBalancer) break;
        [[fallthrough]];
      case OpKind::CreateLoadBalancer:
        for (const auto& b : op.lb->backends) endpointUsed(b);
        break;
      case OpKind::DeleteEndpoint: endpointUsed(op.endpoint.ip); break;
      case OpKind::CreateEndpoint: break;
    }
  }
  if (lbs.empty() && eps.empty()) return false;
  VerifyReport r;
  std::vector<std::string> rereadEps, rereadLbs;
  if (!eps.empty()) readEndpoints(eps, r, &rereadEps);
  if (!rereadEps.empty() && !r.failed) readUnknownEndpoints(rereadEps, r);
  if (!lbs.empty() && !r.failed) readLoadBalancers(lbs, r, &rereadLbs);
  if (!rereadLbs.empty() && !r.failed) readUnknownLoadBalancers(rereadLbs, r);
  // A failed read leaves them unverified: the plan goes ahead on the record (the next sync or the
  // background re-read reads them again).
  stats_.driftRepaired += r.drift;
  return r.needsSync();
}

}  // namespace hnsproxy::hns

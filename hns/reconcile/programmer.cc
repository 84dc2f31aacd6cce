#include "hns/reconcile/programmer.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "hns/query_all.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

using namespace hnsproxy::policy;

bool ApplyReport::networkGone() const {
  return std::any_of(failures.begin(), failures.end(),
                     [](const Failure& f) { return f.error.code == ErrorCode::NetworkNotFound; });
}

// NOLINTNEXTLINE(cert-msc32-c,cert-msc51-cpp): rng_ is seeded in the body, from random_device or a test's fixed seed
Programmer::Programmer(Api& api, IdRegistry& ids, ProgrammerOptions opts, Sleep sleep)
    : api_(api), ids_(ids), reader_(api, "", opts.parallelism, sleep), opts_(std::move(opts)), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  rng_.seed(opts_.jitterSeed ? opts_.jitterSeed
                             : static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(),
                    static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  idRng_.seed(seq);
  opts_.parallelism = std::max(1, opts_.parallelism);
  opts_.maxAttempts = std::max(1, opts_.maxAttempts);
}

void Programmer::reset(HnsState applied, std::vector<std::string> duplicates, std::string networkId,
                       std::vector<std::string> duplicateEndpoints) {
  dropNetworkHandle();
  applied_ = std::move(applied);
  duplicates_ = std::move(duplicates);
  duplicateEndpoints_ = std::move(duplicateEndpoints);
  networkId_ = std::move(networkId);
}

void Programmer::clearPending() { pending_ = DiffScope{false, {}, {}, {}}; }

void Programmer::recordLoadBalancer(LoadBalancer lb) {
  auto key = lb.key;
  applied_.loadBalancers.insert_or_assign(key, std::move(lb));
}

void Programmer::forgetLoadBalancer(const LbKey& key) {
  applied_.loadBalancers.erase(key);
  ids_.eraseLoadBalancer(key);
}

void Programmer::recordEndpoint(ManagedEndpoint ep) {
  auto ip = ep.ip;
  applied_.endpoints.insert_or_assign(ip, std::move(ep));
}

void Programmer::forgetEndpoint(const IpAddress& ip) {
  applied_.endpoints.erase(ip);
  ids_.eraseManagedEndpoint(ip);
}

void Programmer::addDuplicateLoadBalancer(std::string id) {
  if (std::find(duplicates_.begin(), duplicates_.end(), id) == duplicates_.end()) duplicates_.push_back(std::move(id));
}

void Programmer::addDuplicateEndpoint(std::string id) {
  if (std::find(duplicateEndpoints_.begin(), duplicateEndpoints_.end(), id) == duplicateEndpoints_.end())
    duplicateEndpoints_.push_back(std::move(id));
}

ProgrammerStats Programmer::stats() const {
  ProgrammerStats s;
  s.plans = plans_;
  s.opsPlanned = opsPlanned_;
  s.lastPlanSize = lastPlanSize_;
  s.opsSucceeded = opsSucceeded_;
  s.opsFailed = opsFailed_;
  s.retries = retries_;
  s.duplicatesDeleted = duplicatesDeleted_;
  return s;
}

std::chrono::milliseconds Programmer::backoff(int attempt) {
  auto base = opts_.backoffInitial.count() << std::min(attempt, 20);
  auto capped = std::min<long long>(base, opts_.backoffMax.count());
  std::lock_guard<std::mutex> lock(rngMu_);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(capped) * jitter(rng_)));
}

Status Programmer::withRetries(const std::function<Status()>& call) {
  Status st = Ok{};
  for (int attempt = 0; attempt < opts_.maxAttempts; ++attempt) {
    if (attempt > 0) {
      if (opts_.stop && opts_.stop()) return st;  // shutting down: no retry
      ++applyRetries_;
      ++retries_;
      sleep_(backoff(attempt - 1));
      if (opts_.stop && opts_.stop()) return st;  // the stop came during the backoff
    }
    st = call();
    if (st || !st.error().retryable()) return st;
  }
  return st;
}

Result<Handle> Programmer::networkHandle() {
  std::lock_guard<std::mutex> lock(netMu_);
  if (networkHandle_) return networkHandle_;
  auto h = api_.open(ObjectKind::Network, networkId_);
  if (!h) {
    // Opening the network by its ID can only miss because the network is gone.
    if (h.error().code == ErrorCode::NotFound)
      return Error(ErrorCode::NetworkNotFound, h.error().message, h.error().hresult);
    return h.error();
  }
  networkHandle_ = *h;
  return networkHandle_;
}

void Programmer::dropNetworkHandle() {
  std::lock_guard<std::mutex> lock(netMu_);
  if (networkHandle_) api_.close(networkHandle_);
  networkHandle_ = 0;
}

// The ID is chosen here, not by HNS: if the create succeeds but its reply is lost (HNS
// stopping, RPC failure), a retry with the same ID gets AlreadyExists for our own object instead
// of leaking an orphan we could never name. Knowing the ID also saves the query hcsshim makes
// after every create. (That HNS keeps a caller-chosen ID is what the HCN signature offers; if a
// build ignored it, the next verification listing would re-learn the real IDs.)
std::string Programmer::newId() {
  std::lock_guard<std::mutex> lock(rngMu_);
  std::uniform_int_distribution<std::uint32_t> d;
  std::uint32_t a = d(idRng_), b = d(idRng_), c = d(idRng_), e = d(idRng_);
  return fmt::format("{:08X}-{:04X}-4{:03X}-{:04X}-{:04X}{:08X}", a, b >> 16, b & 0xfff, 0x8000 | (c >> 18), c & 0xffff, e);
}

Result<std::string> Programmer::createAndGetId(ObjectKind kind, const std::string& id, const std::string& doc,
                                               Handle network, const std::function<bool(const std::string&)>& matches) {
  auto h = api_.create(kind, id, doc, network);
  if (!h) {
    if (h.error().code == ErrorCode::AlreadyExists) {
      // Ours from an earlier attempt whose reply was lost?
      auto mine = api_.open(kind, id);
      if (mine) {
        if (!matches) {  // this operation's own earlier attempt: the same document
          api_.close(*mine);
          return id;
        }
        // A create of an earlier sync that landed late: what it made may be out of date.
        auto queried = api_.query(*mine, defaultQuery());
        api_.close(*mine);
        if (!queried) return queried.error();
        if (matches(*queried)) return id;
        auto del = api_.remove(kind, id);
        if (!del && del.error().code != ErrorCode::NotFound) return del.error();
        return Error(ErrorCode::Transient, std::string("a late create left an out-of-date ") + toString(kind) + " " + id +
                                               "; deleted, creating it again");
      }
    }
    return h.error();
  }
  api_.close(*h);
  return id;
}

template <typename Map, typename Key>
std::string Programmer::idForCreate(Map& unknown, const Key& key, bool* reused) {
  std::lock_guard<std::mutex> lock(unknownMu_);
  auto it = unknown.find(key);
  *reused = it != unknown.end();
  return *reused ? it->second : newId();
}

// Success, or a failure HNS reported for certain (the object was not made): the outcome is known.
// A transient failure may hide a create that still lands: its ID is kept for the next attempt.
template <typename Map, typename Key>
void Programmer::settleCreate(Map& unknown, const Key& key, const std::string& id, const Status& st) {
  std::lock_guard<std::mutex> lock(unknownMu_);
  if (!st && st.error().code == ErrorCode::Transient) unknown[key] = id;
  else unknown.erase(key);
}

template <typename Map, typename Key>
std::optional<std::string> Programmer::takeUnknown(Map& unknown, const Key& key) {
  std::lock_guard<std::mutex> lock(unknownMu_);
  auto it = unknown.find(key);
  if (it == unknown.end()) return std::nullopt;
  std::string id = std::move(it->second);
  unknown.erase(it);
  return id;
}

Status Programmer::createEndpoint(const ManagedEndpoint& ep) {
  bool reused = false;
  const std::string id = idForCreate(unknownEndpoints_, ep.ip, &reused);
  const std::string doc = documentText(toHcn(ep, networkId_));
  std::function<bool(const std::string&)> matches;
  if (reused)
    matches = [&](const std::string& queried) {
      auto j = nlohmann::json::parse(queried, nullptr, false);
      if (j.is_discarded()) return false;
      auto h = endpointFromJson(j);
      if (!h) return false;
      auto found = fromHcn(*h, ep.kind);
      return found && *found == ep;
    };
  Status st = withRetries([&]() -> Status {
    auto net = networkHandle();
    if (!net) return net.error();
    auto created = createAndGetId(ObjectKind::Endpoint, id, doc, *net, matches);
    if (!created) {
      if (created.error().code == ErrorCode::Transient) dropNetworkHandle();  // handles die with an HNS restart
      return created.error();
    }
    ids_.setManagedEndpoint(ep.ip, *created);
    return Ok{};
  });
  settleCreate(unknownEndpoints_, ep.ip, id, st);
  return st;
}

Status Programmer::deleteEndpoint(const ManagedEndpoint& ep) {
  auto id = ids_.managedEndpoint(ep.ip);
  if (!id) id = takeUnknown(unknownEndpoints_, ep.ip);  // a create whose outcome is unknown may have landed
  if (!id) return Ok{};  // never created
  Status st = withRetries([&] { return api_.remove(ObjectKind::Endpoint, *id); });
  if (!st && st.error().code != ErrorCode::NotFound) return st;
  ids_.eraseManagedEndpoint(ep.ip);
  return Ok{};
}

Result<HcnLoadBalancer> Programmer::documentFor(const LoadBalancer& lb) const {
  std::string missing;
  auto doc = toHcn(lb, [&](const IpAddress& ip) { return ids_.backend(ip); }, &missing);
  if (!doc)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("load balancer {}: backend {} has no HNS endpoint", lb.key.str(), missing));
  return *doc;
}

// Something holds our frontend: an object HNS rehydrated after a restart, or one made behind our
// back. Adopt it when it is what we want; else remove it so that the create can be retried.
Status Programmer::adoptOrClearFrontend(const LoadBalancer& lb) {
  auto all = reader_.loadBalancers();
  if (!all) return all.error();
  auto ips = ids_.endpointAddresses();
  for (const auto& h : *all) {
    auto found = fromHcn(h, ips);
    if (!found || found->key != lb.key) continue;
    if (found->sameContent(lb)) {
      ids_.setLoadBalancer(lb.key, h.id);
      return Ok{};
    }
    auto del = api_.remove(ObjectKind::LoadBalancer, h.id);
    if (!del && del.error().code != ErrorCode::NotFound) return del.error();
    return Error(ErrorCode::Transient, "replaced a conflicting load balancer on " + lb.key.str());
  }
  return Error(ErrorCode::PortInUse, "the frontend " + lb.key.str() + " is held by something that is not ours");
}

Status Programmer::createLoadBalancer(const LoadBalancer& lb) {
  auto doc = documentFor(lb);
  if (!doc) return doc.error();
  const std::string text = documentText(*doc);
  bool reused = false;
  const std::string id = idForCreate(unknownLoadBalancers_, lb.key, &reused);
  std::function<bool(const std::string&)> matches;
  if (reused)
    matches = [&](const std::string& queried) {
      auto j = nlohmann::json::parse(queried, nullptr, false);
      if (j.is_discarded()) return false;
      auto h = loadBalancerFromJson(j);
      if (!h) return false;
      auto found = fromHcn(*h, ids_.endpointAddresses());
      return found && found->sameContent(lb);
    };
  bool conflictHandled = false;
  Status st = withRetries([&]() -> Status {
    auto created = createAndGetId(ObjectKind::LoadBalancer, id, text, 0, matches);
    if (created) {
      ids_.setLoadBalancer(lb.key, *created);
      return Ok{};
    }
    ErrorCode c = created.error().code;
    if ((c != ErrorCode::AlreadyExists && c != ErrorCode::PortInUse) || conflictHandled) return created.error();
    conflictHandled = true;
    auto cleared = adoptOrClearFrontend(lb);
    if (!cleared && cleared.error().code == ErrorCode::PortInUse) return created.error();  // not ours: report HNS's error
    return cleared;
  });
  settleCreate(unknownLoadBalancers_, lb.key, id, st);
  return st;
}

Status Programmer::deleteLoadBalancer(const LoadBalancer& lb) {
  auto id = ids_.loadBalancer(lb.key);
  if (!id) id = takeUnknown(unknownLoadBalancers_, lb.key);  // a create whose outcome is unknown may have landed
  if (!id) return Ok{};
  Status st = withRetries([&] { return api_.remove(ObjectKind::LoadBalancer, *id); });
  if (!st && st.error().code != ErrorCode::NotFound) return st;
  ids_.eraseLoadBalancer(lb.key);
  return Ok{};
}

Status Programmer::modifyLoadBalancer(const LoadBalancer& lb) {
  if (modifySupported_) {
    auto id = ids_.loadBalancer(lb.key);
    auto doc = documentFor(lb);
    if (!doc) return doc.error();
    if (id) {
      doc->id = *id;
      const std::string text = documentText(*doc);
      Status st = withRetries([&]() -> Status {
        auto h = api_.open(ObjectKind::LoadBalancer, *id);
        if (!h) return h.error();
        Status m = api_.modify(*h, text);
        api_.close(*h);
        return m;
      });
      if (st) return st;
      if (st.error().code != ErrorCode::NotImplemented && st.error().code != ErrorCode::NotFound) return st;
      if (st.error().code == ErrorCode::NotImplemented) modifySupported_ = false;  // for the process lifetime
    }
  }
  // No modify on this build, or the object vanished: delete + create.
  if (Status d = deleteLoadBalancer(lb); !d) return d;
  return createLoadBalancer(lb);
}

Status Programmer::runOp(const Op& op) {
  if (opts_.stop && opts_.stop()) return Error(ErrorCode::Transient, "not started: kube-proxy is stopping");
  if (opts_.abortAfterTransientFailures && transientRun_ >= opts_.abortAfterTransientFailures)
    return Error(ErrorCode::Transient, "not started: HNS failed the last " +
                                           std::to_string(opts_.abortAfterTransientFailures) +
                                           " operations in a row; the sync is retried");
  Status st = dispatch(op);
  if (st) transientRun_ = 0;
  else if (st.error().retryable()) ++transientRun_;
  return st;
}

Status Programmer::dispatch(const Op& op) {
  switch (op.kind) {
    case OpKind::CreateEndpoint: return createEndpoint(op.endpoint);
    case OpKind::DeleteEndpoint: return deleteEndpoint(op.endpoint);
    case OpKind::CreateLoadBalancer: return createLoadBalancer(*op.lb);
    case OpKind::ModifyLoadBalancer: return modifyLoadBalancer(*op.lb);
    case OpKind::DeleteLoadBalancer: return deleteLoadBalancer(*op.lb);
  }
  return Error(ErrorCode::Internal, "unknown operation");
}

void Programmer::deleteDuplicateEndpoints(ApplyReport& report) {
  for (auto it = duplicateEndpoints_.begin(); it != duplicateEndpoints_.end();) {
    const std::string id = *it;
    Status st = withRetries([&] { return api_.remove(ObjectKind::Endpoint, id); });
    if (st || st.error().code == ErrorCode::NotFound) {
      ++duplicatesDeleted_;
      it = duplicateEndpoints_.erase(it);
    } else {
      report.failures.push_back({"delete duplicate remote endpoint " + id, st.error()});
      ++it;
    }
  }
}

void Programmer::deleteDuplicates(ApplyReport& report) {
  for (auto it = duplicates_.begin(); it != duplicates_.end();) {
    const std::string id = *it;
    Status st = withRetries([&] { return api_.remove(ObjectKind::LoadBalancer, id); });
    if (st || st.error().code == ErrorCode::NotFound) {
      ++duplicatesDeleted_;
      it = duplicates_.erase(it);
    } else {
      report.failures.push_back({"delete duplicate load balancer " + id, st.error()});
      ++it;
    }
  }
}

ApplyReport Programmer::apply(const Plan& plan) {
  ApplyReport report;
  applyRetries_ = 0;
  transientRun_ = 0;
  ++plans_;
  opsPlanned_ += plan.ops.size();
  lastPlanSize_ = plan.ops.size();
  deleteDuplicates(report);  // extra load balancers found on one frontend at adoption go first
  bool lbFailed = false;

  // A phase's operations run at once, in blocks (a block ends before the next starts): their
  // results are held per block, where a cold start's phase of 100,000 endpoint creates held 6 MB
  // of them at its peak.
  constexpr std::size_t kBlock = 4096;
  std::size_t i = 0;
  while (i < plan.ops.size()) {
    std::size_t end = i;
    while (end < plan.ops.size() && end - i < kBlock && plan.ops[end].phase == plan.ops[i].phase) ++end;
    std::vector<Status> results(end - i, Status(Ok{}));
    std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(opts_.parallelism), end - i);
    if (workers <= 1) {
      for (std::size_t k = i; k < end; ++k) results[k - i] = runOp(plan.ops[k]);
    } else {
      std::atomic<std::size_t> next{i};
      std::vector<std::thread> pool;
      for (std::size_t w = 0; w < workers; ++w)
        pool.emplace_back([&] {
          for (std::size_t k = next++; k < end; k = next++) results[k - i] = runOp(plan.ops[k]);
        });
      for (auto& t : pool) t.join();
    }
    for (std::size_t k = i; k < end; ++k) {
      const Op& op = plan.ops[k];
      const Status& st = results[k - i];
      if (st) {
        applyOp(applied_, op);
        ++report.succeeded;
        ++opsSucceeded_;
      } else {
        ++report.failed;
        ++opsFailed_;
        report.failures.push_back({op.str(), st.error()});
        if (op.kind == OpKind::CreateEndpoint || op.kind == OpKind::DeleteEndpoint) {
          pending_.endpoints.insert(op.endpoint.ip);
        } else {
          pending_.loadBalancers.insert(op.lb->key);
          lbFailed = true;
        }
      }
    }
    i = end;
  }
  // Duplicate remote endpoints go once the load balancers that used them were rewritten.
  if (!duplicateEndpoints_.empty() && !lbFailed && duplicates_.empty()) deleteDuplicateEndpoints(report);
  dropNetworkHandle();
  report.retries = applyRetries_;
  report.abandoned = opts_.abortAfterTransientFailures && transientRun_ >= opts_.abortAfterTransientFailures;
  return report;
}

}  // namespace hnsproxy::hns

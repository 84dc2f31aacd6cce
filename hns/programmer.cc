#include "hns/programmer.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "hns/node_context.h"
#include "hns/query_all.h"
#include "hns/translate.h"

namespace hnsproxy::hns {

using namespace hnsproxy::policy;
using nlohmann::json;

namespace {

std::string filterQuery(const json& filter) {
  return json{{"SchemaVersion", {{"Major", 2}, {"Minor", 0}}}, {"Filter", filter.dump()}}.dump();
}

}  // namespace


HnsSnapshot Listing::snapshot() const {
  HnsSnapshot s;
  s.version = version;
  s.networks = {network};
  s.endpoints = endpoints;
  s.loadBalancers = loadBalancers;
  return s;
}

Programmer::Programmer(Api& api, ProgrammerOptions opts, Sleep sleep)
    : api_(api), opts_(std::move(opts)), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  rng_.seed(opts_.jitterSeed ? opts_.jitterSeed
                             : static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(),
                    static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  idRng_.seed(seq);
  if (opts_.parallelism < 1) opts_.parallelism = 1;
  if (opts_.maxAttempts < 1) opts_.maxAttempts = 1;
}

void Programmer::clearPending() { pending_ = DiffScope{false, {}, {}, {}}; }

std::optional<std::string> Programmer::loadBalancerId(const LbKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lbIds_.find(key);
  return it == lbIds_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::optional<std::string> Programmer::endpointId(const IpAddress& ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  return idOfBackend(ip);
}

// Caller holds mu_ (or is single-threaded). A local endpoint wins over a remote one with the
// same IP: the desired state never keeps a remote endpoint for an IP HNS holds locally, and a
// stale remote duplicate must not capture traffic (kubernetes#138000).
std::optional<std::string> Programmer::idOfBackend(const IpAddress& ip) const {
  if (auto it = localEpIds_.find(ip); it != localEpIds_.end()) return it->second;
  if (auto it = managedEpIds_.find(ip); it != managedEpIds_.end()) return it->second;
  return std::nullopt;
}

Result<std::vector<IpAddress>> Programmer::refreshLocalEndpoints(const std::optional<IpAddress>& sourceVip) {
  auto ids = api_.enumerate(ObjectKind::Endpoint, filterQuery({{"HostComputeNetwork", networkId_}}));
  if (!ids) return ids.error();
  std::set<std::string> present(ids->begin(), ids->end());
  std::set<std::string> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = localEpIds_.begin(); it != localEpIds_.end();) {
      if (!present.count(it->second)) {
        it = localEpIds_.erase(it);
        continue;
      }
      known.insert(it->second);
      ++it;
    }
    for (const auto& [ip, id] : managedEpIds_) known.insert(id);
    known.insert(foreignEpIds_.begin(), foreignEpIds_.end());
  }
  std::vector<std::string> fresh;
  for (const auto& id : *ids)
    if (!known.count(id)) fresh.push_back(id);
  auto eps = queryAll<HcnEndpoint>(api_, ObjectKind::Endpoint, fresh, endpointFromJson, opts_.parallelism);
  if (!eps) return eps.error();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : *eps) {
    if (e.isRemote()) {
      foreignEpIds_.insert(e.id);
      continue;
    }
    for (const auto& c : e.ipConfigurations)
      if (auto ip = IpAddress::parse(c.ipAddress)) localEpIds_[*ip] = e.id;
  }
  std::vector<IpAddress> out;
  for (const auto& [ip, id] : localEpIds_)
    if (ip != sourceVip) out.push_back(ip);
  std::sort(out.begin(), out.end());
  return out;
}


Result<std::vector<HcnLoadBalancer>> Programmer::listLoadBalancers() {
  return listAll<HcnLoadBalancer>(api_, ObjectKind::LoadBalancer, loadBalancerFromJson, "", opts_.parallelism);
}

Result<Listing> Programmer::list() {
  Listing l;
  auto v = api_.version();
  if (!v) return v.error();
  l.version = *v;
  auto netIds = api_.enumerate(ObjectKind::Network, filterQuery({{"Name", opts_.networkName}}));
  if (!netIds) return netIds.error();
  auto nets = queryAll<HcnNetwork>(api_, ObjectKind::Network, *netIds, networkFromJson);
  if (!nets) return nets.error();
  if (nets->empty()) return Error(ErrorCode::NotFound, "HNS network '" + opts_.networkName + "' not found");
  l.network = nets->front();
  auto epIds = api_.enumerate(ObjectKind::Endpoint, filterQuery({{"HostComputeNetwork", l.network.id}}));
  if (!epIds) return epIds.error();
  auto eps = queryAll<HcnEndpoint>(api_, ObjectKind::Endpoint, *epIds, endpointFromJson, opts_.parallelism);
  if (!eps) return eps.error();
  l.endpoints = std::move(*eps);
  auto lbs = listLoadBalancers();
  if (!lbs) return lbs.error();
  l.loadBalancers = std::move(*lbs);
  return l;
}

Result<Listing> Programmer::listWaiting(const std::function<bool()>& stop,
                                       const std::function<void(const std::string&)>& log,
                                       std::chrono::milliseconds waitMax, std::chrono::milliseconds logEvery) {
  std::chrono::milliseconds delay = opts_.backoffInitial, sinceLog{0};
  bool logged = false;
  for (;;) {
    auto l = list();
    if (l) {
      if (logged && log) log("HNS network '" + opts_.networkName + "' is available");
      return l;
    }
    bool waitable = l.error().code == ErrorCode::NotFound || l.error().retryable();
    if (!waitable || (stop && stop())) return l.error();
    if (!logged || sinceLog >= logEvery) {
      if (log) log("waiting for HNS: " + l.error().str());
      logged = true;
      sinceLog = std::chrono::milliseconds{0};
    }
    sleep_(delay);
    sinceLog += delay;
    delay = std::min(delay * 2, waitMax);
  }
}

std::size_t Programmer::adopt(const Listing& l, const NodeContext& ctx, const HnsState& desired) {
  std::lock_guard<std::mutex> lock(mu_);
  HnsState before = applied_;
  if (!networkId_.empty() && !equalsIgnoreCase(networkId_, l.network.id)) before = HnsState{};  // a new network
  if (networkHandle_) {
    api_.close(networkHandle_);
    networkHandle_ = 0;
  }
  networkId_ = l.network.id;
  applied_ = HnsState{};
  lbIds_.clear();
  managedEpIds_.clear();
  localEpIds_.clear();
  foreignEpIds_.clear();
  duplicateLbIds_.clear();

  std::map<std::string, std::vector<IpAddress>> ipOfId;
  for (const auto& e : l.endpoints) {
    if (e.ipConfigurations.empty()) continue;
    bool sourceVip = false;
    if (!e.isRemote() && ctx.config.sourceVip && e.ipConfigurations.size() == 1 &&
        IpAddress::parse(e.ipConfigurations[0].ipAddress) == ctx.config.sourceVip)
      sourceVip = true;
    if (e.isRemote() || sourceVip) {
      auto firstIp = IpAddress::parse(e.ipConfigurations[0].ipAddress);
      if (!firstIp) continue;
      auto d = desired.endpoints.find(*firstIp);
      EndpointKind kind = sourceVip ? EndpointKind::SourceVip
                          : (d != desired.endpoints.end() ? d->second.kind : EndpointKind::Remote);
      auto m = fromHcn(e, kind);
      if (!m) continue;
      if (managedEpIds_.count(m->ip)) {
        // Two remote endpoints with one IP: keep the first, leave the other for the operator.
        foreignEpIds_.insert(e.id);
        continue;
      }
      managedEpIds_[m->ip] = e.id;
      applied_.endpoints[m->ip] = *m;
      ipOfId[e.id] = {m->ip};
      ++stats_.adoptedEndpoints;
    } else {
      for (const auto& c : e.ipConfigurations) {
        auto ip = IpAddress::parse(c.ipAddress);
        if (!ip) continue;
        localEpIds_.emplace(*ip, e.id);
        ipOfId[e.id].push_back(*ip);
      }
    }
  }
  for (const auto& h : l.loadBalancers) {
    auto lb = fromHcn(h, ipOfId);
    if (!lb || lb->backends.empty()) continue;  // not built on this network's endpoints: not ours
    if (auto d = desired.loadBalancers.find(lb->key); d != desired.loadBalancers.end()) {
      lb->service = d->second.service;
      lb->portName = d->second.portName;
      lb->kind = d->second.kind;
      lb->allowModify = d->second.allowModify;
    }
    if (lbIds_.count(lb->key)) {
      duplicateLbIds_.push_back(h.id);
      continue;
    }
    lbIds_[lb->key] = h.id;
    applied_.loadBalancers[lb->key] = *lb;
    ++stats_.adoptedLoadBalancers;
  }

  // Drift: what the previous record believed and HNS no longer holds as such.
  std::size_t drift = 0;
  for (const auto& [key, lb] : before.loadBalancers) {
    auto it = applied_.loadBalancers.find(key);
    if (it == applied_.loadBalancers.end() || !it->second.sameContent(lb)) ++drift;
  }
  for (const auto& [ip, ep] : before.endpoints) {
    auto it = applied_.endpoints.find(ip);
    if (it == applied_.endpoints.end() || !(it->second == ep)) ++drift;
  }
  stats_.driftRepaired += drift;
  return drift;
}

std::chrono::milliseconds Programmer::backoff(int attempt) {
  auto base = opts_.backoffInitial.count() << std::min(attempt, 20);
  auto capped = std::min<long long>(base, opts_.backoffMax.count());
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(capped) * jitter(rng_)));
}

Status Programmer::withRetries(const std::function<Status()>& call, ApplyReport& report) {
  Status st = Ok{};
  for (int attempt = 0; attempt < opts_.maxAttempts; ++attempt) {
    if (attempt > 0) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++report.retries;
        ++stats_.retries;
      }
      sleep_(backoff(attempt - 1));
    }
    st = call();
    if (st || !st.error().retryable()) return st;
  }
  return st;
}

Result<Handle> Programmer::networkHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (networkHandle_) return networkHandle_;
  }
  auto h = api_.open(ObjectKind::Network, networkId_);
  if (!h) return h.error();
  std::lock_guard<std::mutex> lock(mu_);
  if (networkHandle_) {
    api_.close(*h);
    return networkHandle_;
  }
  networkHandle_ = *h;
  return networkHandle_;
}

// The ID is chosen here, not by HNS: if the create succeeds but its reply is lost (HNS
// stopping, RPC failure), a retry with the same ID gets AlreadyExists for our own object instead
// of leaking an orphan we could never name. Knowing the ID also saves the query hcsshim makes
// after every create. (That HNS keeps a caller-chosen ID is what the HCN signature offers; if a
// build ignored it, the next verification listing would re-learn the real IDs.)
std::string Programmer::newId() {
  std::lock_guard<std::mutex> lock(mu_);
  std::uniform_int_distribution<std::uint32_t> d;
  std::uint32_t a = d(idRng_), b = d(idRng_), c = d(idRng_), e = d(idRng_);
  return fmt::format("{:08X}-{:04X}-4{:03X}-{:04X}-{:04X}{:08X}", a, b >> 16, b & 0xfff, 0x8000 | (c >> 18), c & 0xffff, e);
}

Result<std::string> Programmer::createAndGetId(ObjectKind kind, const std::string& id, const std::string& doc,
                                               Handle network) {
  auto h = api_.create(kind, id, doc, network);
  if (!h) {
    if (h.error().code == ErrorCode::AlreadyExists) {
      // Ours from an earlier attempt whose reply was lost?
      auto mine = api_.open(kind, id);
      if (mine) {
        api_.close(*mine);
        return id;
      }
    }
    return h.error();
  }
  api_.close(*h);
  return id;
}

Status Programmer::createEndpoint(const ManagedEndpoint& ep, ApplyReport& report) {
  const std::string newGuid = newId();
  return withRetries(
      [&]() -> Status {
        auto net = networkHandle();
        if (!net) {
          if (net.error().code == ErrorCode::Transient) {
            std::lock_guard<std::mutex> lock(mu_);
            networkHandle_ = 0;
          }
          return net.error();
        }
        auto id = createAndGetId(ObjectKind::Endpoint, newGuid, toJson(toHcn(ep, networkId_)).dump(), *net);
        if (!id) {
          if (id.error().code == ErrorCode::Transient) {  // handles die with an HNS restart
            std::lock_guard<std::mutex> lock(mu_);
            networkHandle_ = 0;
          }
          return id.error();
        }
        std::lock_guard<std::mutex> lock(mu_);
        managedEpIds_[ep.ip] = *id;
        return Ok{};
      },
      report);
}

Status Programmer::deleteEndpoint(const ManagedEndpoint& ep, ApplyReport& report) {
  std::optional<std::string> id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = managedEpIds_.find(ep.ip); it != managedEpIds_.end()) id = it->second;
  }
  if (!id) return Ok{};  // never created
  Status st = withRetries([&] { return api_.remove(ObjectKind::Endpoint, *id); }, report);
  if (!st && st.error().code != ErrorCode::NotFound) return st;
  std::lock_guard<std::mutex> lock(mu_);
  managedEpIds_.erase(ep.ip);
  return Ok{};
}

Result<HcnLoadBalancer> Programmer::documentFor(const LoadBalancer& lb) const {
  std::optional<HcnLoadBalancer> doc;
  std::string missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    doc = toHcn(lb, [&](const IpAddress& ip) { return idOfBackend(ip); }, &missing);
  }
  if (!doc)
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("load balancer {}: backend {} has no HNS endpoint", lb.key.str(), missing));
  return *doc;
}

Status Programmer::createLoadBalancer(const LoadBalancer& lb, ApplyReport& report) {
  auto doc = documentFor(lb);
  if (!doc) return doc.error();
  std::string text = toJson(*doc).dump();
  bool conflictHandled = false;
  const std::string newGuid = newId();
  return withRetries(
      [&]() -> Status {
        auto id = createAndGetId(ObjectKind::LoadBalancer, newGuid, text, 0);
        if (id) {
          std::lock_guard<std::mutex> lock(mu_);
          lbIds_[lb.key] = *id;
          return Ok{};
        }
        ErrorCode c = id.error().code;
        if ((c != ErrorCode::AlreadyExists && c != ErrorCode::PortInUse) || conflictHandled) return id.error();
        // Something holds our frontend: an object HNS rehydrated after a restart, or one made
        // behind our back. Adopt it when it is what we want, else remove it and create again.
        conflictHandled = true;
        auto all = listLoadBalancers();
        if (!all) return all.error();
        for (const auto& h : *all) {
          std::map<std::string, std::vector<IpAddress>> ips;
          {
            std::lock_guard<std::mutex> lock(mu_);
            for (const auto& [ip, eid] : managedEpIds_) ips[eid].push_back(ip);
            for (const auto& [ip, eid] : localEpIds_) ips[eid].push_back(ip);
          }
          auto found = fromHcn(h, ips);
          if (!found || found->key != lb.key) continue;
          if (found->sameContent(lb)) {
            std::lock_guard<std::mutex> lock(mu_);
            lbIds_[lb.key] = h.id;
            return Ok{};
          }
          auto del = api_.remove(ObjectKind::LoadBalancer, h.id);
          if (!del && del.error().code != ErrorCode::NotFound) return del.error();
          return Error(ErrorCode::Transient, "replaced a conflicting load balancer on " + lb.key.str());
        }
        return id.error();  // nothing of ours there: the port is taken by something else
      },
      report);
}

Status Programmer::deleteLoadBalancer(const LoadBalancer& lb, ApplyReport& report) {
  std::optional<std::string> id = loadBalancerId(lb.key);
  if (!id) return Ok{};
  Status st = withRetries([&] { return api_.remove(ObjectKind::LoadBalancer, *id); }, report);
  if (!st && st.error().code != ErrorCode::NotFound) return st;
  std::lock_guard<std::mutex> lock(mu_);
  lbIds_.erase(lb.key);
  return Ok{};
}

Status Programmer::modifyLoadBalancer(const LoadBalancer& lb, ApplyReport& report) {
  if (modifySupported_) {
    std::optional<std::string> id = loadBalancerId(lb.key);
    auto doc = documentFor(lb);
    if (!doc) return doc.error();
    if (id) {
      doc->id = *id;
      std::string text = toJson(*doc).dump();
      Status st = withRetries(
          [&]() -> Status {
            auto h = api_.open(ObjectKind::LoadBalancer, *id);
            if (!h) return h.error();
            Status m = api_.modify(*h, text);
            api_.close(*h);
            return m;
          },
          report);
      if (st) return st;
      if (st.error().code != ErrorCode::NotImplemented && st.error().code != ErrorCode::NotFound) return st;
      if (st.error().code == ErrorCode::NotImplemented) modifySupported_ = false;  // for the process lifetime
    }
  }
  // No modify on this build, or the object vanished: delete + create.
  if (Status d = deleteLoadBalancer(lb, report); !d) return d;
  return createLoadBalancer(lb, report);
}

Status Programmer::runOp(const Op& op, ApplyReport& report) {
  switch (op.kind) {
    case OpKind::CreateEndpoint: return createEndpoint(op.endpoint, report);
    case OpKind::DeleteEndpoint: return deleteEndpoint(op.endpoint, report);
    case OpKind::CreateLoadBalancer: return createLoadBalancer(op.lb, report);
    case OpKind::ModifyLoadBalancer: return modifyLoadBalancer(op.lb, report);
    case OpKind::DeleteLoadBalancer: return deleteLoadBalancer(op.lb, report);
  }
  return Error(ErrorCode::Internal, "unknown operation");
}

ApplyReport Programmer::apply(const Plan& plan) {
  ApplyReport report;
  ++stats_.plans;
  stats_.opsPlanned += plan.ops.size();
  stats_.lastPlanSize = plan.ops.size();
  // Extra load balancers found on one frontend at adoption go first.
  for (auto it = duplicateLbIds_.begin(); it != duplicateLbIds_.end();) {
    Status st = withRetries([&] { return api_.remove(ObjectKind::LoadBalancer, *it); }, report);
    if (st || st.error().code == ErrorCode::NotFound) {
      ++stats_.duplicatesDeleted;
      it = duplicateLbIds_.erase(it);
    } else {
      report.errors.push_back("delete duplicate load balancer " + *it + ": " + st.error().str());
      ++it;
    }
  }

  std::size_t i = 0;
  while (i < plan.ops.size()) {
    std::size_t end = i;
    while (end < plan.ops.size() && plan.ops[end].phase == plan.ops[i].phase) ++end;
    std::vector<Status> results(end - i, Status(Ok{}));
    std::size_t workers = std::min<std::size_t>(static_cast<std::size_t>(opts_.parallelism), end - i);
    if (workers <= 1) {
      for (std::size_t k = i; k < end; ++k) results[k - i] = runOp(plan.ops[k], report);
    } else {
      std::atomic<std::size_t> next{i};
      std::vector<std::thread> pool;
      for (std::size_t w = 0; w < workers; ++w)
        pool.emplace_back([&] {
          for (std::size_t k = next++; k < end; k = next++) results[k - i] = runOp(plan.ops[k], report);
        });
      for (auto& t : pool) t.join();
    }
    for (std::size_t k = i; k < end; ++k) {
      const Op& op = plan.ops[k];
      const Status& st = results[k - i];
      if (st) {
        applyOp(applied_, op);
        ++report.succeeded;
        ++stats_.opsSucceeded;
      } else {
        ++report.failed;
        ++stats_.opsFailed;
        report.errors.push_back(op.str() + ": " + st.error().str());
        if (op.kind == OpKind::CreateEndpoint || op.kind == OpKind::DeleteEndpoint)
          pending_.endpoints.insert(op.endpoint.ip);
        else
          pending_.loadBalancers.insert(op.lb.key);
      }
    }
    i = end;
  }
  if (networkHandle_) {
    api_.close(networkHandle_);
    networkHandle_ = 0;
  }
  return report;
}

}  // namespace hnsproxy::hns

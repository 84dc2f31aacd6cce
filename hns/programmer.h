// The programmer: applies plans from the diff engine through hns::Api, and keeps the record of
// what was applied. Contracts:
//  - The applied record advances only for operations that succeeded.
//  - Operations run phase by phase (policy/plan.h); within a phase up to `parallelism` at once.
//  - A transient failure is retried with exponential backoff and jitter, up to maxAttempts; what
//    still fails is reported and listed in pending(), which the next diff must include.
//  - NotFound on delete means "already gone" (success). AlreadyExists / PortInUse on create:
//    the object on that frontend is looked up, adopted if it matches, else deleted and the
//    create retried (kubernetes#139519). E_NOTIMPL on modify turns modify off for the process
//    and the operation becomes delete + create.
//  - Listing HNS happens only in list(): at start-up and for periodic verification.
// Not thread-safe: one caller (the sync loop); internally it may use worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hns/api.h"
#include "hns/hcn_json.h"
#include "policy/engine.h"
#include "policy/plan.h"

namespace hnsproxy::hns {

struct ProgrammerOptions {
  std::string networkName;
  int parallelism = 1;
  int maxAttempts = 4;
  std::chrono::milliseconds backoffInitial{50};
  std::chrono::milliseconds backoffMax{5000};
  std::uint32_t jitterSeed = 0;  // 0: seeded from the clock
};

// One listing of HNS: the network, its endpoints, and every load balancer on the host.
struct Listing {
  policy::HnsVersion version;
  HcnNetwork network;
  std::vector<HcnEndpoint> endpoints;
  std::vector<HcnLoadBalancer> loadBalancers;
  HnsSnapshot snapshot() const;
};

struct ApplyReport {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t retries = 0;
  std::vector<std::string> errors;  // one line per failed operation
  bool complete() const { return failed == 0; }
};

struct ProgrammerStats {
  std::uint64_t plans = 0;
  std::uint64_t opsPlanned = 0;   // sum of plan sizes
  std::size_t lastPlanSize = 0;
  std::uint64_t opsSucceeded = 0;
  std::uint64_t opsFailed = 0;
  std::uint64_t retries = 0;
  std::uint64_t adoptedLoadBalancers = 0;
  std::uint64_t adoptedEndpoints = 0;
  std::uint64_t driftRepaired = 0;     // objects found changed or missing by verification
  std::uint64_t duplicatesDeleted = 0; // extra load balancers on one frontend
};

class Programmer {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  Programmer(Api& api, ProgrammerOptions opts, Sleep sleep = {});

  // Lists the network by name (NotFound when absent), its endpoints, and all load balancers.
  Result<Listing> list();

  // list(), waiting while the network is missing or HNS is unreachable: retries with exponential
  // backoff (backoffInitial doubling up to waitMax), calling `log` on the first failure and then
  // at most once per `logEvery` of waiting (never silently, never flooding). Gives up when
  // `stop()` returns true (shutdown), returning the last error.
  Result<Listing> listWaiting(const std::function<bool()>& stop, const std::function<void(const std::string&)>& log,
                              std::chrono::milliseconds waitMax = std::chrono::seconds(30),
                              std::chrono::milliseconds logEvery = std::chrono::seconds(60));

  // Rebuilds the applied record from a listing: the load balancers built on this network's
  // endpoints and the remote (and source-VIP) endpoints, in policy terms. The caller then diffs
  // the desired state against applied(): matches cost nothing, differences are modified or
  // replaced, stale objects deleted. Returns how many objects differ from the previous record
  // (the drift, when called for verification). A changed network ID drops the old record.
  std::size_t adopt(const Listing& listing, const policy::NodeContext& ctx, const policy::HnsState& desired);

  ApplyReport apply(const policy::Plan& plan);

  // Learns the CNI's local endpoints that appeared or went since the last listing: one filtered
  // enumerate, plus open/query/close only for IDs not seen before. Returns the local endpoint IPs
  // (sorted, unique, without the source VIP), for the engine's context. Called when the rules
  // meet a local endpoint HNS did not have yet.
  Result<std::vector<policy::IpAddress>> refreshLocalEndpoints(const std::optional<policy::IpAddress>& sourceVip);

  const policy::HnsState& applied() const { return applied_; }
  const policy::DiffScope& pending() const { return pending_; }
  void clearPending();
  const ProgrammerStats& stats() const { return stats_; }
  bool modifySupported() const { return modifySupported_; }
  std::optional<std::string> loadBalancerId(const policy::LbKey& key) const;
  std::optional<std::string> endpointId(const policy::IpAddress& ip) const;

 private:
  Status runOp(const policy::Op& op, ApplyReport& report);
  Status withRetries(const std::function<Status()>& call, ApplyReport& report);
  Result<HcnLoadBalancer> documentFor(const policy::LoadBalancer& lb) const;
  Status createLoadBalancer(const policy::LoadBalancer& lb, ApplyReport& report);
  Status deleteLoadBalancer(const policy::LoadBalancer& lb, ApplyReport& report);
  Status modifyLoadBalancer(const policy::LoadBalancer& lb, ApplyReport& report);
  Status createEndpoint(const policy::ManagedEndpoint& ep, ApplyReport& report);
  Status deleteEndpoint(const policy::ManagedEndpoint& ep, ApplyReport& report);
  Result<Handle> networkHandle();
  Result<std::string> createAndGetId(ObjectKind kind, const std::string& id, const std::string& doc, Handle network);
  std::string newId();
  Result<std::vector<HcnLoadBalancer>> listLoadBalancers();
  std::optional<std::string> idOfBackend(const policy::IpAddress& ip) const;
  std::chrono::milliseconds backoff(int attempt);

  Api& api_;
  ProgrammerOptions opts_;
  Sleep sleep_;
  std::mt19937 rng_;
  std::mt19937 idRng_;
  mutable std::mutex mu_;  // guards everything below while workers run

  policy::HnsState applied_;
  policy::DiffScope pending_{false, {}, {}, {}};
  std::map<policy::LbKey, std::string> lbIds_;
  std::unordered_map<policy::IpAddress, std::string> managedEpIds_;
  std::unordered_map<policy::IpAddress, std::string> localEpIds_;
  std::set<std::string> foreignEpIds_;  // remote endpoints on the network that are not ours
  std::vector<std::string> duplicateLbIds_;
  std::string networkId_;
  Handle networkHandle_ = 0;
  bool modifySupported_ = true;
  ProgrammerStats stats_;
};

}  // namespace hnsproxy::hns

// The programmer: applies plans from the diff engine through hns::Api and keeps the record of what
// was applied. Contracts:
//  - The applied record advances only for operations that succeeded.
//  - Operations run phase by phase (policy/plan.h); within a phase up to `parallelism` at once.
//  - A transient failure is retried with exponential backoff and jitter, up to maxAttempts; what
//    still fails is reported ({operation, Error}) and listed in pending(), which the next diff
//    must include.
//  - NotFound on delete means "already gone" (success). AlreadyExists / PortInUse on create:
//    the object on that frontend is looked up, adopted if it matches, else deleted and the
//    create retried (kubernetes#139519). E_NOTIMPL on modify turns modify off for the process
//    and the operation becomes delete + create.
//  - Object IDs are chosen here, so a create whose reply is lost is recognised on retry. A create
//    that failed transiently (a call past its deadline may still land; a reply may have been
//    lost) leaves its ID as the object's "outcome unknown": the next create of the same IP or
//    frontend uses that ID again (HNS answers AlreadyExists instead of making a second one; what
//    it holds is read and adopted when it matches, replaced when not), and a delete removes it —
//    a late create is never made twice.
//  - It reads HNS only to resolve a contested frontend; listings are the reader's (hns/reader.h).
// Thread-safety: apply(), reset() and clearPending() are called by one thread at a time (the
// reconciler's); the const accessors may be called from any thread between those calls, except
// applied()/pending(), which belong to the calling thread. During apply() the worker threads share
// only the Api (which must be thread-safe), the IdRegistry (locked), the statistics and report
// counters (atomic), the random sources (locked) and modifySupported (atomic). The applied record
// and pending set change only on the calling thread, between phases.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hns/reconcile/adoption.h"
#include "hns/api.h"
#include "hns/reconcile/id_registry.h"
#include "hns/reconcile/reader.h"
#include "policy/plan.h"

namespace hnsproxy::hns {

struct ProgrammerOptions {
  int parallelism = 1;
  int maxAttempts = 4;
  std::chrono::milliseconds backoffInitial{50};
  std::chrono::milliseconds backoffMax{5000};
  std::uint32_t jitterSeed = 0;  // 0: seeded from the clock
  // Shutdown: once it returns true no call is retried and the rest of a plan is not started (each
  // left operation is reported as failed and stays pending), so a stop is honoured within one HNS
  // call however many operations fail.
  std::function<bool()> stop;
  // When this many operations in a row have failed transiently after their retries, HNS is taken
  // to be down: the rest of the plan is not started (reported as failed, kept pending) and the
  // sync ends, to be retried, instead of walking thousands of operations through their backoff.
  std::size_t abortAfterTransientFailures = 16;  // 0: never
};

// An operation that failed after its retries, and why.
struct Failure {
  std::string operation;  // what was attempted, for logs ("[6] create-lb IPv4/TCP/…", "delete duplicate …")
  Error error;
  std::string str() const { return operation + ": " + error.str(); }
};

struct ApplyReport {
  std::size_t succeeded = 0;
  std::size_t failed = 0;
  std::size_t retries = 0;
  std::vector<Failure> failures;
  bool complete() const { return failed == 0 && failures.empty(); }
  bool abandoned = false;  // HNS looked down: the plan was cut short (see abortAfterTransientFailures)
  // Some operation found the network gone (the CNI deleted or re-created it).
  bool networkGone() const;
};

struct ProgrammerStats {
  std::uint64_t plans = 0;
  std::uint64_t opsPlanned = 0;  // sum of plan sizes
  std::size_t lastPlanSize = 0;
  std::uint64_t opsSucceeded = 0;
  std::uint64_t opsFailed = 0;
  std::uint64_t retries = 0;
  std::uint64_t duplicatesDeleted = 0;  // extra load balancers on one frontend
};

class Programmer {
 public:
  Programmer(Api& api, IdRegistry& ids, ProgrammerOptions opts, Sleep sleep = {});

  // Starts over from what a listing holds: the applied record, the duplicates to delete first,
  // and the network new endpoints are created on.
  // Extra remote endpoints for one IP go once no load balancer uses them (after a plan whose
  // load-balancer operations all succeeded: those that used them were adopted as needing a rewrite).
  void reset(policy::HnsState applied, std::vector<std::string> duplicateLoadBalancers, std::string networkId,
             std::vector<std::string> duplicateEndpoints = {});

  ApplyReport apply(const policy::Plan& plan);

  // What verification read of HNS (between applies, on the calling thread): HNS's record of an
  // object replaces ours, or the object is gone (its ID too); the next diff repairs what differs.
  void recordLoadBalancer(policy::LoadBalancer lb);
  void forgetLoadBalancer(const policy::LbKey& key);
  void recordEndpoint(policy::ManagedEndpoint ep);
  void forgetEndpoint(const policy::IpAddress& ip);
  // Extra objects of ours found on a frontend or for an IP that already has one (deleted by the
  // next apply: load balancers first, endpoints once no load balancer of that apply failed).
  void addDuplicateLoadBalancer(std::string id);
  void addDuplicateEndpoint(std::string id);

  const policy::HnsState& applied() const { return applied_; }
  const policy::DiffScope& pending() const { return pending_; }
  void clearPending();
  ProgrammerStats stats() const;
  // False once HNS answered E_NOTIMPL to a modify: the effective capabilities drop in-place modify.
  bool modifySupported() const { return modifySupported_.load(); }

 private:
  Status runOp(const policy::Op& op);
  Status dispatch(const policy::Op& op);
  Status withRetries(const std::function<Status()>& call);
  Result<HcnLoadBalancer> documentFor(const policy::LoadBalancer& lb) const;
  Status createLoadBalancer(const policy::LoadBalancer& lb);
  Status deleteLoadBalancer(const policy::LoadBalancer& lb);
  Status modifyLoadBalancer(const policy::LoadBalancer& lb);
  Status createEndpoint(const policy::ManagedEndpoint& ep);
  Status deleteEndpoint(const policy::ManagedEndpoint& ep);
  Status adoptOrClearFrontend(const policy::LoadBalancer& lb);
  Result<Handle> networkHandle();
  void dropNetworkHandle();
  // `matches`, for an ID reused from a create whose outcome was unknown: whether the object HNS
  // already holds under that ID is the one wanted (else it is deleted and the create retried).
  Result<std::string> createAndGetId(ObjectKind kind, const std::string& id, const std::string& doc, Handle network,
                                     const std::function<bool(const std::string& queried)>& matches = {});
  // The ID for a create: the one an earlier create of the same object left with its outcome
  // unknown, or a new one; `reused` says which.
  template <typename Map, typename Key>
  std::string idForCreate(Map& unknown, const Key& key, bool* reused);
  template <typename Map, typename Key>
  void settleCreate(Map& unknown, const Key& key, const std::string& id, const Status& st);
  template <typename Map, typename Key>
  std::optional<std::string> takeUnknown(Map& unknown, const Key& key);
  void deleteDuplicateEndpoints(ApplyReport& report);
  std::string newId();
  std::chrono::milliseconds backoff(int attempt);
  void deleteDuplicates(ApplyReport& report);

  Api& api_;
  IdRegistry& ids_;
  HnsReader reader_;
  ProgrammerOptions opts_;
  Sleep sleep_;

  mutable std::mutex rngMu_;  // guards the random sources
  std::mt19937 rng_;
  std::mt19937 idRng_;
  mutable std::mutex netMu_;  // guards the network handle
  Handle networkHandle_ = 0;
  std::string networkId_;     // set by reset(), read by workers during apply()
  std::atomic<bool> modifySupported_{true};
  std::atomic<std::uint64_t> retries_{0}, opsSucceeded_{0}, opsFailed_{0}, duplicatesDeleted_{0};
  std::atomic<std::size_t> applyRetries_{0};  // retries of the apply() in progress
  std::atomic<std::size_t> transientRun_{0};  // operations in a row that failed transiently
  std::atomic<std::uint64_t> plans_{0}, opsPlanned_{0};
  std::atomic<std::size_t> lastPlanSize_{0};

  // The calling thread's only.
  policy::HnsState applied_;
  policy::DiffScope pending_{false, {}, {}, {}};
  std::vector<std::string> duplicates_;
  std::vector<std::string> duplicateEndpoints_;
  // Creates whose outcome is unknown, by object: the ID each used (see the contract above).
  // Workers of one apply() touch different objects; the lock guards the maps themselves.
  std::mutex unknownMu_;
  std::map<policy::IpAddress, std::string> unknownEndpoints_;
  std::map<policy::LbKey, std::string> unknownLoadBalancers_;
};

}  // namespace hnsproxy::hns

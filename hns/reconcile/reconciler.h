// The reconciler: the loop that turns desired state into HNS, as a library. It owns the policy
// engine, the HNS reader, the programmer and the IDs between them, and decides when to read HNS:
//  - start-up: wait for the network, check what this node's HNS must support, keep the listing;
//  - the first sync adopts what the listing holds (no wipe: matches cost nothing);
//  - each sync recomputes what changed, diffs it together with what failed before, and applies;
//  - local endpoints the rules miss (pods started since the listing) are learned with one
//    filtered enumerate, then the affected services recomputed;
//  - verification runs off the sync path, a bounded slice at a time between syncs (verifySlice):
//    every verifyPeriod an existence pass (one enumerate per kind, and the network) finds objects
//    deleted behind kube-proxy's back, objects of ours it did not know of (late creates, another
//    writer's) and new CNI endpoints; the objects' content is re-read in rotation, a share of the
//    node per period (verifyContentPercent); on request (an HNS notification, a late call) and after
//    a restart that took documents from the listing cache, everything is re-read, in slices. What
//    differs goes into the record and the next sync's diff repairs it. A change never waits for more
//    than one slice;
//  - an object whose document came from the listing cache and that HNS has not confirmed since is
//    read before a plan modifies, deletes or points a load balancer at it (a stale or swapped
//    cache line can cost a read, never a wrong write);
//  - an operation that found the network gone makes the next sync check the network; a new network
//    ID drops the record, lists HNS whole and programs the new network.
// Time comes from the injected clock, waiting and backoff from the injected sleep: tests drive
// both. Thread-safety: everything but requestVerification() runs on one thread (the sync loop).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hns/reconcile/adoption.h"
#include "hns/api.h"
#include "hns/reconcile/id_registry.h"
#include "hns/reconcile/programmer.h"
#include "hns/reconcile/reader.h"
#include "policy/engine.h"
#include "policy/host.h"
#include "policy/node_context.h"

namespace hnsproxy::hns {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

struct ReconcilerOptions {
  std::string networkName;
  policy::NodeConfig node;
  bool winOverlay = true;  // the WinOverlay feature gate
  ProgrammerOptions programmer;
  // Verification: an existence pass every period (0: only when requested), and the content of
  // verifyContentPercent of the objects re-read per period, in rotation, so that the whole node is
  // re-read every 100 / verifyContentPercent periods (0: existence only). A slice reads at most
  // verifySliceObjects objects (3 calls each): the longest a change waits behind verification.
  std::chrono::nanoseconds verifyPeriod = std::chrono::minutes(5);
  unsigned verifyContentPercent = 4;
  std::size_t verifySliceObjects = 32;
  // Waiting for the network at start-up: backoff from `waitInitial` doubling to `waitMax`, a log
  // line on the first failure and then every `waitLogEvery`. The cap is short: a node whose HNS
  // answers again is programmed within seconds (a hung HNS fails calls at once meanwhile).
  std::chrono::milliseconds waitInitial{50};
  std::chrono::milliseconds waitMax{5000};
  std::chrono::milliseconds waitLogEvery{60000};
  // The listing cache (hns/listing_cache.h): read at start-up, so that only what it cannot vouch
  // for is queried; written after a sync that changed HNS, at most once per `listingCacheSavePeriod`
  // (and by saveListingCache()). Empty: no cache, the start-up listing reads every object.
  std::string listingCache;
  std::chrono::milliseconds listingCacheSavePeriod{10000};
};

// What start-up found.
struct StartInfo {
  policy::HostView view;
  bool dualStack = false;
  std::vector<std::string> problems;  // network policies that were ignored
  std::size_t fromCache = 0;          // documents the listing cache supplied
  std::size_t queried = 0;            // documents read from HNS
  std::size_t cacheModified = 0;      // cached entries a modify may have changed (queried instead)
  std::optional<Error> cacheProblem;  // a damaged cache file (ignored: every object was queried)
};

struct ReconcilerStats {
  std::uint64_t adoptedLoadBalancers = 0;
  std::uint64_t adoptedEndpoints = 0;
  std::uint64_t driftRepaired = 0;  // objects verification found changed or missing
  std::uint64_t verifications = 0;
  std::uint64_t localRefreshes = 0;
};

// One slice of verification, as data.
struct VerifyReport {
  bool ran = false;             // a slice ran (false: nothing was due)
  bool existencePass = false;   // it compared HNS's enumerates with the record
  std::size_t read = 0;         // objects whose documents were read
  std::size_t drift = 0;        // objects of ours found missing or changed
  std::size_t adopted = 0;      // objects of ours HNS holds that the record did not
  std::size_t duplicates = 0;   // extra objects of ours (a second for one frontend or IP): deleted next sync
  bool contextChanged = false;  // the network's settings or the CNI's endpoints changed
  bool networkChanged = false;  // the network is gone or has a new ID: the next sync lists HNS whole
  bool fullReadDone = false;    // a re-read of everything (restart, notification) ended with this slice
  std::optional<Error> failed;  // HNS could not be read; the slice is retried
  bool needsSync() const { return drift || adopted || duplicates || contextChanged || networkChanged; }
};

// One sync, as data: what was planned and applied, and what happened to the view of HNS.
struct SyncReport {
  std::optional<Error> error;  // set when nothing could be planned (the sync is retried)
  policy::Plan plan;
  ApplyReport applied;
  bool fullDiff = false;
  std::size_t servicesRecomputed = 0;
  std::vector<policy::Warning> warnings;  // of the services recomputed, and frontend conflicts

  struct Adoption {
    bool first = false;  // the start-up adoption (else a verification)
    std::size_t loadBalancers = 0, endpoints = 0;
    std::size_t drift = 0;  // objects found changed or missing (verification only)
  };
  std::optional<Adoption> adoption;
  std::optional<std::pair<std::string, std::string>> networkChanged;  // old ID → new ID
  std::optional<Error> verificationFailed;
  std::optional<Error> localRefreshFailed;
  std::optional<Error> listingCacheFailed;  // the cache could not be written or marked (the next sync retries)
  std::size_t verifiedBeforeUse = 0;        // unverified (cached) objects the plan touched, read first
  std::size_t listingCacheSaved = 0;        // objects written to the listing cache by this sync
  policy::MissingLocalEndpoints missingLocalEndpoints;  // still not in HNS after this sync
  std::vector<std::string> hostProblems;
  bool assumedLoopback = false;
  // Overlay: where the host MAC came from ("Record Host MAC address" as upstream logs it), or
  // why there is none (a warning: the VIP endpoints are then not created). Logged when it changes.
  std::string hostMacNote;
  bool hostMacWarning = false;

  bool ok() const { return !error && applied.complete(); }
  std::size_t work() const { return plan.ops.size(); }
};

class Reconciler {
 public:
  Reconciler(Api& api, ReconcilerOptions opts, Clock clock = {}, Sleep sleep = {});

  // Waits for the HNS network (through `waitLog`), then checks what this node's HNS must support
  // for the configuration. An error here is fatal (upstream's start-up errors).
  Result<StartInfo> start(const std::function<bool()>& stop, const std::function<void(const std::string&)>& waitLog);

  // Source events go straight into the engine; the Node through setNode (it is part of the
  // node context).
  policy::Engine& engine() { return engine_; }
  const policy::Engine& engine() const { return engine_; }
  void setNode(std::optional<policy::Node> node);

  // A re-read of everything, in slices, starting with the next (any thread): an HNS notification,
  // a call that returned after its deadline.
  void requestVerification() { verifyRequested_ = true; }
  // When the next slice of verification is due (time_point::max(): none before a sync changes that).
  std::chrono::steady_clock::time_point verificationDue() const;
  // One slice: an existence pass, or the documents of at most verifySliceObjects objects. Call it
  // between syncs, when one is due; sync after it when it says so.
  VerifyReport verifySlice();
  // Objects whose documents came from the listing cache and are not confirmed by HNS yet.
  std::size_t unverified() const { return unverified_.size() - verifiedCount_; }

  SyncReport sync();
  // What sync() would apply now, applying nothing (--dry-run).
  SyncReport plan();
  // Removes every load balancer and remote endpoint of ours on the network (--cleanup).
  SyncReport cleanup();
  // Writes the listing cache now if anything changed since it was last written (at shutdown).
  // Returns how many objects were written.
  Result<std::size_t> saveListingCache();

  const policy::HnsState& applied() const { return programmer_.applied(); }
  ProgrammerStats programmerStats() const { return programmer_.stats(); }
  const ReconcilerStats& stats() const { return stats_; }
  const std::optional<policy::HostView>& hostView() const { return view_; }
  bool adopted() const { return adopted_; }

 private:
  // Everything up to the plan; `apply` false for a dry run.
  void prepare(SyncReport& r);
  void install(Adoption a, const std::string& networkId, bool first, SyncReport& r);
  void adoptListing(const Listing& listing, SyncReport& r);
  void adoptStart(SyncReport& r);
  void checkNetworkIfSuspect(SyncReport& r);
  // Verification (reconciler_verify.cc).
  VerifyReport slice();
  void existencePass(VerifyReport& r);
  void readUnknown(VerifyReport& r);
  void readContent(VerifyReport& r);
  // The documents of objects of ours, compared with the record. What turns out to be another
  // object of ours (IDs swapped in the record) goes to `reread` (default: the next slices).
  void readLoadBalancers(const std::vector<policy::LbKey>& keys, VerifyReport& r, std::vector<std::string>* reread = nullptr);
  void readEndpoints(const std::vector<policy::IpAddress>& ips, VerifyReport& r, std::vector<std::string>* reread = nullptr);
  bool readUnknownEndpoints(const std::vector<std::string>& ids, VerifyReport& r);
  bool readUnknownLoadBalancers(const std::vector<std::string>& ids, VerifyReport& r);
  void learnLocal(const HcnEndpoint& e, VerifyReport& r);
  void adoptLoadBalancer(policy::LoadBalancer lb, const std::string& id);
  void startPeriod(std::chrono::steady_clock::time_point now);
  std::size_t objectCount() const;
  bool isUnverified(const std::string& id) const;
  void markVerified(const std::string& id);
  // Before a plan: the unverified objects it would touch are read; true when that changed the
  // record (the plan is made again).
  bool verifyPlanTargets(const policy::Plan& plan);
  void refreshLocalEndpoints(policy::Changes& changes, SyncReport& r);
  bool applyContext(SyncReport* r);  // the engine's context from the view, the Node and the config
  void learnFromApply(const ApplyReport& a);
  void cacheBeforeApply(const policy::Plan& plan, SyncReport& r);
  void cacheAfterApply(SyncReport& r);

  ReconcilerOptions opts_;
  Clock clock_;
  HnsReader reader_;
  IdRegistry ids_;
  Programmer programmer_;
  policy::Engine engine_;

  // What the start-up listing holds of ours, read at start() (the listing's documents are gone by
  // then: at 100,000 endpoints they were most of a restart's peak memory), annotated with the
  // desired state and adopted by the first sync.
  std::optional<Adoption> startAdoption_;
  std::string startNetworkId_;
  std::vector<std::string> startHostProblems_;
  std::optional<policy::HostView> view_;
  std::optional<policy::Node> node_;
  bool adopted_ = false;
  bool assumedLoopback_ = false;
  std::string adaptersError_;  // why the last listing has no adapters
  std::string hostMacNote_;
  bool hostMacWarning_ = false;
  std::atomic<bool> verifyRequested_{false};
  bool networkSuspect_ = false;  // an operation found the network gone: checked by the next sync
  // What verification found, for the next diff (and the start-up read from the cache, to re-read).
  policy::DiffScope found_{false, {}, {}, {}};
  bool fullReadAfterStart_ = false;
  struct Verification {
    std::chrono::steady_clock::time_point periodStart{};
    bool existenceDue = false;
    bool fullRead = false;          // every object's content, as fast as slices go
    std::size_t budget = 0;         // rotation reads left in this period
    std::size_t budgetAtStart = 0;
    bool lbsDone = false;           // this sweep has passed the last load balancer
    std::optional<policy::LbKey> lbCursor;       // the last key read in this sweep
    std::optional<policy::IpAddress> epCursor;   // the last endpoint IP read in this sweep
    std::vector<std::string> unknownLbs, unknownEps;  // IDs the enumerate showed that the record lacks
    std::set<std::string> foreignLbs;                 // load balancers that are not ours: not read again
    std::chrono::steady_clock::time_point retryAt = std::chrono::steady_clock::time_point::min();
    std::chrono::milliseconds retryDelay{0};
  } v_;
  // IDs whose documents came from the listing cache (sorted) and which of them HNS confirmed since.
  std::vector<HnsId> unverified_;
  std::vector<bool> verified_;
  std::size_t verifiedCount_ = 0;
  bool cacheDirty_ = false;
  std::chrono::steady_clock::time_point lastCacheSave_{};  // set by start(): the first write waits a period
  std::set<policy::IpAddress> askedAbout_;  // missing local endpoints HNS was asked about since the last listing
  ReconcilerStats stats_;
};

}  // namespace hnsproxy::hns

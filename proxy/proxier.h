// The proxier: kube-proxy's side of a sync. It feeds source changes into the reconciler
// (hns/reconciler.h), runs it, and turns what it reports into logs, metrics and health. It runs on
// one thread (the sync loop, or main for --sync-once / --dry-run / --cleanup).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hns/reconcile/reconciler.h"
#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/metrics.h"

namespace hnsproxy::proxy {

struct HealthSnapshot {
  std::map<std::uint16_t, policy::ServiceName> ports;
  std::map<policy::ServiceName, int> localReady;
};

class Proxier {
 public:
  Proxier(hns::ReconcilerOptions opts, hns::Api& api, ChangeTracker& tracker, Metrics& metrics, ProxyHealth& health,
          hns::Clock clock = {}, hns::Sleep sleep = {});

  // Waits for the HNS network (logging while it does), then checks what this node's HNS must
  // support for the configuration. An error here is fatal (the upstream start-up errors).
  Status initialize(const std::function<bool()>& stop);
  // What the start-up listing found (after initialize()).
  const hns::StartInfo& startInfo() const { return started_; }

  // One sync. Returns false when something could not be programmed (it is retried).
  bool sync();
  // The plan a sync would apply now, applying nothing (for --dry-run). Needs ready sources.
  Result<policy::Plan> planOnly();
  // Removes every load balancer and remote endpoint on the node's network (--cleanup).
  hns::SyncReport cleanup();

  // HNS told us something changed (a service restart, a network change): re-read it all, in slices.
  void requestVerification() { reconciler_.requestVerification(); }
  // Verification between syncs (the sync runner's background work): when the next slice is due,
  // and one slice, logged; true when what it found needs a sync.
  std::chrono::steady_clock::time_point verificationDue() const { return reconciler_.verificationDue(); }
  bool verify();

  const hns::Reconciler& reconciler() const { return reconciler_; }
  hns::Reconciler& reconciler() { return reconciler_; }
  const std::vector<std::string>& lastErrors() const { return lastErrors_; }
  // Whether every failure of the last sync was transient (HNS busy, restarting, hung): worth
  // another sync rather than giving up.
  bool lastFailuresTransient() const { return lastFailuresTransient_; }
  HealthSnapshot healthSnapshot() const;

 private:
  void applyBatch(ChangeBatch& batch);
  void report(const hns::SyncReport& r);
  void logWarnings(const std::vector<policy::Warning>& ws);
  void publishMetrics();

  // hnsproxy's own families, registered once: the handles publishMetrics() sets.
  struct Published {
    explicit Published(Metrics& m);
    MetricValue &loadBalancers, &remoteEndpoints, &backendsTruncated, &frontendConflicts, &opsSucceeded, &opsFailed,
        &retries, &driftRepaired, &adopted, &opsPlanned, &lastPlanOps;
  };

  hns::Reconciler reconciler_;
  ChangeTracker& tracker_;
  Metrics& metrics_;
  std::unique_ptr<Published> published_;
  ProxyHealth& health_;
  std::vector<std::pair<std::string, policy::Timestamp>> pendingTriggers_;  // slice key, trigger time
  std::vector<std::string> lastErrors_;
  bool lastFailuresTransient_ = true;
  std::map<policy::ServiceName, std::set<std::string>> loggedWarnings_;
  policy::MissingLocalEndpoints loggedMissing_;
  bool loopbackLogged_ = false;
  std::string hostMacLogged_;  // the host-MAC note last logged
  hns::StartInfo started_;
};

}  // namespace hnsproxy::proxy

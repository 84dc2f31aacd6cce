// The proxier: the sync function that turns source changes into HNS programming. It owns the
// policy engine and the HNS programmer and runs on one thread (the sync loop, or main for
// --sync-once / --dry-run / --cleanup).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hns/api.h"
#include "hns/programmer.h"
#include "policy/engine.h"
#include "proxy/change_tracker.h"
#include "proxy/health.h"
#include "proxy/metrics.h"

namespace hnsproxy::proxy {

struct ProxierConfig {
  std::string nodeName;
  std::optional<policy::IpAddress> bindAddress;  // set when --bind-address is not 0.0.0.0 / ::
  policy::ProxyConfig rules;
  std::string networkName;
  std::string rootEndpointName = "cbr0";
  bool winOverlay = true;
  hns::ProgrammerOptions programmer;
  std::chrono::nanoseconds verifyPeriod = std::chrono::minutes(5);
};

struct HealthSnapshot {
  std::map<std::uint16_t, policy::ServiceName> ports;
  std::map<policy::ServiceName, int> localReady;
};

class Proxier {
 public:
  Proxier(ProxierConfig cfg, hns::Api& api, ChangeTracker& tracker, Metrics& metrics, ProxyHealth& health);

  // Waits for the HNS network (logging while it does), then checks what this node's HNS must
  // support for the configuration. An error here is fatal (the upstream start-up errors).
  Status initialize(const std::function<bool()>& stop);

  // One sync. Returns false when something could not be programmed (it is retried).
  bool sync();
  // The plan a sync would apply now, applying nothing (for --dry-run). Needs ready sources.
  Result<policy::Plan> planOnly();
  // Removes every load balancer and remote endpoint on the node's network (--cleanup).
  Result<policy::Plan> cleanup(hns::ApplyReport& report);

  bool adopted() const { return adopted_; }
  const policy::Engine& engine() const { return engine_; }
  const hns::Programmer& programmer() const { return programmer_; }
  const std::vector<std::string>& lastErrors() const { return lastErrors_; }
  HealthSnapshot healthSnapshot() const;
  const std::vector<policy::Warning>& lastWarnings() const { return lastWarnings_; }

 private:
  bool syncOnce(std::size_t& work);  // work: objects applied plus operations planned
  void applyBatch(ChangeBatch& batch);
  Result<policy::NodeContext> contextFrom(const hns::Listing& l);
  Status adoptFromListing(hns::Listing& l);  // on success l is slimmed to what listing_ keeps
  std::vector<policy::Warning> carriedWarnings_;  // from the recompute done at adoption
  Result<policy::Plan> computePlan(bool& fullDiff);
  void logWarnings(const std::vector<policy::Warning>& ws);
  void publishMetrics();

  ProxierConfig cfg_;
  hns::Api& api_;
  ChangeTracker& tracker_;
  Metrics& metrics_;
  ProxyHealth& health_;
  hns::Programmer programmer_;
  policy::Engine engine_;
  std::optional<hns::Listing> listing_;
  std::optional<policy::Node> node_;
  bool adopted_ = false;
  bool loopbackLogged_ = false;
  std::chrono::steady_clock::time_point lastVerify_{};
  bool verifyNow_ = false;
  std::vector<std::pair<std::string, std::string>> pendingTriggers_;  // slice key, trigger time
  std::vector<std::string> lastErrors_;
  std::vector<policy::Warning> lastWarnings_;
  std::map<policy::ServiceName, std::set<std::string>> loggedWarnings_;
};

}  // namespace hnsproxy::proxy

// An in-memory HNS behind the Api seam: the same JSON documents, the same HRESULTs and error
// records for each misuse, the limits and quirks of a chosen Windows build, fault injection and a
// call log. Used by every test and by --hns-backend=sim.
#pragma once

#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <optional>
#include <string>
#include <vector>

#include "hns/api.h"
#include "hns/hcn_json.h"

namespace hnsproxy::hns {

enum class ModifyBehaviour : std::uint8_t {
  NotImplemented,  // E_NOTIMPL (before HNS 15.4)
  IgnoresBackends, // HNS 15.4 (WS2025 RTM): reports success, keeps the old backends (kubernetes#131466)
  Works,           // HNS 15.5+ / 16.0+
};

// A Windows build as HNS sees it (field reports: kubernetes/kubernetes#98680 for the backend limit, hcnsupport.go for versions).
struct Profile {
  std::string name;
  policy::HnsVersion version;
  std::uint32_t maxBackends = 1024;
  bool dsr = true;
  ModifyBehaviour modify = ModifyBehaviour::Works;
};

const std::vector<Profile>& profiles();
std::optional<Profile> profileByName(const std::string& name);
// The behaviour a version implies, for state files without a named profile.
Profile profileForVersion(policy::HnsVersion v);

class SimulatedHns final : public Api {
 public:
  explicit SimulatedHns(Profile profile);
  // A node as a state file describes it; behaviour from `profile`, else from the file's version.
  explicit SimulatedHns(const HnsSnapshot& s, std::optional<Profile> profile = std::nullopt);

  HNSPROXY_HNS_API_OVERRIDES
  Result<std::unique_ptr<Subscription>> subscribe(NotificationHandler handler) override;
  Result<std::vector<policy::HostAdapter>> hostAdapters() override;
  void setHostAdapters(std::vector<policy::HostAdapter> adapters);
  // Handles opened (or returned by a create) and not closed yet: a leak shows here.
  std::size_t openHandles() const;

  // --- Fault injection ---
  // The nth call from now (1 = the next one) fails with `hr`.
  void failNthCall(int n, std::uint32_t hr);
  // An HNS service restart: handles become invalid, the next `failingCalls` calls fail with
  // RPC_S_SERVER_UNAVAILABLE, and subscribers get HcnNotificationServiceDisconnect. Objects persist
  // (HNS rehydrates its load balancers) unless `dropLoadBalancers` (seen on nodes where HNS lost them).
  void restartService(int failingCalls, bool dropLoadBalancers = false);
  // Drops every pending injected fault (nth-call, fractions, restart window).
  void clearFaults();

  // Every call takes `fixed` plus a uniform random extra up to `jitter` (slept outside the
  // simulator's lock, so parallel callers overlap as they would against HNS).
  void setLatency(std::chrono::microseconds fixed, std::chrono::microseconds jitter = std::chrono::microseconds{0});
  // Calls of one function (e.g. "HcnCreateEndpoint") take `fixed` instead (0: the common latency
  // again): a create that lands after its caller's deadline, a delete that hangs.
  void setFunctionLatency(const std::string& function, std::chrono::microseconds fixed);
  // Calls served one at a time, latency included, as if HNS serialised them (its documentation
  // does not say whether it does; hnssim --serial, for measuring both ways).
  void setSerial(bool serial) { serial_ = serial; }
  // A fraction (0..1) of the calls of one function (e.g. "HcnCreateLoadBalancer") fail with `hr`.
  void failFraction(const std::string& function, double fraction, std::uint32_t hr, std::uint32_t seed = 1);

  // Object IDs (and the MACs HNS would assign) from this seed: reproducible for a test.
  void seedIds(std::uint64_t seed);

  // --- Inspection ---
  std::map<std::string, int> callCounts() const;
  int totalCalls() const;
  int mutatingCalls() const;  // create, modify, delete
  void resetCallLog();
  HnsSnapshot snapshot() const;
  const Profile& profile() const { return profile_; }

 private:
  struct Object {
    ObjectKind kind;
    std::string id;
  };
  std::optional<Error> injected(const char* function);
  void delay(const char* function);
  std::unique_lock<std::mutex> oneAtATime();
  std::string newGuid();

  Profile profile_;
  std::map<std::string, HcnNetwork> networks_;
  std::vector<policy::HostAdapter> adapters_;
  std::map<std::string, HcnEndpoint> endpoints_;
  std::map<std::string, HcnLoadBalancer> loadBalancers_;
  // Indexes that keep every call O(log n): the frontend each load balancer holds, and how many
  // load balancers reference each endpoint.
  std::map<std::string, std::string> frontends_;
  std::map<std::string, int> endpointRefs_;
  void indexLoadBalancer(const HcnLoadBalancer& lb, int delta);
  std::map<Handle, Object> handles_;
  Handle nextHandle_ = 1;
  std::mt19937_64 idRng_;  // object IDs and assigned MACs: random, as HNS's
  std::map<std::string, int> calls_;
  std::map<int, std::uint32_t> failAt_;  // call number → HRESULT
  int callNumber_ = 0;
  int unavailableCalls_ = 0;
  std::chrono::microseconds latency_{0}, jitter_{0};
  std::map<std::string, std::chrono::microseconds> functionLatency_;
  std::condition_variable latencyChanged_;
  std::atomic<bool> serial_{false};
  std::mutex serialMu_;
  std::map<std::string, std::pair<double, std::uint32_t>> failFraction_;
  // Fault injection and latency jitter are reproducible by design: failFraction(…, seed) reseeds.
  std::mt19937 rng_{1};  // NOLINT(cert-msc32-c,cert-msc51-cpp)
  mutable std::mutex mu_;  // every public call holds it, so the simulator is thread-safe
  struct Subscriber;
  std::shared_ptr<std::mutex> subscribersMu_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::shared_ptr<Subscriber>>> subscribers_ =
      std::make_shared<std::vector<std::shared_ptr<Subscriber>>>();
};

}  // namespace hnsproxy::hns

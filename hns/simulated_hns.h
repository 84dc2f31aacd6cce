// An in-memory HNS behind the Api seam: the same JSON documents, the same HRESULTs and error
// records for each misuse, the limits and quirks of a chosen Windows build, fault injection and a
// call log. Used by every test and by --hns-backend=sim.
#pragma once

#include <cstdint>
#include <map>
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

// A Windows build as HNS sees it (hcn-reference.md §3.3, §4.8).
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
  static SimulatedHns fromSnapshot(const HnsSnapshot& s, std::optional<Profile> profile = std::nullopt);

  Result<std::vector<std::string>> enumerate(ObjectKind kind, const std::string& query) override;
  Result<Handle> open(ObjectKind kind, const std::string& id) override;
  Result<std::string> query(Handle h, const std::string& query) override;
  Result<Handle> create(ObjectKind kind, const std::string& id, const std::string& settings, Handle network) override;
  Status modify(Handle h, const std::string& settings) override;
  Status remove(ObjectKind kind, const std::string& id) override;
  void close(Handle h) override;
  Result<policy::HnsVersion> version() override;

  // --- Fault injection ---
  // The nth call from now (1 = the next one) fails with `hr`.
  void failNthCall(int n, std::uint32_t hr);
  // An HNS service restart: handles become invalid, and the next `failingCalls` calls fail with
  // RPC_S_SERVER_UNAVAILABLE. Objects persist (HNS rehydrates its load balancers).
  void restartService(int failingCalls);

  // --- Inspection ---
  const std::map<std::string, int>& callCounts() const { return calls_; }
  int totalCalls() const;
  int mutatingCalls() const;  // create, modify, delete
  void resetCallLog() { calls_.clear(); }
  HnsSnapshot snapshot() const;
  const Profile& profile() const { return profile_; }

 private:
  struct Object {
    ObjectKind kind;
    std::string id;
  };
  std::optional<Error> injected(const char* function);
  std::string newGuid();

  Profile profile_;
  std::map<std::string, HcnNetwork> networks_;
  std::map<std::string, HcnEndpoint> endpoints_;
  std::map<std::string, HcnLoadBalancer> loadBalancers_;
  std::map<Handle, Object> handles_;
  Handle nextHandle_ = 1;
  std::uint64_t nextGuid_ = 1;
  std::map<std::string, int> calls_;
  std::map<int, std::uint32_t> failAt_;  // call number → HRESULT
  int callNumber_ = 0;
  int unavailableCalls_ = 0;
};

}  // namespace hnsproxy::hns

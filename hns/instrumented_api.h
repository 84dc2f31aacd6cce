// An Api decorator that counts calls by function and result and sums their latency, for the
// metrics layer and the benchmarks. Thread-safe; forwards everything unchanged.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "hns/api.h"

namespace hnsproxy::hns {

// The `result` label of hnsproxy_hns_calls_total for a failed call (see CallStats::failed).
std::string resultLabel(const Error& e);

struct CallStats {
  std::uint64_t ok = 0;
  // By HRESULT ("0x803B001B"; a call past its deadline is ERROR_TIMEOUT's "0x800705B4", a lost
  // hnssim connection RPC_S_SERVER_UNAVAILABLE's); "error" for the rare failure that carries none
  // (a malformed reply).
  std::map<std::string, std::uint64_t> failed;
  double seconds = 0;
  std::uint64_t total() const {
    std::uint64_t n = ok;
    for (const auto& [c, k] : failed) n += k;
    return n;
  }
};

class InstrumentedApi final : public Api {
 public:
  explicit InstrumentedApi(Api& inner) : inner_(inner) {}

  HNSPROXY_HNS_API_OVERRIDES
  Result<std::unique_ptr<Subscription>> subscribe(NotificationHandler handler) override {
    return inner_.subscribe(std::move(handler));
  }
  // Not an HNS call: not counted.
  Result<std::vector<policy::HostAdapter>> hostAdapters() override { return inner_.hostAdapters(); }

  // Keyed "create LoadBalancer", "enumerate Endpoint", "query", "modify", "delete Endpoint", ...
  std::map<std::string, CallStats> stats() const;
  std::uint64_t calls(const std::string& key) const;
  std::uint64_t totalCalls() const;
  std::uint64_t mutatingCalls() const;  // create, modify, delete
  void reset();

 private:
  template <typename R, typename F>
  R timed(const std::string& key, F&& f);

  Api& inner_;
  mutable std::mutex mu_;
  std::map<std::string, CallStats> stats_;
};

}  // namespace hnsproxy::hns

// Which HNS kube-proxy programs: the Windows HNS (--hns-backend=hcn, the default on Windows), a
// running hnssim (--hns-sim-socket), or an in-process simulator (--hns-sim-state, written back
// after every sync). Every call goes through an InstrumentedApi, whose counters feed /metrics.
#pragma once

#include <memory>
#include <string>

#include "hns/deadline_api.h"
#include "hns/instrumented_api.h"
#include "hns/sim/simulated_hns.h"
#include "proxy/exposition.h"
#include "proxy/options.h"

namespace hnsproxy::proxy {

class HnsBackend {
 public:
  // Errors name the flag (an unknown profile, an unreadable state file, hcn off Windows).
  static Result<std::unique_ptr<HnsBackend>> create(const Options& o);

  hns::Api& api() { return *instrumented_; }
  // The deadline on calls to an out-of-process HNS (the Windows HNS, hnssim): null for the
  // in-process simulator, whose calls are function calls.
  hns::DeadlineApi* deadline() { return deadline_.get(); }
  const hns::InstrumentedApi& calls() const { return *instrumented_; }
  // The in-process simulator's state, written to --hns-sim-state (nothing for other backends).
  // Errors are returned for the caller to log; the state in memory stays authoritative.
  Status persist() const;
  // hnsproxy_hns_calls_total and hnsproxy_hns_call_seconds_total in the text exposition format.
  void writeCallMetrics(Exposition& out) const;

 private:
  std::shared_ptr<hns::Api> owned_;
  std::unique_ptr<hns::DeadlineApi> deadline_;
  hns::SimulatedHns* sim_ = nullptr;
  std::string statePath_;
  std::unique_ptr<hns::InstrumentedApi> instrumented_;
};

}  // namespace hnsproxy::proxy

#include "proxy/hns_backend.h"

#include <filesystem>

#include <fmt/format.h>

#include "hns/sim/socket_api.h"

#ifdef _WIN32
#include "hns/hcn_api.h"
#endif

namespace hnsproxy::proxy {

Result<std::unique_ptr<HnsBackend>> HnsBackend::create(const Options& o) {
  auto b = std::unique_ptr<HnsBackend>(new HnsBackend());
  std::string kind = o.hnsBackend;
#ifdef _WIN32
  if (kind.empty()) kind = (o.hnsSimState.empty() && o.hnsSimSocket.empty()) ? "hcn" : "sim";
#else
  if (kind.empty()) kind = "sim";
#endif
  if (kind == "hcn") {
#ifdef _WIN32
    auto api = hns::makeHcnApi();
    if (!api) return api.error();
    b->owned_ = std::move(api).value();
#else
    return Error(ErrorCode::InvalidInput,
                 "invalid value \"hcn\" for flag --hns-backend: the Windows HNS exists only on Windows (use --hns-backend=sim)");
#endif
  } else if (!o.hnsSimSocket.empty()) {
    auto api = hns::connectToSimulator(o.hnsSimSocket);
    if (!api) return api.error();
    b->owned_ = std::move(api).value();
  } else {
    std::optional<hns::Profile> profile;
    if (!o.hnsSimProfile.empty()) {
      profile = hns::profileByName(o.hnsSimProfile);
      if (!profile) {
        std::string names;
        for (const auto& p : hns::profiles()) names += (names.empty() ? "" : ", ") + p.name;
        return Error(ErrorCode::InvalidInput,
                     "invalid value \"" + o.hnsSimProfile + "\" for flag --hns-sim-profile: want one of " + names);
      }
    }
    hns::HnsSnapshot snap;
    if (!o.hnsSimState.empty() && std::filesystem::exists(o.hnsSimState)) {
      auto loaded = hns::loadSnapshot(o.hnsSimState);
      if (!loaded) return Error(ErrorCode::InvalidInput, "--hns-sim-state: " + loaded.error().message);
      snap = std::move(*loaded);
    } else if (profile) {
      snap.version = profile->version;
    }
    auto sim = std::make_unique<hns::SimulatedHns>(snap, profile);
    b->sim_ = sim.get();
    b->statePath_ = o.hnsSimState;
    b->owned_ = std::move(sim);
  }
  if (!b->sim_)  // out of process: a call may hang (with --hns-call-timeout=0 only a stop ends the wait)
    b->deadline_ = std::make_unique<hns::DeadlineApi>(
        b->owned_, std::chrono::duration_cast<std::chrono::milliseconds>(o.hnsCallTimeout));
  b->instrumented_ = b->deadline_ ? std::make_unique<hns::InstrumentedApi>(*b->deadline_)
                                  : std::make_unique<hns::InstrumentedApi>(*b->owned_);
  return b;
}

Status HnsBackend::persist() const {
  if (!sim_ || statePath_.empty()) return Ok{};
  return hns::saveSnapshot(sim_->snapshot(), statePath_);
}

std::string HnsBackend::callMetrics() const {
  std::string out =
      "# HELP hnsproxy_hns_calls_total HNS (HCN) calls by function and result\n# TYPE hnsproxy_hns_calls_total counter\n";
  std::string lat =
      "# HELP hnsproxy_hns_call_seconds_total Time spent in HNS calls by function\n# TYPE hnsproxy_hns_call_seconds_total counter\n";
  for (const auto& [fn, s] : instrumented_->stats()) {
    out += fmt::format("hnsproxy_hns_calls_total{{function=\"{}\",result=\"ok\"}} {}\n", fn, s.ok);
    for (const auto& [code, n] : s.failed)
      out += fmt::format("hnsproxy_hns_calls_total{{function=\"{}\",result=\"{}\"}} {}\n", fn, code, n);
    lat += fmt::format("hnsproxy_hns_call_seconds_total{{function=\"{}\"}} {:.6f}\n", fn, s.seconds);
  }
  out += lat;
  if (deadline_)
    out += fmt::format(
        "# HELP hnsproxy_hns_call_timeouts_total HNS calls that did not return within --hns-call-timeout\n"
        "# TYPE hnsproxy_hns_call_timeouts_total counter\nhnsproxy_hns_call_timeouts_total {}\n"
        "# HELP hnsproxy_hns_calls_outstanding HNS calls past their deadline that have not returned\n"
        "# TYPE hnsproxy_hns_calls_outstanding gauge\nhnsproxy_hns_calls_outstanding {}\n",
        deadline_->timedOut(), deadline_->outstanding());
  return out;
}

}  // namespace hnsproxy::proxy

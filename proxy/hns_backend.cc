#include "proxy/hns_backend.h"

#include <filesystem>

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

void HnsBackend::writeCallMetrics(Exposition& out) const {
  const auto stats = instrumented_->stats();
  out.family("hnsproxy_hns_calls_total", MetricType::Counter, "HNS (HCN) calls by function and result (ok, or the HRESULT)");
  for (const auto& [fn, s] : stats) {
    out.sample("hnsproxy_hns_calls_total", {{"function", fn}, {"result", "ok"}}, static_cast<double>(s.ok));
    for (const auto& [code, n] : s.failed)
      out.sample("hnsproxy_hns_calls_total", {{"function", fn}, {"result", code}}, static_cast<double>(n));
  }
  out.family("hnsproxy_hns_call_seconds_total", MetricType::Counter, "Time spent in HNS calls by function");
  for (const auto& [fn, s] : stats) out.sample("hnsproxy_hns_call_seconds_total", {{"function", fn}}, s.seconds);
  if (!deadline_) return;
  out.family("hnsproxy_hns_call_timeouts_total", MetricType::Counter,
             "HNS calls that did not return within --hns-call-timeout");
  out.sample("hnsproxy_hns_call_timeouts_total", static_cast<double>(deadline_->timedOut()));
  out.family("hnsproxy_hns_calls_outstanding", MetricType::Gauge, "HNS calls past their deadline that have not returned");
  out.sample("hnsproxy_hns_calls_outstanding", static_cast<double>(deadline_->outstanding()));
}

}  // namespace hnsproxy::proxy

#include "hns/instrumented_api.h"

#include <fmt/format.h>

namespace hnsproxy::hns {

namespace {
template <typename R>
const Error* errorOf(const R& r) {
  return r ? nullptr : &r.error();
}
}  // namespace

std::string resultLabel(const Error& e) {
  return e.hresult != 0 ? fmt::format("0x{:08X}", e.hresult) : std::string("error");
}

template <typename R, typename F>
R InstrumentedApi::timed(const std::string& key, F&& f) {
  auto start = std::chrono::steady_clock::now();
  R r = f();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(mu_);
  CallStats& s = stats_[key];
  s.seconds += secs;
  if (const Error* e = errorOf(r)) ++s.failed[resultLabel(*e)];
  else ++s.ok;
  return r;
}

Result<std::vector<std::string>> InstrumentedApi::enumerate(ObjectKind kind, const std::string& query) {
  return timed<Result<std::vector<std::string>>>(std::string("enumerate ") + toString(kind),
                                                 [&] { return inner_.enumerate(kind, query); });
}
Result<Handle> InstrumentedApi::open(ObjectKind kind, const std::string& id) {
  return timed<Result<Handle>>(std::string("open ") + toString(kind), [&] { return inner_.open(kind, id); });
}
Result<std::string> InstrumentedApi::query(Handle h, const std::string& query) {
  return timed<Result<std::string>>("query", [&] { return inner_.query(h, query); });
}
Result<Handle> InstrumentedApi::create(ObjectKind kind, const std::string& id, const std::string& settings,
                                       Handle network) {
  return timed<Result<Handle>>(std::string("create ") + toString(kind),
                               [&] { return inner_.create(kind, id, settings, network); });
}
Status InstrumentedApi::modify(Handle h, const std::string& settings) {
  return timed<Status>("modify", [&] { return inner_.modify(h, settings); });
}
Status InstrumentedApi::remove(ObjectKind kind, const std::string& id) {
  return timed<Status>(std::string("delete ") + toString(kind), [&] { return inner_.remove(kind, id); });
}
void InstrumentedApi::close(Handle h) {
  inner_.close(h);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_["close"].ok;
}
Result<policy::HnsVersion> InstrumentedApi::version() {
  return timed<Result<policy::HnsVersion>>("version", [&] { return inner_.version(); });
}

std::map<std::string, CallStats> InstrumentedApi::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::uint64_t InstrumentedApi::calls(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stats_.find(key);
  return it == stats_.end() ? 0 : it->second.total();
}

std::uint64_t InstrumentedApi::totalCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [k, s] : stats_) n += s.total();
  return n;
}

std::uint64_t InstrumentedApi::mutatingCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [k, s] : stats_)
    if (k.rfind("create", 0) == 0 || k.rfind("modify", 0) == 0 || k.rfind("delete", 0) == 0) n += s.total();
  return n;
}

void InstrumentedApi::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.clear();
}

}  // namespace hnsproxy::hns

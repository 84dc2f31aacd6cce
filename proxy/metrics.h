// The metrics kube-proxy registers for kernelspace mode (kubernetes pkg/proxy/metrics/metrics.go), all populated —
// including network_programming_duration_seconds and sync_proxy_rules_no_local_endpoints_total,
// which upstream leaves empty on Windows — plus hnsproxy's own under the hnsproxy_ prefix.
// Rendered in the Prometheus text format by one writer (proxy/exposition.h). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "proxy/exposition.h"

namespace hnsproxy::proxy {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double v);
  // The histogram's samples under `name`, with `labels` on each.
  void write(Exposition& out, std::string_view name, const Labels& labels = {}) const;
  std::uint64_t count() const;
  static std::vector<double> exponential(double start, double factor, int n);

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
  mutable std::mutex mu_;
};

// A registered metric's value: a gauge, or a counter whose cumulative value is kept elsewhere
// (the programmer's statistics). The handle stays valid as long as the Metrics.
class MetricValue {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Metrics {
 public:
  Metrics();

  Histogram syncDuration;                // kubeproxy_sync_proxy_rules_duration_seconds
  Histogram networkProgrammingDuration;  // kubeproxy_network_programming_duration_seconds

  void setLastSync(double unixSeconds);
  void setLastQueued(double unixSeconds);
  void setPending(std::int64_t services, std::int64_t endpoints);
  void addChanges(std::uint64_t services, std::uint64_t endpoints);
  void countHealthz(int code);
  void countLivez(int code);
  void setNoLocalEndpoints(std::int64_t internal, std::int64_t external);
  void setFeatureGates(const std::map<std::string, bool>& gates);

  // hnsproxy's own
  // client-go's rest_client_requests_total{code,host,method} and
  // rest_client_request_duration_seconds{host,verb}; code 0 is rendered "<error>".
  void countRequest(std::string_view method, std::string_view host, int code, std::optional<double> seconds);

  void countSync(bool ok);
  // Registers a family of one sample (once per name; the same handle again after) and returns its
  // handle. A name registered as the other type is a bug (std::logic_error).
  MetricValue& gauge(const std::string& name, const std::string& help);
  MetricValue& counter(const std::string& name, const std::string& help);
  // Families written at render time by their owner (e.g. HNS call stats, read live from the Api
  // wrapper), through the same writer.
  void addCollector(std::function<void(Exposition&)> collect);

  std::string render() const;
  static std::vector<double> restClientBuckets();  // client-go's, 5 ms to 60 s

 private:
  mutable std::mutex mu_;
  double lastSync_ = 0, lastQueued_ = 0;
  std::int64_t pendingServices_ = 0, pendingEndpoints_ = 0;
  std::uint64_t serviceChanges_ = 0, endpointChanges_ = 0;
  std::map<int, std::uint64_t> healthz_, livez_;
  std::int64_t noLocalInternal_ = 0, noLocalExternal_ = 0;
  std::map<std::string, bool> gates_;
  std::uint64_t syncOk_ = 0, syncFailed_ = 0;
  struct Registered {
    MetricType type;
    std::string help;
    std::unique_ptr<MetricValue> value;
  };
  MetricValue& registered(const std::string& name, MetricType type, const std::string& help);
  std::map<std::string, Registered> registered_;
  std::vector<std::function<void(Exposition&)>> collectors_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> requests_;  // (code, host, method)
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Histogram>> requestDuration_;  // (host, verb)
};

}  // namespace hnsproxy::proxy

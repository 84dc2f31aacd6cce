#include "proxy/metrics.h"

#include "proxy/logging.h"
#include "proxy/process_metrics.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace hnsproxy::proxy {


Histogram::Histogram(std::vector<double> upperBounds) : bounds_(std::move(upperBounds)), counts_(bounds_.size(), 0) {}

std::vector<double> Histogram::exponential(double start, double factor, int n) {
  std::vector<double> b;
  for (int i = 0; i < n; ++i) b.push_back(start * std::pow(factor, i));
  return b;
}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) ++counts_[i];
  sum_ += v;
  ++count_;
}

std::uint64_t Histogram::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

void Histogram::write(Exposition& out, std::string_view name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.histogram(name, labels, bounds_, counts_, sum_, count_);
}

namespace {
std::vector<double> programmingBuckets() {
  std::vector<double> b{0.25, 0.5};
  for (int s = 1; s <= 59; ++s) b.push_back(s);
  for (int s = 60; s <= 115; s += 5) b.push_back(s);
  for (int s = 120; s <= 300; s += 30) b.push_back(s);
  return b;
}
}  // namespace

Metrics::Metrics()
    : syncDuration(Histogram::exponential(0.001, 2, 15)), networkProgrammingDuration(programmingBuckets()) {}

void Metrics::setLastSync(double t) {
  std::lock_guard<std::mutex> lock(mu_);
  lastSync_ = t;
}
void Metrics::setLastQueued(double t) {
  std::lock_guard<std::mutex> lock(mu_);
  lastQueued_ = t;
}
void Metrics::setPending(std::int64_t s, std::int64_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  pendingServices_ = s;
  pendingEndpoints_ = e;
}
void Metrics::addChanges(std::uint64_t s, std::uint64_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  serviceChanges_ += s;
  endpointChanges_ += e;
}
void Metrics::countHealthz(int code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++healthz_[code];
}
void Metrics::countLivez(int code) {
  std::lock_guard<std::mutex> lock(mu_);
  ++livez_[code];
}
void Metrics::setNoLocalEndpoints(std::int64_t i, std::int64_t e) {
  std::lock_guard<std::mutex> lock(mu_);
  noLocalInternal_ = i;
  noLocalExternal_ = e;
}
void Metrics::setFeatureGates(const std::map<std::string, bool>& g) {
  std::lock_guard<std::mutex> lock(mu_);
  gates_ = g;
}
std::vector<double> Metrics::restClientBuckets() { return {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60}; }

void Metrics::countRequest(std::string_view method, std::string_view host, int code, std::optional<double> seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{code == 0 ? "<error>" : std::to_string(code), std::string(host), std::string(method)}];
  if (!seconds) return;
  auto& h = requestDuration_[{std::string(host), std::string(method)}];
  if (!h) h = std::make_unique<Histogram>(restClientBuckets());
  h->observe(*seconds);
}

void Metrics::countSync(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  ++(ok ? syncOk_ : syncFailed_);
}
MetricValue& Metrics::registered(const std::string& name, MetricType type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = registered_.try_emplace(name, Registered{type, help, nullptr});
  if (added) it->second.value = std::make_unique<MetricValue>();
  else if (it->second.type != type) throw std::logic_error("metric " + name + " registered as two types");
  return *it->second.value;
}
MetricValue& Metrics::gauge(const std::string& name, const std::string& help) {
  return registered(name, MetricType::Gauge, help);
}
MetricValue& Metrics::counter(const std::string& name, const std::string& help) {
  return registered(name, MetricType::Counter, help);
}
void Metrics::addCollector(std::function<void(Exposition&)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Metrics::render() const {
  using T = MetricType;
  Exposition out;
  // kube-proxy's families, with upstream's names, types and help ([ALPHA], as component-base
  // marks the stability of each).
  auto family = [&](std::string_view name, T type, std::string_view help) {
    out.family(name, type, "[ALPHA] " + std::string(help));
  };
  family("kubeproxy_sync_proxy_rules_duration_seconds", T::Histogram, "SyncProxyRules latency in seconds");
  syncDuration.write(out, "kubeproxy_sync_proxy_rules_duration_seconds");
  family("kubeproxy_network_programming_duration_seconds", T::Histogram, "In Cluster Network Programming Latency in seconds");
  networkProgrammingDuration.write(out, "kubeproxy_network_programming_duration_seconds");
  std::vector<std::function<void(Exposition&)>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto single = [&](std::string_view name, T type, std::string_view help, double v) {
      family(name, type, help);
      out.sample(name, v);
    };
    single("kubeproxy_sync_proxy_rules_last_timestamp_seconds", T::Gauge, "The last time proxy rules were successfully synced",
           lastSync_);
    single("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", T::Gauge,
           "The last time a sync of proxy rules was queued", lastQueued_);
    single("kubeproxy_sync_proxy_rules_endpoint_changes_pending", T::Gauge, "Pending proxy rules Endpoint changes",
           static_cast<double>(pendingEndpoints_));
    single("kubeproxy_sync_proxy_rules_endpoint_changes_total", T::Counter, "Cumulative proxy rules Endpoint changes",
           static_cast<double>(endpointChanges_));
    single("kubeproxy_sync_proxy_rules_service_changes_pending", T::Gauge, "Pending proxy rules Service changes",
           static_cast<double>(pendingServices_));
    single("kubeproxy_sync_proxy_rules_service_changes_total", T::Counter, "Cumulative proxy rules Service changes",
           static_cast<double>(serviceChanges_));
    family("kubeproxy_proxy_healthz_total", T::Counter, "Cumulative proxy healthz HTTP status");
    for (const auto& [code, n] : healthz_)
      out.sample("kubeproxy_proxy_healthz_total", {{"code", std::to_string(code)}}, static_cast<double>(n));
    family("kubeproxy_proxy_livez_total", T::Counter, "Cumulative proxy livez HTTP status");
    for (const auto& [code, n] : livez_)
      out.sample("kubeproxy_proxy_livez_total", {{"code", std::to_string(code)}}, static_cast<double>(n));
    family("kubeproxy_sync_proxy_rules_no_local_endpoints_total", T::Gauge,
           "Number of services with a Local traffic policy and no endpoints");
    out.sample("kubeproxy_sync_proxy_rules_no_local_endpoints_total", {{"traffic_policy", "internal"}},
               static_cast<double>(noLocalInternal_));
    out.sample("kubeproxy_sync_proxy_rules_no_local_endpoints_total", {{"traffic_policy", "external"}},
               static_cast<double>(noLocalExternal_));
    family("kubernetes_feature_enabled", T::Gauge, "This metric records the data about the stage and enablement of a k8s feature.");
    for (const auto& [gate, on] : gates_) out.sample("kubernetes_feature_enabled", {{"name", gate}, {"stage", ""}}, on ? 1 : 0);
    family("rest_client_requests_total", T::Counter, "Number of HTTP requests, partitioned by status code, method, and host.");
    for (const auto& [key, n] : requests_) {
      const auto& [code, host, method] = key;
      out.sample("rest_client_requests_total", {{"code", code}, {"host", host}, {"method", method}}, static_cast<double>(n));
    }
    family("rest_client_request_duration_seconds", T::Histogram, "Request latency in seconds. Broken down by verb, and host.");
    for (const auto& [key, h] : requestDuration_)
      h->write(out, "rest_client_request_duration_seconds", {{"host", key.first}, {"verb", key.second}});
    // hnsproxy's own.
    out.family("hnsproxy_syncs_total", T::Counter, "Syncs run, by result");
    out.sample("hnsproxy_syncs_total", {{"result", "ok"}}, static_cast<double>(syncOk_));
    out.sample("hnsproxy_syncs_total", {{"result", "failed"}}, static_cast<double>(syncFailed_));
    out.family("hnsproxy_log_lines_dropped_total", T::Counter,
               "Log lines dropped because the log queue was full (its reader, stderr or disk, did not keep up)");
    out.sample("hnsproxy_log_lines_dropped_total", static_cast<double>(log::dropped()));
    for (const auto& [name, r] : registered_) {
      out.family(name, r.type, r.help);
      out.sample(name, r.value->value());
    }
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect(out);
  writeProcessMetrics(out);
  writeBuildInfo(out);
  return out.text();
}

}  // namespace hnsproxy::proxy

#include "proxy/metrics.h"

#include "proxy/logging.h"
#include "proxy/process_metrics.h"

#include <cmath>

#include <fmt/format.h>

namespace hnsproxy::proxy {

namespace {
std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}
std::string withLe(const std::string& labels, const std::string& le) {
  return "{" + (labels.empty() ? "" : labels + ",") + "le=\"" + le + "\"}";
}
std::string braces(const std::string& labels) { return labels.empty() ? "" : "{" + labels + "}"; }
// A label value escaped as the text format requires (backslash, double quote, newline).
std::string labelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
}  // namespace

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

std::string Histogram::render(const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (std::size_t i = 0; i < bounds_.size(); ++i)
    out += name + "_bucket" + withLe(labels, num(bounds_[i])) + " " + std::to_string(counts_[i]) + "\n";
  out += name + "_bucket" + withLe(labels, "+Inf") + " " + std::to_string(count_) + "\n";
  out += name + "_sum" + braces(labels) + " " + num(sum_) + "\n";
  out += name + "_count" + braces(labels) + " " + std::to_string(count_) + "\n";
  return out;
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
void Metrics::setGauge(const std::string& name, const std::string& help, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_[name] = {help, v};
}
void Metrics::setCounter(const std::string& name, const std::string& help, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  counters_[name] = {help, v};
}
void Metrics::setExtra(std::function<std::string()> f) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_ = std::move(f);
}

std::string Metrics::render() const {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} [ALPHA] {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("kubeproxy_sync_proxy_rules_duration_seconds", "histogram", "SyncProxyRules latency in seconds");
  out += syncDuration.render("kubeproxy_sync_proxy_rules_duration_seconds");
  family("kubeproxy_network_programming_duration_seconds", "histogram", "In Cluster Network Programming Latency in seconds");
  out += networkProgrammingDuration.render("kubeproxy_network_programming_duration_seconds");
  std::function<std::string()> extra;
  {
    std::lock_guard<std::mutex> lock(mu_);
    family("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "gauge", "The last time proxy rules were successfully synced");
    out += "kubeproxy_sync_proxy_rules_last_timestamp_seconds " + num(lastSync_) + "\n";
    family("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "gauge",
           "The last time a sync of proxy rules was queued");
    out += "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds " + num(lastQueued_) + "\n";
    family("kubeproxy_sync_proxy_rules_endpoint_changes_pending", "gauge", "Pending proxy rules Endpoint changes");
    out += "kubeproxy_sync_proxy_rules_endpoint_changes_pending " + std::to_string(pendingEndpoints_) + "\n";
    family("kubeproxy_sync_proxy_rules_endpoint_changes_total", "counter", "Cumulative proxy rules Endpoint changes");
    out += "kubeproxy_sync_proxy_rules_endpoint_changes_total " + std::to_string(endpointChanges_) + "\n";
    family("kubeproxy_sync_proxy_rules_service_changes_pending", "gauge", "Pending proxy rules Service changes");
    out += "kubeproxy_sync_proxy_rules_service_changes_pending " + std::to_string(pendingServices_) + "\n";
    family("kubeproxy_sync_proxy_rules_service_changes_total", "counter", "Cumulative proxy rules Service changes");
    out += "kubeproxy_sync_proxy_rules_service_changes_total " + std::to_string(serviceChanges_) + "\n";
    family("kubeproxy_proxy_healthz_total", "counter", "Cumulative proxy healthz HTTP status");
    for (const auto& [code, n] : healthz_) out += fmt::format("kubeproxy_proxy_healthz_total{{code=\"{}\"}} {}\n", code, n);
    family("kubeproxy_proxy_livez_total", "counter", "Cumulative proxy livez HTTP status");
    for (const auto& [code, n] : livez_) out += fmt::format("kubeproxy_proxy_livez_total{{code=\"{}\"}} {}\n", code, n);
    family("kubeproxy_sync_proxy_rules_no_local_endpoints_total", "gauge",
           "Number of services with a Local traffic policy and no endpoints");
    out += fmt::format("kubeproxy_sync_proxy_rules_no_local_endpoints_total{{traffic_policy=\"internal\"}} {}\n",
                       noLocalInternal_);
    out += fmt::format("kubeproxy_sync_proxy_rules_no_local_endpoints_total{{traffic_policy=\"external\"}} {}\n",
                       noLocalExternal_);
    family("kubernetes_feature_enabled", "gauge", "This metric records the data about the stage and enablement of a k8s feature.");
    for (const auto& [gate, on] : gates_)
      out += fmt::format("kubernetes_feature_enabled{{name=\"{}\",stage=\"\"}} {}\n", gate, on ? 1 : 0);
    out += "# HELP hnsproxy_syncs_total Syncs run, by result\n# TYPE hnsproxy_syncs_total counter\n";
    out += fmt::format("hnsproxy_syncs_total{{result=\"ok\"}} {}\nhnsproxy_syncs_total{{result=\"failed\"}} {}\n", syncOk_,
                       syncFailed_);
    family("hnsproxy_log_lines_dropped_total", "counter",
           "Log lines dropped because the log queue was full (its reader, stderr or disk, did not keep up)");
    out += fmt::format("hnsproxy_log_lines_dropped_total {}\n", log::dropped());
    family("rest_client_requests_total", "counter", "Number of HTTP requests, partitioned by status code, method, and host.");
    for (const auto& [key, n] : requests_) {
      const auto& [code, host, method] = key;
      out += fmt::format("rest_client_requests_total{{code=\"{}\",host=\"{}\",method=\"{}\"}} {}\n", labelValue(code),
                         labelValue(host), labelValue(method), n);
    }
    family("rest_client_request_duration_seconds", "histogram", "Request latency in seconds. Broken down by verb, and host.");
    for (const auto& [key, h] : requestDuration_)
      out += h->render("rest_client_request_duration_seconds",
                       fmt::format("host=\"{}\",verb=\"{}\"", labelValue(key.first), labelValue(key.second)));
    for (const auto& [name, g] : gauges_)
      out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, g.help, name, name, num(g.value));
    for (const auto& [name, c] : counters_)
      out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, c.help, name, name, num(c.value));
    extra = extra_;
  }
  if (extra) out += extra();
  out += processMetrics();
  out += buildInfoMetric();
  return out;
}

}  // namespace hnsproxy::proxy

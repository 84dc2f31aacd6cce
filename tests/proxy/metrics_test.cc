#include "catch.h"

#include "proxy/metrics.h"

using namespace hnsproxy::proxy;

TEST_CASE("metrics: every kernelspace kube-proxy family, histograms with cumulative buckets") {
  Metrics m;
  m.syncDuration.observe(0.0015);
  m.syncDuration.observe(0.5);
  m.networkProgrammingDuration.observe(0.3);
  m.addChanges(3, 7);
  m.setNoLocalEndpoints(1, 2);
  m.addCounter("hnsproxy_x_total", "x", "kind=\"a\"", 2);
  m.setExtra([] { return std::string("hnsproxy_extra 1\n"); });
  std::string t = m.render();
  for (const char* family :
       {"kubeproxy_sync_proxy_rules_duration_seconds", "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
        "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
        "kubeproxy_sync_proxy_rules_endpoint_changes_total", "kubeproxy_sync_proxy_rules_service_changes_pending",
        "kubeproxy_sync_proxy_rules_service_changes_total", "kubeproxy_proxy_healthz_total", "kubeproxy_proxy_livez_total",
        "kubeproxy_network_programming_duration_seconds", "kubeproxy_sync_proxy_rules_no_local_endpoints_total",
        "kubernetes_feature_enabled"}) {
    INFO(family);
    CHECK(t.find(std::string("# TYPE ") + family + " ") != std::string::npos);
  }
  CHECK(t.find("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.001\"} 0") != std::string::npos);
  CHECK(t.find("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.002\"} 1") != std::string::npos);
  CHECK(t.find("kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"+Inf\"} 2") != std::string::npos);
  CHECK(t.find("kubeproxy_sync_proxy_rules_duration_seconds_count 2") != std::string::npos);
  CHECK(t.find("kubeproxy_network_programming_duration_seconds_bucket{le=\"0.5\"} 1") != std::string::npos);
  CHECK(t.find("kubeproxy_sync_proxy_rules_endpoint_changes_total 7") != std::string::npos);
  CHECK(t.find("kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy=\"external\"} 2") != std::string::npos);
  CHECK(t.find("hnsproxy_x_total{kind=\"a\"} 2") != std::string::npos);
  CHECK(t.find("hnsproxy_extra 1") != std::string::npos);
}

TEST_CASE("metrics: histogram buckets are cumulative and exponential buckets grow by the factor") {
  Histogram h(Histogram::exponential(0.001, 2, 4));  // 1ms, 2ms, 4ms, 8ms
  for (double v : {0.0005, 0.0015, 0.003, 0.003, 1.0}) h.observe(v);
  auto t = h.render("x");
  CHECK(t.find("x_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.002\"} 2\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.004\"} 4\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.008\"} 4\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"+Inf\"} 5\n") != std::string::npos);
  CHECK(t.find("x_count 5\n") != std::string::npos);
  CHECK(h.count() == 5);
}

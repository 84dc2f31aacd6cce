#include "catch.h"

#include "proxy/metrics.h"
#include <limits>
#include <stdexcept>

using namespace hnsproxy::proxy;

TEST_CASE("metrics: every kernelspace kube-proxy family, histograms with cumulative buckets") {
  Metrics m;
  m.syncDuration.observe(0.0015);
  m.syncDuration.observe(0.5);
  m.networkProgrammingDuration.observe(0.3);
  m.addChanges(3, 7);
  m.setNoLocalEndpoints(1, 2);
  m.setFeatureGates({{"WinDSR", true}, {"WinOverlay", false}});
  m.counter("hnsproxy_x_total", "x").set(2);
  CHECK(&m.counter("hnsproxy_x_total", "x") == &m.counter("hnsproxy_x_total", "x"));  // one handle per name
  CHECK_THROWS_AS(m.gauge("hnsproxy_x_total", "x"), std::logic_error);
  m.addCollector([](Exposition& out) { out.sample("hnsproxy_extra", {{"why", "a \"quoted\"\nvalue\\"}}, 1); });
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
  CHECK(t.find("# TYPE hnsproxy_x_total counter\nhnsproxy_x_total 2\n") != std::string::npos);
  CHECK(t.find("hnsproxy_extra{why=\"a \\\"quoted\\\"\\nvalue\\\\\"} 1\n") != std::string::npos);  // escaped by the writer
  CHECK(t.find("kubernetes_feature_enabled{name=\"WinDSR\",stage=\"\"} 1\n") != std::string::npos);
  CHECK(t.find("kubernetes_feature_enabled{name=\"WinOverlay\",stage=\"\"} 0\n") != std::string::npos);
}

TEST_CASE("metrics: histogram buckets are cumulative and exponential buckets grow by the factor") {
  Histogram h(Histogram::exponential(0.001, 2, 4));  // 1ms, 2ms, 4ms, 8ms
  for (double v : {0.0005, 0.0015, 0.003, 0.003, 1.0}) h.observe(v);
  Exposition out;
  h.write(out, "x");
  const std::string& t = out.text();
  CHECK(t.find("x_bucket{le=\"0.001\"} 1\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.002\"} 2\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.004\"} 4\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"0.008\"} 4\n") != std::string::npos);
  CHECK(t.find("x_bucket{le=\"+Inf\"} 5\n") != std::string::npos);
  CHECK(t.find("x_count 5\n") != std::string::npos);
  CHECK(h.count() == 5);
}

#include <chrono>
#include <regex>
#include <vector>

#include "proxy/process_metrics.h"

TEST_CASE("metrics: the process families and kubernetes_build_info, with this process's real values") {
  // Burn a little CPU and hold a few more descriptors, so the values have something to show.
  volatile double x = 0;
  for (int i = 0; i < 3000000; ++i) x = x + i * 0.5;
  std::vector<std::FILE*> files;
  for (int i = 0; i < 4; ++i) files.push_back(std::tmpfile());
  ProcessStats s = readProcessStats();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(s.cpuSeconds > 0);
  CHECK(s.residentBytes > 1024 * 1024);
  CHECK(s.virtualBytes >= s.residentBytes);
  CHECK(s.startTimeSeconds <= now + 1);
  CHECK(s.startTimeSeconds > now - 3600);  // this test process started within the hour
  CHECK(s.openFds >= 7);                   // stdin/out/err and the four files
  CHECK(s.maxFds >= s.openFds);
  for (auto* f : files) std::fclose(f);

  Metrics m;
  std::string t = m.render();
  for (const char* family : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                             "process_start_time_seconds", "process_open_fds", "process_max_fds"})
    CHECK(std::regex_search(t, std::regex(std::string("\n# TYPE ") + family + " (counter|gauge)\n" + family + " [0-9.e+]+\n")));
#if defined(__clang__)
  const std::string compiler = "clang";  // the sanitizer build
#else
  const std::string compiler = "gcc";
#endif
  CHECK(t.find("kubernetes_build_info{build_date=\"\",compiler=\"" + compiler +
               "\",git_commit=\"\",git_tree_state=\"\",git_version=\"v1.35.0\","
               "go_version=\"\",major=\"1\",minor=\"35\",platform=\"linux/amd64\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: API requests as client-go counts them; a failed request is \"<error>\"; label values escaped") {
  Metrics m;
  m.countRequest("GET", "10.0.0.1:6443", 200, 0.003);
  m.countRequest("GET", "10.0.0.1:6443", 200, 0.2);
  m.countRequest("GET", "10.0.0.1:6443", 200, std::nullopt);  // a watch: counted, not timed
  m.countRequest("GET", "10.0.0.1:6443", 0, 30.5);
  m.countRequest("GET", "we\"ird\\host", 410, std::nullopt);
  std::string t = m.render();
  INFO(t);
  CHECK(t.find("rest_client_requests_total{code=\"200\",host=\"10.0.0.1:6443\",method=\"GET\"} 3\n") != std::string::npos);
  CHECK(t.find("rest_client_requests_total{code=\"<error>\",host=\"10.0.0.1:6443\",method=\"GET\"} 1\n") != std::string::npos);
  CHECK(t.find("rest_client_requests_total{code=\"410\",host=\"we\\\"ird\\\\host\",method=\"GET\"} 1\n") != std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_count{host=\"10.0.0.1:6443\",verb=\"GET\"} 3\n") != std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"GET\",le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"GET\",le=\"0.25\"} 2\n") !=
        std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"GET\",le=\"30\"} 2\n") !=
        std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"GET\",le=\"60\"} 3\n") !=
        std::string::npos);
  CHECK(t.find("rest_client_request_duration_seconds_count{host=\"we") == std::string::npos);  // the watch was not timed
}

TEST_CASE("exposition: families, label and help escaping, numbers as client_golang writes them") {
  Exposition out;
  out.family("x_total", MetricType::Counter, "a help\nwith a back\\slash");
  out.sample("x_total", {{"a", "1"}, {"b", "tab\there"}}, 3);
  out.sample("x_total", 0.25);
  out.sample("x_total", std::numeric_limits<double>::infinity());
  out.sample("x_total", 1e20);
  CHECK(out.text() ==
        "# HELP x_total a help\\nwith a back\\\\slash\n# TYPE x_total counter\n"
        "x_total{a=\"1\",b=\"tab\there\"} 3\nx_total 0.25\nx_total +Inf\nx_total 1e+20\n");
  CHECK(Exposition::escapeLabelValue("q\"b\\n\n") == "q\\\"b\\\\n\\n");
}

// What operators' monitoring reads: a scrape of the running daemon (API server, hnssim) checked by
// promtool, the client-go request families, and packaging/monitoring's dashboard and alerts —
// their queries parse, the alerts' unit tests pass, and every metric they name is in the scrape.
#include "catch.h"

#include <cstring>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster_fixture.h"
#include "hns/sim/socket_api.h"
#include "http_client.h"

using namespace hnsproxy;
using namespace hnsproxy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path monitoringDir() { return fs::path(sourceDir()) / "packaging" / "monitoring"; }

// The scrape, taken once for the test cases below: the daemon programs the example cluster from
// the API server into hnssim, is asked for /healthz, and is scraped.
struct Scrape {
  std::string text;
  std::string apiHost;  // host:port of the API server, as the kubeconfig writes it
};

const Scrape& scrape() {
  static const Scrape s = [] {
    Scrape out;
    fs::path d = workspace("monitoring");
    TestApiServer server;
    std::string kubeconfig = serveWorkspace(server, d);
    out.apiHost = server.url().substr(std::string("https://").size());
    std::string sock = (d / "hns.sock").string();
    Daemon sim({bin("hns/hnssim"), "--socket", sock, "--state", (d / "state.json").string()}, (d / "hnssim.log").string());
    hns::SocketApi api(sock);
    if (!eventually([&] { return api.version().ok(); })) throw std::runtime_error("hnssim did not start");
    Daemon proxy({bin("proxy/kube-proxy"), "--kubeconfig=" + kubeconfig, "--hostname-override=win-node-1",
                  "--network-name=cbr0", "--hns-sim-socket=" + sock, "--healthz-bind-address=127.0.0.1:0",
                  "--metrics-bind-address=127.0.0.1:0"},
                 (d / "kube-proxy.log").string());
    unsigned short healthz = servedPort(proxy, "healthz"), metrics = servedPort(proxy, "metrics");
    if (!healthz || !metrics) throw std::runtime_error("no ports logged:\n" + proxy.log());
    if (!eventually([&] { return httpGet(metrics, "/metrics").body.find("hnsproxy_load_balancers 16") != std::string::npos; }))
      throw std::runtime_error("the example cluster was not programmed:\n" + proxy.log());
    httpGet(healthz, "/healthz");
    out.text = httpGet(metrics, "/metrics").body;
    proxy.stop();
    sim.stop();
    return out;
  }();
  return s;
}

std::set<std::string> families(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# TYPE ", 0) == 0) out.insert(line.substr(7, line.find(' ', 7) - 7));
  return out;
}

// Metric names a PromQL expression reads: every identifier with one of the prefixes this daemon
// serves (kube-proxy's, client-go's, the process collector's, hnsproxy's). Histogram series name
// their family.
std::set<std::string> metricsIn(const std::string& expr) {
  static const std::regex name(R"(\b((kubeproxy|hnsproxy|rest_client|process|kubernetes)_[a-zA-Z0-9_]+))");
  std::set<std::string> out;
  for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
    std::string n = (*it)[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (n.size() > std::strlen(suffix) && n.compare(n.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        n.resize(n.size() - std::strlen(suffix));
    out.insert(n);
  }
  return out;
}

// Every query of the dashboard, with Grafana's variables given values.
std::vector<std::string> dashboardQueries() {
  auto dash = json::parse(slurp(monitoringDir() / "hnsproxy-dashboard.json"));
  std::vector<std::string> out;
  for (const auto& panel : dash["panels"])
    for (const auto& t : panel.value("targets", json::array())) {
      std::string q = t.at("expr");
      q = std::regex_replace(q, std::regex(R"(\$__rate_interval)"), "5m");
      q = std::regex_replace(q, std::regex(R"(\$instance)"), ".+");
      out.push_back(q);
    }
  return out;
}

std::vector<std::string> ruleQueries() {
  auto docs = watch::parseDocuments(slurp(monitoringDir() / "prometheus-rules.yaml"), "prometheus-rules.yaml");
  REQUIRE(docs);
  std::vector<std::string> out;
  for (const auto& g : (*docs)[0]["groups"])
    for (const auto& r : g["rules"]) out.push_back(r.at("expr"));
  return out;
}

Run promtool(const std::string& args) { return run("promtool " + args); }

}  // namespace

TEST_CASE("monitoring: a scrape of the daemon passes promtool check metrics") {
  const auto& s = scrape();
  fs::path f = tempDir("promtool") / "scrape.txt";
  std::ofstream(f) << s.text;
  auto r = promtool("check metrics < " + f.string());
  INFO(r.out);
  REQUIRE(r.out.find("not found") == std::string::npos);  // promtool itself must be installed
  // The one finding is upstream's own name: a gauge called ..._total (pkg/proxy/metrics), kept so
  // that existing dashboards keep working.
  std::istringstream lines(r.out);
  int findings = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ++findings;
    CHECK(line.rfind("kubeproxy_sync_proxy_rules_no_local_endpoints_total non-counter", 0) == 0);
  }
  CHECK(findings == 1);
}

TEST_CASE("monitoring: the scrape has client-go's request families, labelled as client-go labels them") {
  const auto& s = scrape();
  auto fams = families(s.text);
  for (const char* f : {"rest_client_requests_total", "rest_client_request_duration_seconds", "process_cpu_seconds_total",
                        "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_start_time_seconds",
                        "process_open_fds", "process_max_fds", "kubernetes_build_info", "kubernetes_feature_enabled"})
    CHECK(fams.count(f) == 1);
  INFO(s.text);
  // Three lists (Services, EndpointSlices, this Node) and their watches, all answered 200.
  std::smatch m;
  REQUIRE(std::regex_search(s.text, m,
                            std::regex("rest_client_requests_total\\{code=\"200\",host=\"" + s.apiHost +
                                       "\",method=\"GET\"\\} ([0-9]+)")));
  CHECK(std::stoi(m[1]) >= 6);
  // The lists' durations (watches are counted, not timed, as in client-go), in client-go's buckets.
  REQUIRE(std::regex_search(s.text, m,
                            std::regex("rest_client_request_duration_seconds_count\\{host=\"" + s.apiHost +
                                       "\",verb=\"GET\"\\} ([0-9]+)")));
  CHECK(std::stoi(m[1]) >= 3);
  for (const char* le : {"0.005", "0.025", "0.1", "0.25", "0.5", "1", "2", "4", "8", "15", "30", "60", "+Inf"})
    CHECK(s.text.find("rest_client_request_duration_seconds_bucket{host=\"" + s.apiHost + "\",verb=\"GET\",le=\"" + le +
                      "\"}") != std::string::npos);
}

TEST_CASE("monitoring: the alerts parse, pass their unit tests, and the Operator's PrometheusRule carries the same groups") {
  auto check = promtool("check rules " + (monitoringDir() / "prometheus-rules.yaml").string());
  INFO(check.out);
  CHECK(check.status == 0);
  CHECK(check.out.find("SUCCESS: 7 rules found") != std::string::npos);
  auto unit = promtool("test rules " + (monitoringDir() / "rules-test.yaml").string());
  INFO(unit.out);
  CHECK(unit.status == 0);
  auto plain = watch::parseDocuments(slurp(monitoringDir() / "prometheus-rules.yaml"), "prometheus-rules.yaml");
  auto crd = watch::parseDocuments(slurp(monitoringDir() / "prometheusrule.yaml"), "prometheusrule.yaml");
  REQUIRE(plain);
  REQUIRE(crd);
  CHECK((*crd)[0]["kind"] == "PrometheusRule");
  CHECK((*crd)[0]["spec"]["groups"] == (*plain)[0]["groups"]);
}

TEST_CASE("monitoring: every dashboard query parses as PromQL") {
  auto queries = dashboardQueries();
  REQUIRE(queries.size() >= 20);
  // promtool parses each as a recording rule.
  fs::path f = tempDir("dashboard-promql") / "queries.yaml";
  {
    std::ofstream out(f);
    out << "groups:\n  - name: dashboard\n    rules:\n";
    for (std::size_t i = 0; i < queries.size(); ++i)
      out << "      - record: dashboard:query_" << i << "\n        expr: " << json(queries[i]).dump() << "\n";
  }
  auto r = promtool("check rules " + f.string());
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("SUCCESS: " + std::to_string(queries.size()) + " rules found") != std::string::npos);
}

TEST_CASE("monitoring: every metric the dashboard and the alerts name is in the daemon's scrape") {
  const auto fams = families(scrape().text);
  std::set<std::string> named;
  for (const auto& q : dashboardQueries())
    for (const auto& n : metricsIn(q)) named.insert(n);
  std::size_t fromDashboard = named.size();
  for (const auto& q : ruleQueries())
    for (const auto& n : metricsIn(q)) named.insert(n);
  CHECK(fromDashboard >= 25);  // the extraction finds what the panels read
  for (const auto& n : named) {
    INFO("named by a query but not served: " << n);
    CHECK(fams.count(n) == 1);
  }
}

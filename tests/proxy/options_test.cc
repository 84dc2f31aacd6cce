#include "catch.h"

#include "test_paths.h"
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "proxy/options.h"

using namespace hnsproxy;
using namespace hnsproxy::proxy;

namespace {

Result<ParsedCommandLine> parse(std::vector<std::string> args) {
  std::vector<const char*> argv{"kube-proxy"};
  for (const auto& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string tempFile(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-opts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << content;
  return p.string();
}

}  // namespace

TEST_CASE("the nssm registration's command line parses unchanged (overlay and l2bridge)") {
  for (const char* gates : {"--feature-gates=WinOverlay=true", "--feature-gates=\"WinOverlay=true\""}) {
    auto r = parse({"--v=4", "--proxy-mode=kernelspace", gates, "--hostname-override=WIN-NODE-1",
                    "--kubeconfig=c:\\k\\config", "--network-name=vxlan0", "--source-vip=10.244.1.250",
                    "--enable-dsr=false", "--log-dir=c:\\k\\logs", "--logtostderr=false"});
    INFO(gates);
    REQUIRE(r);
    const Options& o = r->options;
    CHECK(o.verbosity == 4);
    CHECK(o.proxyMode == "kernelspace");
    CHECK(o.gate("WinOverlay"));
    CHECK(o.gate("WinDSR"));  // default
    CHECK(o.hostnameOverride == "WIN-NODE-1");
    CHECK(o.kubeconfig == "c:\\k\\config");
    CHECK(o.networkName == "vxlan0");
    CHECK(o.sourceVip == "10.244.1.250");
    CHECK_FALSE(o.enableDsr);
    CHECK(o.logDir == "c:\\k\\logs");
    CHECK_FALSE(o.logToStderr);
    CHECK(o.legacyFlagsUsed == std::vector<std::string>{"--log-dir", "--logtostderr"});
    CHECK(validate(o));
  }
  auto l2 = parse({"--v=4", "--proxy-mode=kernelspace", "--hostname-override=win-node-1", "--kubeconfig=c:\\k\\config",
                   "--cluster-cidr=10.244.0.0/16", "--log-dir=c:\\k\\logs", "--logtostderr=false"});
  REQUIRE(l2);
  CHECK(l2->options.networkName.empty());  // KUBE_NETWORK supplies it
  CHECK(l2->options.clusterCidr == "10.244.0.0/16");
}

TEST_CASE("pflag conventions: --flag value, bare booleans, _ equals -, defaults") {
  auto r = parse({"--network_name", "cbr0", "--enable-dsr", "--forward_healthcheck_vip", "--v", "2",
                  "--iptables-sync-period", "1m30s", "--min-sync-period=500ms", "-o", "json"});
  REQUIRE(r);
  CHECK(r->options.networkName == "cbr0");
  CHECK(r->options.enableDsr);
  CHECK(r->options.forwardHealthCheckVip);
  CHECK(r->options.verbosity == 2);
  CHECK(r->options.syncPeriod == std::chrono::seconds(90));
  CHECK(r->options.minSyncPeriod == std::chrono::milliseconds(500));
  CHECK(r->options.output == "json");
  Options d;
  CHECK(d.healthzBindAddress == "0.0.0.0:10256");
  CHECK(d.metricsBindAddress == "127.0.0.1:10249");
  CHECK(d.syncPeriod == std::chrono::seconds(30));
  CHECK(d.minSyncPeriod == std::chrono::seconds(1));
  CHECK(d.rootHnsEndpointName == "cbr0");
  // "--flag=" is an empty value (it disables the healthz and metrics servers).
  auto empty = parse({"--healthz-bind-address=", "--metrics-bind-address="});
  REQUIRE(empty);
  CHECK(empty->options.healthzBindAddress.empty());
  CHECK(empty->options.metricsBindAddress.empty());
  CHECK(validate(empty->options));
  // A bare boolean does not swallow the next argument.
  auto b = parse({"--enable-dsr", "--network-name=x"});
  REQUIRE(b);
  CHECK(b->options.networkName == "x");
}

TEST_CASE("every invalid flag value is an error naming the flag and the value") {
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {{"--v=abc"}, "invalid value \"abc\" for flag --v"},
      {{"--iptables-sync-period=5x"}, "invalid value \"5x\" for flag --iptables-sync-period"},
      {{"--enable-dsr=maybe"}, "invalid value \"maybe\" for flag --enable-dsr"},
      {{"--feature-gates=WinDSR=maybe"}, "invalid value \"WinDSR=maybe\" for flag --feature-gates"},
      {{"--feature-gates=IPv6DualStack=true"}, "unrecognized feature gate: IPv6DualStack"},
      {{"--hns-parallelism=0"}, "invalid value \"0\" for flag --hns-parallelism"},
      {{"--no-such-flag"}, "unknown flag: --no-such-flag"},
      {{"extra", "args"}, "does not take any arguments, got [extra args]"},
      {{"--init-only"}, "--init-only is not implemented on Windows"},
      {{"-o", "yaml"}, "invalid value \"yaml\" for flag --output"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.args);
    INFO(c.expect);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(c.expect) != std::string::npos);
  }
  struct VCase {
    std::vector<std::string> args;
    const char* expect;
  };
  const std::vector<VCase> vcases = {
      {{"--proxy-mode=iptables"}, "invalid value \"iptables\" for flag --proxy-mode: must be kernelspace or blank"},
      {{"--healthz-bind-address=1.2.3.4"}, "invalid value \"1.2.3.4\" for flag --healthz-bind-address: must be IP:port"},
      {{"--metrics-bind-address=localhost:10249"}, "--metrics-bind-address: must be a valid IP"},
      {{"--healthz-bind-address=0.0.0.0:99999"}, "must be a valid port"},
      {{"--bind-address=nope"}, "invalid value \"nope\" for flag --bind-address"},
      {{"--source-vip=10.0.0.300"}, "invalid value \"10.0.0.300\" for flag --source-vip"},
      {{"--cluster-cidr=10.0.0.0/33"}, "for flag --cluster-cidr"},
      {{"--iptables-sync-period=0s"}, "must be greater than 0"},
      {{"--iptables-min-sync-period=1m", "--iptables-sync-period=30s"}, "must be less than or equal"},
      {{"--hns-backend=vmware"}, "invalid value \"vmware\" for flag --hns-backend"},
      {{"--hostname-override=   "}, "empty hostname-override is invalid"},
      {{"--manifest-poll-interval=1ns"}, "invalid value \"1ns\" for flag --manifest-poll-interval: must be at least 50ms"},
  };
  for (const auto& c : vcases) {
    auto r = parse(c.args);
    INFO(c.expect);
    REQUIRE(r);
    auto st = validate(r->options);
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("Go durations") {
  CHECK(parseGoDuration("30s") == std::chrono::seconds(30));
  CHECK(parseGoDuration("1m30s") == std::chrono::seconds(90));
  CHECK(parseGoDuration("15m0s") == std::chrono::minutes(15));
  CHECK(parseGoDuration("1.5h") == std::chrono::minutes(90));
  CHECK(parseGoDuration("250ms") == std::chrono::milliseconds(250));
  CHECK(parseGoDuration("0") == std::chrono::seconds(0));
  CHECK_FALSE(parseGoDuration("30"));
  CHECK_FALSE(parseGoDuration("s"));
  CHECK_FALSE(parseGoDuration("3x"));
  CHECK(formatGoDuration(std::chrono::minutes(15)) == "15m0s");
  CHECK(formatGoDuration(std::chrono::seconds(30)) == "30s");
  CHECK(formatGoDuration(std::chrono::milliseconds(250)) == "250ms");
  CHECK(formatGoDuration(std::chrono::seconds(5400)) == "1h30m0s");
}

TEST_CASE("--config: KubeProxyConfiguration in YAML and JSON, with the flags upstream honours on top") {
  std::string yaml = tempFile("kp.yaml", R"(apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
hostnameOverride: from-file
featureGates: {WinDSR: true}
clientConnection: {kubeconfig: c:/k/config}
healthzBindAddress: 0.0.0.0:10256
iptables: {syncPeriod: 45s, minSyncPeriod: 2s}
winkernel:
  networkName: vxlan0
  sourceVip: 10.244.1.250
  enableDSR: true
  rootHnsEndpointName: ""
somethingNew: 1
)");
  auto r = parse({"--config=" + yaml, "--hostname-override=from-flag", "--v=3", "--network-name=ignored",
                  "--manifest-dir=/tmp/m"});
  REQUIRE(r);
  const Options& o = r->options;
  CHECK(o.hostnameOverride == "from-flag");  // honoured with --config
  CHECK(o.verbosity == 3);
  CHECK(o.networkName == "vxlan0");          // the file wins over a non-honoured flag
  CHECK(o.kubeconfig == "c:/k/config");
  CHECK(o.enableDsr);
  CHECK(o.rootHnsEndpointName == "cbr0");    // empty in the file: defaulted
  CHECK(o.syncPeriod == std::chrono::seconds(45));
  CHECK(o.minSyncPeriod == std::chrono::seconds(2));
  CHECK(o.manifestDir == "/tmp/m");
  bool lenient = false, ignored = false;
  for (const auto& n : r->notes) {
    lenient |= n.find("Using lenient decoding as strict decoding failed") != std::string::npos;
    ignored |= n.find("--network-name is ignored because --config is given") != std::string::npos;
  }
  CHECK(lenient);
  CHECK(ignored);

  // microsoft/SDN helper.v2.psm1 writes the file as JSON.
  std::string js = tempFile("kp.json", R"({"Kind":"x","kind":"KubeProxyConfiguration","apiVersion":"kubeproxy.config.k8s.io/v1alpha1",
    "hostnameOverride":"n1","clusterCIDR":"10.244.0.0/16","clientConnection":{"kubeconfig":"c:\\k\\config"},
    "winkernel":{"enableDSR":false,"networkName":"cbr0","sourceVip":""}})");
  auto j = parse({"--config", js});
  REQUIRE(j);
  CHECK(j->options.networkName == "cbr0");
  CHECK(j->options.clusterCidr == "10.244.0.0/16");

  auto badType = parse({"--config=" + tempFile("bad.yaml", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: "
                                                           "KubeProxyConfiguration\nwinkernel: {enableDSR: yes-please}\n")});
  REQUIRE_FALSE(badType);
  CHECK(badType.error().message.find("field winkernel.enableDSR") != std::string::npos);
  // A section that is not a mapping, holding bytes that are not UTF-8 (the fuzzer's find, kept in
  // its corpus): an error naming the field, not an exception out of the error's own formatting.
  auto notMapping = parse({"--config=" + (std::filesystem::path(hnsproxy::test::sourceDir()) / "tests" / "fuzz" / "corpus" /
                                          "proxy_config" / "regression-invalid-utf8-in-error")
                                             .string()});
  REQUIRE_FALSE(notMapping);
  CHECK(notMapping.error().message.find(": must be a mapping") != std::string::npos);
  auto badKind = parse({"--config=" + tempFile("kind.yaml", "apiVersion: v1\nkind: ConfigMap\n")});
  REQUIRE_FALSE(badKind);
  CHECK(badKind.error().message.find("field kind") != std::string::npos);
  auto missing = parse({"--config=/nonexistent/kp.yaml"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("/nonexistent/kp.yaml") != std::string::npos);
}

TEST_CASE("--write-config-to output loads back as the same configuration") {
  auto r = parse({"--network-name=vxlan0", "--source-vip=10.244.1.250", "--enable-dsr", "--iptables-sync-period=45s",
                  "--hostname-override=n1", "--forward-healthcheck-vip", "--feature-gates=WinOverlay=true"});
  REQUIRE(r);
  std::string path = tempFile("written.yaml", configYaml(r->options));
  auto back = parse({"--config=" + path});
  REQUIRE(back);
  const Options& a = r->options;
  const Options& b = back->options;
  CHECK(b.networkName == a.networkName);
  CHECK(b.sourceVip == a.sourceVip);
  CHECK(b.enableDsr == a.enableDsr);
  CHECK(b.syncPeriod == a.syncPeriod);
  CHECK(b.hostnameOverride == a.hostnameOverride);
  CHECK(b.forwardHealthCheckVip == a.forwardHealthCheckVip);
  CHECK(b.featureGates == a.featureGates);
  // Nothing to note but component-base's warning for each GA gate the file sets.
  for (const auto& n : back->notes) CHECK(n.rfind("Setting GA feature gate Win", 0) == 0);
}

TEST_CASE("command-line order is honoured as pflag applies it: the last of two spellings wins") {
  auto a = parse({"--sync-period=10s", "--iptables-sync-period=20s"});
  REQUIRE(a);
  CHECK(a->options.syncPeriod == std::chrono::seconds(20));
  auto b = parse({"--iptables-sync-period=20s", "--sync-period=10s"});
  REQUIRE(b);
  CHECK(b->options.syncPeriod == std::chrono::seconds(10));
  auto c = parse({"--v=2", "-v", "5", "--v=3"});
  REQUIRE(c);
  CHECK(c->options.verbosity == 3);
}

TEST_CASE("pflag's shorthands, flag terminator and argument errors") {
  auto adj = parse({"-v4"});
  REQUIRE(adj);
  CHECK(adj->options.verbosity == 4);
  auto eq = parse({"-v=6", "-ojson"});
  REQUIRE(eq);
  CHECK(eq->options.verbosity == 6);
  CHECK(eq->options.output == "json");
  auto help = parse({"-h"});
  REQUIRE(help);
  CHECK(help->help);
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  };
  for (const auto& c : std::vector<Case>{{{"-x"}, "unknown shorthand flag: 'x' in -x"},
                                         {{"--network-name"}, "flag needs an argument: --network-name"},
                                         {{"--v=1", "--", "--v=2"}, "does not take any arguments, got [--v=2]"},
                                         {{"--o=json"}, "unknown flag: --o"}}) {
    INFO(c.expect);
    auto r = parse(c.args);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("--help is in pflag's layout: one line a flag, aligned, with types and non-zero defaults") {
  std::string h = usage();
  CHECK(h.find("Usage:\n  kube-proxy [flags]\n\nFlags:\n") != std::string::npos);
  CHECK(h.find("[ --") == std::string::npos);  // not Boost's layout
  std::istringstream in(h.substr(h.find("Flags:\n") + 7));
  std::size_t column = 0;
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    REQUIRE((line.rfind("      --", 0) == 0 || line.rfind("  -", 0) == 0));
    // The help text starts in one column for every flag: after the longest name and type + 3.
    auto start = line.find("   ", line.find("--"));
    REQUIRE(start != std::string::npos);
    std::size_t col = line.find_first_not_of(' ', start);
    if (column == 0) column = col;
    CHECK(col == column);
    names.push_back(line.substr(line.find("--") + 2, line.find_first_of(" ", line.find("--")) - line.find("--") - 2));
  }
  CHECK(std::is_sorted(names.begin(), names.end()));  // pflag sorts by name
  auto lineOf = [&](const std::string& flag) {
    auto at = h.find("--" + flag + " ");
    return at == std::string::npos ? std::string() : h.substr(at, h.find('\n', at) - at);
  };
  CHECK(lineOf("healthz-bind-address").find("string") != std::string::npos);
  CHECK(lineOf("healthz-bind-address").find("(default \"0.0.0.0:10256\")") != std::string::npos);
  CHECK(lineOf("iptables-sync-period").find("duration") != std::string::npos);
  CHECK(lineOf("iptables-sync-period").find("(default 30s)") != std::string::npos);
  CHECK(lineOf("enable-dsr").find("(default") == std::string::npos);  // false is the zero value
  CHECK(lineOf("version").find("version[=true]") != std::string::npos);
  CHECK(h.find("  -v, --v Level") != std::string::npos);
  CHECK(h.find("  -h, --help") != std::string::npos);
  CHECK(lineOf("healthz-port").empty());  // deprecated upstream: hidden, still accepted
  CHECK(parse({"--healthz-port=0"})->options.healthzBindAddress.empty());
}

TEST_CASE("the config file: windowsRunAsService acts like --windows-service; nested unknown fields are named") {
  std::string yaml = tempFile("svc.yaml", R"(apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
windowsRunAsService: true
winkernel: {networkName: cbr0, typo: 1}
iptables: {syncPeriod: 45s, notAField: x}
ipvs: {scheduler: rr}
)");
  auto r = parse({"--config=" + yaml});
  REQUIRE(r);
  CHECK(r->options.windowsService);
  std::string notes;
  for (const auto& n : r->notes) notes += n + "\n";
  CHECK(notes.find("unknown field \"winkernel.typo\"") != std::string::npos);
  CHECK(notes.find("unknown field \"iptables.notAField\"") != std::string::npos);
  CHECK(notes.find("ipvs") == std::string::npos);  // a valid upstream section, unused on Windows

  auto huge = parse({"--config=" + tempFile("v.yaml", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: "
                                                       "KubeProxyConfiguration\nlogging: {verbosity: 99999999999}\n")});
  REQUIRE_FALSE(huge);
  CHECK(huge.error().message.find("field logging.verbosity") != std::string::npos);
  CHECK(huge.error().message.find("must be between 0 and 2147483647") != std::string::npos);
}

TEST_CASE("every option is declared once, and what one writes the other reads") {
  std::set<std::string_view> names;
  for (const auto& o : optionTable()) {
    INFO(o.name);
    CHECK(names.insert(o.name).second);
    CHECK(!o.help.empty());
    CHECK(o.set != nullptr);
    CHECK(o.get != nullptr);
    // The default a flag shows round-trips through its own parser.
    Options d;
    std::string v = o.get(d, o);
    if (o.name != "help") CHECK(o.set(d, o, v));
    CHECK(o.get(d, o) == v);
  }
  for (const auto& line : flagLines(Options{})) CHECK(line.rfind("FLAG: --", 0) == 0);
  Options withPassword;
  withPassword.master = "https://admin:s3cret@10.0.0.1:6443";
  bool redacted = false;
  for (const auto& line : flagLines(withPassword)) {
    CHECK(line.find("s3cret") == std::string::npos);
    redacted |= line == "FLAG: --master=\"https://<redacted>@10.0.0.1:6443\"";
  }
  CHECK(redacted);
}

TEST_CASE("service mode: the flag, the config file's windowsRunAsService, and a start that cannot parse") {
  auto args = [](std::vector<std::string> v) {
    static std::vector<std::string> keep;
    keep = std::move(v);
    keep.insert(keep.begin(), "kube-proxy");
    static std::vector<const char*> argv;
    argv.clear();
    for (const auto& a : keep) argv.push_back(a.c_str());
    return std::make_pair(static_cast<int>(argv.size()), argv.data());
  };
  auto [n1, a1] = args({"--network-name=cbr0"});
  CHECK_FALSE(runsAsWindowsService(n1, a1));
  auto [n2, a2] = args({"--windows-service", "--network-name=cbr0"});
  CHECK(runsAsWindowsService(n2, a2));
  std::string yaml = tempFile("svc2.yaml", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                                           "windowsRunAsService: true\n");
  auto [n3, a3] = args({"--config=" + yaml});
  CHECK(runsAsWindowsService(n3, a3));
  auto [n4, a4] = args({"--windows_service", "--no-such-flag"});  // the SCM must hear about the bad flag
  CHECK(runsAsWindowsService(n4, a4));
}

TEST_CASE("feature gates as upstream 1.35 treats them: set true is accepted with component-base's GA warning") {
  auto r = parse({"--feature-gates=WinDSR=true,WinOverlay=true", "--enable-dsr=true"});
  REQUIRE(r);
  CHECK(r->options.gate("WinDSR"));
  CHECK(r->options.gate("WinOverlay"));
  CHECK(validate(r->options));
  std::vector<std::string> ga;
  for (const auto& n : r->notes)
    if (n.rfind("Setting GA feature gate", 0) == 0) ga.push_back(n);
  CHECK(ga == std::vector<std::string>{"Setting GA feature gate WinDSR=true. It will be removed in a future release.",
                                       "Setting GA feature gate WinOverlay=true. It will be removed in a future release."});
  auto none = parse({"--enable-dsr=true"});
  REQUIRE(none);
  CHECK(none->notes.empty());
  CHECK(none->options.gate("WinDSR"));  // on by default: --enable-dsr needs no gate since 1.33
  CHECK(validate(none->options));
}

TEST_CASE("bytes that are not UTF-8 in a flag or a config value are reported, never thrown (fuzzer finding)") {
  auto r = parse({"--v=4", "--hostname-override=win-node-\xdc\xdc"});
  REQUIRE(r);
  auto lines = flagLines(r->options);  // the FLAG: lines logged at --v=1
  CHECK(std::find(lines.begin(), lines.end(), "FLAG: --hostname-override=\"win-node-\ufffd\ufffd\"") != lines.end());
  CHECK_FALSE(configJson(r->options).empty());
  auto path = (std::filesystem::temp_directory_path() / ("hnsproxy-utf8-" + std::to_string(::getpid()) + ".yaml")).string();
  std::ofstream(path) << "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                         "healthzBindAddress: \"\xf5\xf5:1\"\n";
  auto c = parse({"--config=" + path});
  REQUIRE(c);
  CHECK_FALSE(configYaml(c->options).empty());  // --write-config-to, /configz
  auto st = validate(c->options);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("healthz-bind-address") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("WinDSR and WinOverlay toggle: =false is accepted, with upstream's rules from before they were locked") {
  auto off = parse({"--feature-gates=WinDSR=false,WinOverlay=false"});
  REQUIRE(off);
  CHECK_FALSE(off->options.gate("WinDSR"));
  CHECK_FALSE(off->options.gate("WinOverlay"));
  CHECK(validate(off->options));  // an L2Bridge node without DSR needs neither
  auto dsr = parse({"--feature-gates=WinDSR=false", "--enable-dsr=true"});
  REQUIRE(dsr);
  auto refused = validate(dsr->options);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "WinDSR feature gate not enabled");
  auto viaConfig = parse({"--config=" + tempFile("gates.yaml",
                                                  "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
                                                  "featureGates: {WinDSR: false}\nwinkernel: {enableDSR: true}\n")});
  REQUIRE(viaConfig);
  CHECK_FALSE(viaConfig->options.gate("WinDSR"));
  REQUIRE_FALSE(validate(viaConfig->options));
}

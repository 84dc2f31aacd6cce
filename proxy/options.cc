#include "proxy/options.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policy/ip.h"
#include "watch/manifest.h"

namespace hnsproxy::proxy {

namespace po = boost::program_options;
using nlohmann::json;

// ---------------------------------------------------------------- durations

std::optional<Duration> parseGoDuration(const std::string& s) {
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    ++i;
  }
  double total = 0;
  bool any = false;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (start == i) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(s.substr(start, i - start));
    } catch (...) {
      return std::nullopt;
    }
    std::size_t ustart = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string unit = s.substr(ustart, i - ustart);
    double ns = 0;
    if (unit == "ns") ns = 1;
    else if (unit == "us" || unit == "µs") ns = 1e3;
    else if (unit == "ms") ns = 1e6;
    else if (unit == "s") ns = 1e9;
    else if (unit == "m") ns = 60e9;
    else if (unit == "h") ns = 3600e9;
    else return std::nullopt;
    total += value * ns;
    any = true;
  }
  if (!any) return std::nullopt;
  return Duration(static_cast<long long>(neg ? -total : total));
}

std::string formatGoDuration(Duration d) {
  long long ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  if (ns < 1000000000LL) {
    if (ns % 1000000 == 0) return out + std::to_string(ns / 1000000) + "ms";
    return out + std::to_string(ns) + "ns";
  }
  long long h = ns / 3600000000000LL;
  ns %= 3600000000000LL;
  long long m = ns / 60000000000LL;
  ns %= 60000000000LL;
  double sec = static_cast<double>(ns) / 1e9;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  std::string secText = fmt::format("{:.9f}", sec);
  secText.erase(secText.find_last_not_of('0') + 1);
  if (secText.back() == '.') secText.pop_back();
  return out + secText + "s";
}

bool Options::gate(const std::string& name) const {
  auto it = featureGates.find(name);
  if (it != featureGates.end()) return it->second;
  return name == "WinDSR" || name == "WinOverlay";  // both default to true
}

namespace {

const char* kNotKernelspace =
    "must be kernelspace or blank (blank means the most-available proxy [currently 'kernelspace'])";

Error flagError(const std::string& flag, const std::string& value, const std::string& why) {
  return Error(ErrorCode::InvalidInput, fmt::format("invalid value \"{}\" for flag --{}: {}", value, flag, why));
}

std::optional<bool> parseBool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    return v.substr(1, v.size() - 2);
  return v;
}

const std::vector<std::string> kKnownGates = {"WinDSR", "WinOverlay"};

Status parseFeatureGates(const std::string& flag, const std::string& value, std::map<std::string, bool>& out) {
  std::string v = unquote(value);
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) return flagError(flag, value, "missing bool value for " + item);
    std::string name = item.substr(0, eq);
    auto b = parseBool(item.substr(eq + 1));
    if (!b) return flagError(flag, value, "invalid value of " + name + ": " + item.substr(eq + 1));
    if (std::find(kKnownGates.begin(), kKnownGates.end(), name) == kKnownGates.end())
      return Error(ErrorCode::InvalidInput, "unrecognized feature gate: " + name);
    out[name] = *b;
  }
  return Ok{};
}

// Flag tables: every flag is read as text and converted here, so that each error can name the
// flag and the value the way pflag does.
struct FlagSpec {
  const char* name;
  bool isBool;
  const char* help;
};

const FlagSpec kUpstream[] = {
    {"proxy-mode", false, "Which proxy mode to use: on Windows only 'kernelspace' (or blank)."},
    {"hostname-override", false, "If non-empty, will be used as the name of the Node that kube-proxy is running on."},
    {"kubeconfig", false, "Path to kubeconfig file with authorization information."},
    {"master", false, "The address of the Kubernetes API server (overrides any value in kubeconfig)."},
    {"config", false, "The path to the configuration file (KubeProxyConfiguration, YAML or JSON)."},
    {"write-config-to", false, "If set, write the default configuration values to this file and exit."},
    {"feature-gates", false, "A set of key=value pairs for alpha/experimental features: WinDSR=true|false, WinOverlay=true|false."},
    {"windows-service", true, "Enable Windows Service Control Manager API integration."},
    {"cleanup", true, "If true cleanup HNS load balancers and remote endpoints created by kube-proxy, then exit."},
    {"enable-dsr", true, "If true make kube-proxy apply DSR policies for service VIP."},
    {"source-vip", false, "The IP address of the source VIP for non-DSR (overlay)."},
    {"network-name", false, "The name of the cluster network (default: $KUBE_NETWORK)."},
    {"root-hnsendpoint-name", false, "The name of the hns endpoint name for root namespace attached to l2bridge (default cbr0)."},
    {"forward-healthcheck-vip", true, "If true forward service VIP for health check port."},
    {"cluster-cidr", false, "The CIDR range of the pods in the cluster (not used on Windows; accepted)."},
    {"bind-address", false, "Overrides kube-proxy's idea of what its node's primary IP is."},
    {"healthz-bind-address", false, "The IP address with port for the health check server to serve on (default 0.0.0.0:10256)."},
    {"metrics-bind-address", false, "The IP address with port for the metrics server to serve on (default 127.0.0.1:10249)."},
    {"bind-address-hard-fail", true, "If true kube-proxy will treat failure to bind to a port as fatal and exit."},
    {"iptables-sync-period", false, "The maximum interval of how often HNS rules are refreshed (e.g. '5s', '1m'). Default 30s."},
    {"sync-period", false, "Same as --iptables-sync-period (newer spelling)."},
    {"iptables-min-sync-period", false, "The minimum period between HNS syncs (e.g. '1s'). Default 1s."},
    {"min-sync-period", false, "Same as --iptables-min-sync-period (newer spelling)."},
    {"config-sync-period", false, "How often configuration from the apiserver is refreshed. Default 15m0s."},
    {"v", false, "number for the log level verbosity"},
    {"vmodule", false, "comma-separated list of pattern=N settings for file-filtered logging (accepted)"},
    {"version", false, "--version, --version=raw prints version information and quits"},
    {"init-only", true, "Not implemented on Windows."},
};

const FlagSpec kLegacyLogging[] = {
    {"log-dir", false, "(legacy klog) write log files into this directory"},
    {"log-file", false, "(legacy klog) write the log to this file"},
    {"log-file-max-size", false, "(legacy klog) maximum size of a log file in MB before it is rotated (default 1800)"},
    {"logtostderr", true, "(legacy klog) log to standard error instead of files (default true)"},
    {"alsologtostderr", true, "(legacy klog) log to standard error as well as files"},
    {"one-output", true, "(legacy klog) accepted, ignored"},
    {"stderrthreshold", false, "(legacy klog) accepted, ignored"},
    {"skip-headers", true, "(legacy klog) accepted, ignored"},
    {"skip-log-headers", true, "(legacy klog) accepted, ignored"},
    {"add-dir-header", true, "(legacy klog) accepted, ignored"},
    {"log-backtrace-at", false, "(legacy klog) accepted, ignored"},
};

// Flags a Windows kube-proxy accepts and does not use (Linux-only or client tuning).
const FlagSpec kIgnored[] = {
    {"iptables-masquerade-bit", false, ""}, {"masquerade-all", true, ""}, {"iptables-localhost-nodeports", true, ""},
    {"conntrack-max-per-core", false, ""}, {"conntrack-min", false, ""},
    {"conntrack-tcp-timeout-established", false, ""}, {"conntrack-tcp-timeout-close-wait", false, ""},
    {"oom-score-adj", false, ""}, {"ipvs-scheduler", false, ""}, {"ipvs-sync-period", false, ""},
    {"ipvs-min-sync-period", false, ""}, {"ipvs-strict-arp", true, ""}, {"nodeport-addresses", false, ""},
    {"detect-local-mode", false, ""}, {"pod-bridge-interface", false, ""}, {"pod-interface-name-prefix", false, ""},
    {"kube-api-qps", false, ""}, {"kube-api-burst", false, ""}, {"kube-api-content-type", false, ""},
    {"profiling", true, ""}, {"log-flush-frequency", false, ""}, {"logging-format", false, ""},
    {"show-hidden-metrics-for-version", false, ""}, {"healthz-port", false, ""}, {"metrics-port", false, ""},
};

const FlagSpec kHnsproxy[] = {
    {"manifest-dir", false, "hnsproxy: read Service, EndpointSlice and Node objects from this directory (and follow changes) instead of an API server"},
    {"hns-backend", false, "hnsproxy: hcn (Windows HNS) or sim (the simulator; default on Linux)"},
    {"hns-sim-profile", false, "hnsproxy: simulator build profile (ws2019-early, ws2019, ws2004, ws2022, ws2025, ws2025-updated)"},
    {"hns-sim-state", false, "hnsproxy: simulator state file, loaded at start and written back after every sync"},
    {"hns-sim-socket", false, "hnsproxy: talk to a running hnssim on this Unix socket"},
    {"sync-once", true, "hnsproxy: wait for the sources, sync once, exit 0 if everything was programmed"},
    {"dry-run", true, "hnsproxy: compute and print the plan; change nothing"},
    {"output", false, "hnsproxy: output of --dry-run and --cleanup: text or json"},
    {"hns-parallelism", false, "hnsproxy: HNS operations run at once within a plan phase (default 1)"},
    {"hns-verify-period", false, "hnsproxy: how often HNS is listed to repair drift (default 5m0s; 0 disables)"},
    {"max-backends-per-lb", false, "hnsproxy: cap backends per load balancer below the HNS limit (0: the HNS limit)"},
    {"manifest-poll-interval", false, "hnsproxy: how often --manifest-dir is checked for changes (default 250ms)"},
};

void addSpecs(po::options_description& d, const FlagSpec* specs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (specs[i].isBool || std::string(specs[i].name) == "version")
      d.add_options()(specs[i].name, po::value<std::string>()->implicit_value("true"), specs[i].help);
    else
      d.add_options()(specs[i].name, po::value<std::string>(), specs[i].help);
  }
}

po::options_description allOptions(bool forHelp) {
  po::options_description all("kube-proxy (hnsproxy) flags");
  all.add_options()("help,h", "help for kube-proxy");
  addSpecs(all, kUpstream, std::size(kUpstream));
  addSpecs(all, kHnsproxy, std::size(kHnsproxy));
  po::options_description legacy("Legacy klog flags (deprecated; honoured for existing Windows start scripts)");
  addSpecs(legacy, kLegacyLogging, std::size(kLegacyLogging));
  all.add(legacy);
  if (!forHelp) {
    po::options_description ignored;
    addSpecs(ignored, kIgnored, std::size(kIgnored));
    all.add(ignored);
  }
  return all;
}

bool isBoolFlag(const std::string& name) {
  auto in = [&](const FlagSpec* t, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      if (name == t[i].name) return t[i].isBool;
    return false;
  };
  return in(kUpstream, std::size(kUpstream)) || in(kLegacyLogging, std::size(kLegacyLogging)) ||
         in(kIgnored, std::size(kIgnored)) || in(kHnsproxy, std::size(kHnsproxy));
}

// pflag's normalisation: '_' and '-' are the same in flag names; -v is --v.
std::vector<std::string> normalise(int argc, const char* const* argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      auto eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      std::replace(name.begin(), name.end(), '_', '-');
      if (eq != std::string::npos && eq + 1 == a.size()) {  // "--flag=": an empty value (e.g. disables a server)
        out.push_back("--" + name);
        out.push_back("");
        continue;
      }
      a = "--" + name + (eq == std::string::npos ? "" : a.substr(eq));
    } else if (a.rfind("-v=", 0) == 0) {
      a = "--v=" + a.substr(3);
    } else if (a == "-v" && i + 1 < argc) {
      a = std::string("--v=") + argv[++i];
    } else if (a.rfind("-o=", 0) == 0) {
      a = "--output=" + a.substr(3);
    } else if (a == "-o" && i + 1 < argc) {
      a = std::string("--output=") + argv[++i];
    }
    out.push_back(a);
  }
  return out;
}

Status parseInt(const std::string& flag, const std::string& v, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0) return flagError(flag, v, "not an integer");
  if (n < lo || n > hi) return flagError(flag, v, fmt::format("must be between {} and {}", lo, hi));
  out = n;
  return Ok{};
}

Status parseDuration(const std::string& flag, const std::string& v, Duration& out) {
  auto d = parseGoDuration(v);
  if (!d) return flagError(flag, v, "not a duration (e.g. 30s, 1m30s, 500ms)");
  out = *d;
  return Ok{};
}

// Applies one flag's text to the options.
Status apply(Options& o, const std::string& name, const std::string& raw) {
  std::string v = raw;
  if (isBoolFlag(name)) {
    auto b = parseBool(v);
    if (!b) return flagError(name, v, "not a boolean (true or false)");
    if (name == "windows-service") o.windowsService = *b;
    else if (name == "cleanup") o.cleanup = *b;
    else if (name == "enable-dsr") o.enableDsr = *b;
    else if (name == "forward-healthcheck-vip") o.forwardHealthCheckVip = *b;
    else if (name == "bind-address-hard-fail") o.bindAddressHardFail = *b;
    else if (name == "init-only") {
      if (*b) return Error(ErrorCode::InvalidInput, "--init-only is not implemented on Windows");
    } else if (name == "logtostderr") o.logToStderr = *b;
    else if (name == "alsologtostderr") o.alsoLogToStderr = *b;
    else if (name == "sync-once") o.syncOnce = *b;
    else if (name == "dry-run") o.dryRun = *b;
    return Ok{};
  }
  if (name == "proxy-mode") o.proxyMode = v;
  else if (name == "hostname-override") o.hostnameOverride = v;
  else if (name == "kubeconfig") o.kubeconfig = v;
  else if (name == "master") o.master = v;
  else if (name == "config") o.config = v;
  else if (name == "write-config-to") o.writeConfigTo = v;
  else if (name == "feature-gates") return parseFeatureGates(name, v, o.featureGates);
  else if (name == "source-vip") o.sourceVip = v;
  else if (name == "network-name") o.networkName = v;
  else if (name == "root-hnsendpoint-name") o.rootHnsEndpointName = v;
  else if (name == "cluster-cidr") o.clusterCidr = v;
  else if (name == "bind-address") o.bindAddress = v;
  else if (name == "healthz-bind-address") o.healthzBindAddress = v;
  else if (name == "metrics-bind-address") o.metricsBindAddress = v;
  else if (name == "iptables-sync-period" || name == "sync-period") return parseDuration(name, v, o.syncPeriod);
  else if (name == "iptables-min-sync-period" || name == "min-sync-period") return parseDuration(name, v, o.minSyncPeriod);
  else if (name == "config-sync-period") return parseDuration(name, v, o.configSyncPeriod);
  else if (name == "v") {
    long long n = 0;
    if (auto st = parseInt(name, v, 0, 10, n); !st) return st;
    o.verbosity = static_cast<int>(n);
  } else if (name == "vmodule") o.vmodule = v;
  else if (name == "version") {
    if (v == "true" || v == "raw" || v == "false" || (!v.empty() && v[0] == 'v')) o.version = v == "false" ? "" : v;
    else return flagError(name, v, "want true, false, raw or vX.Y.Z");
  } else if (name == "log-dir") o.logDir = v;
  else if (name == "log-file") o.logFile = v;
  else if (name == "log-file-max-size") {
    long long n = 0;
    if (auto st = parseInt(name, v, 0, 1 << 20, n); !st) return st;
    o.logFileMaxSizeMB = static_cast<std::uint64_t>(n);
  } else if (name == "manifest-dir") o.manifestDir = v;
  else if (name == "hns-backend") o.hnsBackend = v;
  else if (name == "hns-sim-profile") o.hnsSimProfile = v;
  else if (name == "hns-sim-state") o.hnsSimState = v;
  else if (name == "hns-sim-socket") o.hnsSimSocket = v;
  else if (name == "output" || name == "o") o.output = v;
  else if (name == "hns-parallelism") {
    long long n = 0;
    if (auto st = parseInt(name, v, 1, 64, n); !st) return st;
    o.hnsParallelism = static_cast<int>(n);
  } else if (name == "hns-verify-period") return parseDuration(name, v, o.hnsVerifyPeriod);
  else if (name == "manifest-poll-interval") return parseDuration(name, v, o.manifestPollInterval);
  else if (name == "max-backends-per-lb") {
    long long n = 0;
    if (auto st = parseInt(name, v, 0, 1 << 20, n); !st) return st;
    o.maxBackendsPerLoadBalancer = static_cast<std::uint32_t>(n);
  } else if (name == "healthz-port" || name == "metrics-port") {
    long long n = 0;
    if (auto st = parseInt(name, v, 0, 65535, n); !st) return st;
    std::string& addr = name == "healthz-port" ? o.healthzBindAddress : o.metricsBindAddress;
    if (n == 0) addr.clear();
    else addr = addr.substr(0, addr.rfind(':')) + ":" + std::to_string(n);
  }
  // everything else: accepted, not used on Windows
  return Ok{};
}

// Flags honoured on top of --config (ops-surface §1.1), plus hnsproxy's own.
bool honouredWithConfig(const std::string& name) {
  static const char* kHonoured[] = {"v", "vmodule", "hostname-override", "master", "windows-service", "cleanup",
                                    "write-config-to", "version", "config", "log-dir", "log-file", "log-file-max-size",
                                    "logtostderr", "alsologtostderr"};
  for (const char* h : kHonoured)
    if (name == h) return true;
  for (const auto& f : kHnsproxy)
    if (name == f.name) return true;
  return name == "o" || name == "output";
}

bool isLegacy(const std::string& name) {
  for (const auto& f : kLegacyLogging)
    if (name == f.name) return true;
  return false;
}

}  // namespace

std::string usage() {
  std::ostringstream ss;
  ss << "Usage:\n  kube-proxy [flags]\n\n"
     << "The Kubernetes network proxy for Windows nodes (hnsproxy): programs Services into the Host Networking "
        "Service.\n\n"
     << allOptions(true);
  return ss.str();
}

Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv) {
  ParsedCommandLine out;
  std::vector<std::string> args = normalise(argc, argv);
  po::options_description desc = allOptions(false);
  desc.add_options()("positional", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("positional", -1);
  po::variables_map vm;
  try {
    auto style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                 po::command_line_style::long_allow_next | po::command_line_style::allow_short |
                 po::command_line_style::allow_dash_for_short | po::command_line_style::short_allow_adjacent |
                 po::command_line_style::short_allow_next;
    po::store(po::command_line_parser(args).options(desc).positional(pos).style(style).run(), vm);
  } catch (const po::unknown_option& e) {
    return Error(ErrorCode::InvalidInput, "unknown flag: " + e.get_option_name());
  } catch (const po::error& e) {
    return Error(ErrorCode::InvalidInput, e.what());
  }
  if (vm.count("positional")) {
    std::string got;
    for (const auto& a : vm["positional"].as<std::vector<std::string>>()) got += (got.empty() ? "" : " ") + a;
    return Error(ErrorCode::InvalidInput, "\"kube-proxy\" does not take any arguments, got [" + got + "]");
  }
  if (vm.count("help")) {
    out.help = true;
    return out;
  }
  // Order of the command line, as pflag applies it.
  std::vector<std::pair<std::string, std::string>> given;
  for (const auto& [name, value] : vm) {
    if (name == "positional" || name == "help") continue;
    given.emplace_back(name, value.as<std::string>());
  }
  Options& o = out.options;
  auto configIt = vm.find("config");
  if (configIt != vm.end()) {
    o.config = configIt->second.as<std::string>();
    if (auto st = loadConfigFile(o.config, o, out.notes); !st) return st.error();
  }
  for (const auto& [name, value] : given) {
    if (!o.config.empty() && !honouredWithConfig(name)) {
      out.notes.push_back("--" + name + " is ignored because --config is given (set it in the file)");
      continue;
    }
    if (auto st = apply(o, name, value); !st) return st.error();
    out.flagsSet.emplace_back(name, value);
    if (isLegacy(name)) o.legacyFlagsUsed.push_back("--" + name);
  }
  if (o.output != "text" && o.output != "json") return flagError("output", o.output, "want text or json");
  return out;
}

// ---------------------------------------------------------------- the config file

Status loadConfigFile(const std::string& path, Options& o, std::vector<std::string>& notes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::InvalidInput, "failed to read config file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = watch::parseDocument(ss.str(), path);
  if (!doc) return doc.error();
  const json& j = *doc;
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, path + ": not a KubeProxyConfiguration object");
  auto bad = [&](const std::string& field, const json& v, const std::string& why) {
    return Error(ErrorCode::InvalidInput, fmt::format("{}: field {}: invalid value {}: {}", path, field, v.dump(), why));
  };
  if (j.value("kind", "") != "KubeProxyConfiguration")
    return bad("kind", j.contains("kind") ? j["kind"] : json(nullptr), "want KubeProxyConfiguration");
  std::string api = j.value("apiVersion", "");
  if (api != "kubeproxy.config.k8s.io/v1alpha1") return bad("apiVersion", json(api), "want kubeproxy.config.k8s.io/v1alpha1");

  static const std::vector<std::string> kKnown = {
      "apiVersion", "kind", "featureGates", "clientConnection", "logging", "hostnameOverride", "bindAddress",
      "healthzBindAddress", "metricsBindAddress", "bindAddressHardFail", "enableProfiling",
      "showHiddenMetricsForVersion", "mode", "iptables", "ipvs", "nftables", "winkernel", "detectLocalMode",
      "detectLocal", "clusterCIDR", "nodePortAddresses", "oomScoreAdj", "conntrack", "configSyncPeriod", "portRange",
      "windowsRunAsService", "syncPeriod", "minSyncPeriod", "linux", "windows"};
  for (const auto& [k, v] : j.items())
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      notes.push_back("Using lenient decoding as strict decoding failed: " + path + ": unknown field \"" + k + "\"");

  auto str = [&](const json& obj, const char* key, std::string& dst, const std::string& field) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Ok{};
    if (!obj[key].is_string()) return bad(field, obj[key], "must be a string");
    dst = obj[key].get<std::string>();
    return Ok{};
  };
  auto boolean = [&](const json& obj, const char* key, bool& dst, const std::string& field) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Ok{};
    if (!obj[key].is_boolean()) return bad(field, obj[key], "must be true or false");
    dst = obj[key].get<bool>();
    return Ok{};
  };
  auto duration = [&](const json& obj, const char* key, Duration& dst, const std::string& field) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Ok{};
    if (!obj[key].is_string()) return bad(field, obj[key], "must be a duration string such as 30s");
    auto d = parseGoDuration(obj[key].get<std::string>());
    if (!d) return bad(field, obj[key], "not a duration");
    dst = *d;
    return Ok{};
  };
  std::vector<Status> results;
  if (j.contains("featureGates") && !j["featureGates"].is_null()) {
    if (!j["featureGates"].is_object()) return bad("featureGates", j["featureGates"], "must be a map of name: bool");
    for (const auto& [k, v] : j["featureGates"].items()) {
      if (!v.is_boolean()) return bad("featureGates." + k, v, "must be true or false");
      if (std::find(kKnownGates.begin(), kKnownGates.end(), k) == kKnownGates.end())
        return Error(ErrorCode::InvalidInput, "unrecognized feature gate: " + k);
      o.featureGates[k] = v.get<bool>();
    }
  }
  if (j.contains("clientConnection") && j["clientConnection"].is_object())
    results.push_back(str(j["clientConnection"], "kubeconfig", o.kubeconfig, "clientConnection.kubeconfig"));
  if (j.contains("logging") && j["logging"].is_object() && j["logging"].contains("verbosity")) {
    const json& v = j["logging"]["verbosity"];
    if (!v.is_number_integer() || v.get<int>() < 0) return bad("logging.verbosity", v, "must be a non-negative integer");
    o.verbosity = v.get<int>();
  }
  results.push_back(str(j, "hostnameOverride", o.hostnameOverride, "hostnameOverride"));
  results.push_back(str(j, "bindAddress", o.bindAddress, "bindAddress"));
  results.push_back(str(j, "healthzBindAddress", o.healthzBindAddress, "healthzBindAddress"));
  results.push_back(str(j, "metricsBindAddress", o.metricsBindAddress, "metricsBindAddress"));
  results.push_back(boolean(j, "bindAddressHardFail", o.bindAddressHardFail, "bindAddressHardFail"));
  results.push_back(str(j, "mode", o.proxyMode, "mode"));
  results.push_back(str(j, "clusterCIDR", o.clusterCidr, "clusterCIDR"));
  results.push_back(duration(j, "configSyncPeriod", o.configSyncPeriod, "configSyncPeriod"));
  results.push_back(duration(j, "syncPeriod", o.syncPeriod, "syncPeriod"));
  results.push_back(duration(j, "minSyncPeriod", o.minSyncPeriod, "minSyncPeriod"));
  results.push_back(boolean(j, "windowsRunAsService", o.windowsService, "windowsRunAsService"));
  if (j.contains("iptables") && j["iptables"].is_object()) {
    results.push_back(duration(j["iptables"], "syncPeriod", o.syncPeriod, "iptables.syncPeriod"));
    results.push_back(duration(j["iptables"], "minSyncPeriod", o.minSyncPeriod, "iptables.minSyncPeriod"));
  }
  if (j.contains("winkernel") && !j["winkernel"].is_null()) {
    const json& w = j["winkernel"];
    if (!w.is_object()) return bad("winkernel", w, "must be an object");
    results.push_back(str(w, "networkName", o.networkName, "winkernel.networkName"));
    results.push_back(str(w, "sourceVip", o.sourceVip, "winkernel.sourceVip"));
    results.push_back(boolean(w, "enableDSR", o.enableDsr, "winkernel.enableDSR"));
    std::string root;
    results.push_back(str(w, "rootHnsEndpointName", root, "winkernel.rootHnsEndpointName"));
    if (!root.empty()) o.rootHnsEndpointName = root;
    results.push_back(boolean(w, "forwardHealthCheckVip", o.forwardHealthCheckVip, "winkernel.forwardHealthCheckVip"));
  }
  for (const auto& r : results)
    if (!r) return r;
  return Ok{};
}

json configObject(const Options& o) {
  json gates = json::object();
  for (const auto& [k, v] : o.featureGates) gates[k] = v;
  return json{{"apiVersion", "kubeproxy.config.k8s.io/v1alpha1"},
              {"kind", "KubeProxyConfiguration"},
              {"featureGates", gates},
              {"clientConnection", {{"kubeconfig", o.kubeconfig}, {"contentType", "application/json"}, {"qps", 5}, {"burst", 10}}},
              {"logging", {{"format", "text"}, {"verbosity", o.verbosity}}},
              {"hostnameOverride", o.hostnameOverride},
              {"bindAddress", o.bindAddress},
              {"healthzBindAddress", o.healthzBindAddress},
              {"metricsBindAddress", o.metricsBindAddress},
              {"bindAddressHardFail", o.bindAddressHardFail},
              {"mode", o.proxyMode.empty() ? "kernelspace" : o.proxyMode},
              {"iptables", {{"syncPeriod", formatGoDuration(o.syncPeriod)}, {"minSyncPeriod", formatGoDuration(o.minSyncPeriod)}}},
              {"winkernel",
               {{"networkName", o.networkName},
                {"sourceVip", o.sourceVip},
                {"enableDSR", o.enableDsr},
                {"rootHnsEndpointName", o.rootHnsEndpointName},
                {"forwardHealthCheckVip", o.forwardHealthCheckVip}}},
              {"clusterCIDR", o.clusterCidr},
              {"configSyncPeriod", formatGoDuration(o.configSyncPeriod)},
              {"windowsRunAsService", o.windowsService}};
}

namespace {
void yamlOf(const json& j, int indent, std::string& out) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& [k, v] : j.items()) {
    if (v.is_object()) {
      if (v.empty()) {
        out += pad + k + ": {}\n";
      } else {
        out += pad + k + ":\n";
        yamlOf(v, indent + 2, out);
      }
    } else {
      out += pad + k + ": " + v.dump() + "\n";  // JSON scalars are valid YAML
    }
  }
}
}  // namespace

std::string configYaml(const Options& o) {
  std::string out;
  yamlOf(configObject(o), 0, out);
  return out;
}

std::string configJson(const Options& o) { return json{{"kubeproxy.config.k8s.io", configObject(o)}}.dump(); }

Status validateHostPort(const std::string& flag, const std::string& value, bool allowEmpty) {
  if (value.empty()) {
    if (allowEmpty) return Ok{};
    return flagError(flag, value, "must be IP:port");
  }
  std::string host, port;
  if (value[0] == '[') {
    auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':')
      return flagError(flag, value, "must be IP:port");
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) return flagError(flag, value, "must be IP:port");
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
  }
  if (!policy::IpAddress::parse(host)) return flagError(flag, value, "must be a valid IP");
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) return flagError(flag, value, "must be a valid port");
  return Ok{};
}

Status validate(const Options& o) {
  if (!o.proxyMode.empty() && o.proxyMode != "kernelspace") return flagError("proxy-mode", o.proxyMode, kNotKernelspace);
  if (o.syncPeriod.count() <= 0) return flagError("iptables-sync-period", formatGoDuration(o.syncPeriod), "must be greater than 0");
  if (o.minSyncPeriod.count() < 0)
    return flagError("iptables-min-sync-period", formatGoDuration(o.minSyncPeriod), "must be greater than or equal to 0");
  if (o.minSyncPeriod > o.syncPeriod)
    return flagError("iptables-min-sync-period", formatGoDuration(o.minSyncPeriod),
                     "must be less than or equal to --iptables-sync-period (" + formatGoDuration(o.syncPeriod) + ")");
  if (o.configSyncPeriod.count() <= 0)
    return flagError("config-sync-period", formatGoDuration(o.configSyncPeriod), "must be greater than 0");
  if (o.hnsVerifyPeriod.count() < 0) return flagError("hns-verify-period", formatGoDuration(o.hnsVerifyPeriod), "must be >= 0");
  if (o.manifestPollInterval.count() <= 0)
    return flagError("manifest-poll-interval", formatGoDuration(o.manifestPollInterval), "must be greater than 0");
  if (!policy::IpAddress::parse(o.bindAddress))
    return flagError("bind-address", o.bindAddress, "not a valid textual representation of an IP address");
  if (auto st = validateHostPort("healthz-bind-address", o.healthzBindAddress, true); !st) return st;
  if (auto st = validateHostPort("metrics-bind-address", o.metricsBindAddress, true); !st) return st;
  if (!o.sourceVip.empty() && !policy::IpAddress::parse(o.sourceVip))
    return flagError("source-vip", o.sourceVip, "not a valid IP address");
  if (!o.clusterCidr.empty()) {
    std::stringstream ss(o.clusterCidr);
    std::string c;
    while (std::getline(ss, c, ','))
      if (!policy::Cidr::parse(c)) return flagError("cluster-cidr", o.clusterCidr, "\"" + c + "\" is not a valid CIDR");
  }
  if (!o.hnsBackend.empty() && o.hnsBackend != "hcn" && o.hnsBackend != "sim")
    return flagError("hns-backend", o.hnsBackend, "want hcn or sim");
  if (o.enableDsr && !o.gate("WinDSR")) return Error(ErrorCode::InvalidInput, "WinDSR feature gate not enabled");
  if (o.hostnameOverride.find_first_not_of(" \t") == std::string::npos && !o.hostnameOverride.empty())
    return Error(ErrorCode::InvalidInput, "empty hostname-override is invalid");
  return Ok{};
}

}  // namespace hnsproxy::proxy

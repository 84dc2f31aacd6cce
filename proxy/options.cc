#include "proxy/options.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "policy/ip.h"
#include "proxy/logging.h"
#include "watch/manifest.h"

namespace hnsproxy::proxy {

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
  if (!any || total > 9.2e18) return std::nullopt;  // Go's time.Duration is an int64 of nanoseconds
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

namespace {

const std::vector<std::string> kKnownGates = {"WinDSR", "WinOverlay"};

}  // namespace

bool Options::gate(const std::string& name) const {
  auto it = featureGates.find(name);
  if (it != featureGates.end()) return it->second;
  return name == "WinDSR" || name == "WinOverlay";  // both default to true
}

// ---------------------------------------------------------------- value parsers
//
// A setter's error is either a reason (ErrorCode::InvalidArgument: the caller wraps it as
// `invalid value "V" for flag --F: reason`, or names the config field) or a complete message
// (ErrorCode::InvalidInput, e.g. "unrecognized feature gate: X").

namespace {

Error reason(std::string why) { return Error(ErrorCode::InvalidArgument, std::move(why)); }

std::optional<bool> parseBool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

Result<long long> parseInteger(const std::string& v, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0) return reason("not an integer");
  if (n < lo || n > hi) return reason(fmt::format("must be between {} and {}", lo, hi));
  return n;
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    return v.substr(1, v.size() - 2);
  return v;
}

Status parseFeatureGates(const std::string& value, std::map<std::string, bool>& out) {
  std::stringstream ss(unquote(value));
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) return reason("missing bool value for " + item);
    std::string name = item.substr(0, eq);
    auto b = parseBool(item.substr(eq + 1));
    if (!b) return reason("invalid value of " + name + ": " + item.substr(eq + 1));
    if (std::find(kKnownGates.begin(), kKnownGates.end(), name) == kKnownGates.end())
      return Error(ErrorCode::InvalidInput, "unrecognized feature gate: " + name);
    out[name] = *b;
  }
  return Ok{};
}

// Setters and getters bound to one member of Options.
template <auto M>
Status setString(Options& o, const OptionSpec&, const std::string& v) {
  o.*M = v;
  return Ok{};
}
template <auto M>
std::string getString(const Options& o, const OptionSpec&) {
  return o.*M;
}
template <auto M>
Status setBool(Options& o, const OptionSpec&, const std::string& v) {
  auto b = parseBool(v);
  if (!b) return reason("not a boolean (true or false)");
  o.*M = *b;
  return Ok{};
}
template <auto M>
std::string getBool(const Options& o, const OptionSpec&) {
  return o.*M ? "true" : "false";
}
template <auto M>
Status setDuration(Options& o, const OptionSpec&, const std::string& v) {
  auto d = parseGoDuration(v);
  if (!d) return reason("not a duration (e.g. 30s, 1m30s, 500ms)");
  o.*M = *d;
  return Ok{};
}
template <auto M>
std::string getDuration(const Options& o, const OptionSpec&) {
  return formatGoDuration(o.*M);
}
template <auto M, long long Lo, long long Hi>
Status setInt(Options& o, const OptionSpec&, const std::string& v) {
  auto n = parseInteger(v, Lo, Hi);
  if (!n) return n.error();
  o.*M = static_cast<std::remove_reference_t<decltype(o.*M)>>(*n);
  return Ok{};
}
template <auto M>
std::string getInt(const Options& o, const OptionSpec&) {
  return std::to_string(o.*M);
}

// Options a Windows kube-proxy accepts and does not use: the value is checked for its kind and
// kept as text, so that it is shown back as given.
Status setAccepted(Options& o, const OptionSpec& spec, const std::string& v) {
  switch (spec.kind) {
    case OptionKind::Bool:
      if (!parseBool(v)) return reason("not a boolean (true or false)");
      break;
    case OptionKind::Int:
      if (auto n = parseInteger(v, -2147483648LL, 2147483647LL); !n) return n.error();
      break;
    case OptionKind::Float: {
      char* end = nullptr;
      std::strtod(v.c_str(), &end);
      if (v.empty() || *end) return reason("not a number");
      break;
    }
    case OptionKind::GoDuration:
      if (!parseGoDuration(v)) return reason("not a duration (e.g. 30s, 1m30s, 500ms)");
      break;
    default: break;
  }
  o.accepted[std::string(spec.name)] = v;
  return Ok{};
}
std::string getAccepted(const Options& o, const OptionSpec& spec) {
  auto it = o.accepted.find(std::string(spec.name));
  return it == o.accepted.end() ? std::string(spec.acceptedDefault) : it->second;
}

// --- the option-specific ones ---

Status setProxyMode(Options& o, const OptionSpec&, const std::string& v) {
  o.proxyMode = v;
  return Ok{};
}
Status setGates(Options& o, const OptionSpec&, const std::string& v) { return parseFeatureGates(v, o.featureGates); }
std::string getGates(const Options& o, const OptionSpec&) {
  std::string s;
  for (const auto& [k, v] : o.featureGates) s += (s.empty() ? "" : ",") + k + "=" + (v ? "true" : "false");
  return s;
}
Status setRootEndpoint(Options& o, const OptionSpec&, const std::string& v) {
  o.rootHnsEndpointName = v.empty() ? "cbr0" : v;  // upstream's platformApplyDefaults
  return Ok{};
}
Status setInitOnly(Options&, const OptionSpec&, const std::string& v) {
  auto b = parseBool(v);
  if (!b) return reason("not a boolean (true or false)");
  if (*b) return Error(ErrorCode::InvalidInput, "--init-only is not implemented on Windows");
  return Ok{};
}
Status setVersion(Options& o, const OptionSpec&, const std::string& v) {
  if (v == "true" || v == "raw" || v == "false" || (!v.empty() && v[0] == 'v')) {
    o.version = v == "false" ? "" : v;
    return Ok{};
  }
  return reason("want true, false, raw or vX.Y.Z");
}
std::string getVersion(const Options& o, const OptionSpec&) { return o.version.empty() ? "false" : o.version; }
Status setOutput(Options& o, const OptionSpec&, const std::string& v) {
  if (v != "text" && v != "json") return reason("want text or json");
  o.output = v;
  return Ok{};
}
Status setBackend(Options& o, const OptionSpec&, const std::string& v) {
  o.hnsBackend = v;
  return Ok{};
}
// --healthz-port / --metrics-port (deprecated upstream, applied without --config): the port of
// the bind address; 0 disables the server.
template <auto M>
Status setPortOf(Options& o, const OptionSpec&, const std::string& v) {
  auto n = parseInteger(v, 0, 65535);
  if (!n) return n.error();
  std::string& addr = o.*M;
  if (*n == 0) addr.clear();
  else addr = (addr.empty() ? std::string("0.0.0.0:0") : addr).substr(0, addr.rfind(':')) + ":" + std::to_string(*n);
  return Ok{};
}
template <auto M>
std::string getPortOf(const Options& o, const OptionSpec&) {
  const std::string& addr = o.*M;
  return addr.empty() ? "0" : addr.substr(addr.rfind(':') + 1);
}
Status setHelp(Options&, const OptionSpec&, const std::string&) { return Ok{}; }
std::string getHelp(const Options&, const OptionSpec&) { return "false"; }

// --- the table's builders ---

using K = OptionKind;
using S = OptionStatus;

OptionSpec make(std::string_view name, std::string_view type, K kind, std::string_view help,
                Status (*set)(Options&, const OptionSpec&, const std::string&),
                std::string (*get)(const Options&, const OptionSpec&)) {
  OptionSpec s{};
  s.name = name;
  s.typeName = type;
  s.kind = kind;
  s.help = help;
  s.status = S::Normal;
  s.set = set;
  s.get = get;
  s.emit = true;
  if (kind == K::Bool) s.noOptValue = "true";
  return s;
}
template <auto M>
OptionSpec str(std::string_view name, std::string_view help) {
  return make(name, "string", K::String, help, &setString<M>, &getString<M>);
}
template <auto M>
OptionSpec flag(std::string_view name, std::string_view help) {
  return make(name, "", K::Bool, help, &setBool<M>, &getBool<M>);
}
template <auto M>
OptionSpec dur(std::string_view name, std::string_view help) {
  return make(name, "duration", K::GoDuration, help, &setDuration<M>, &getDuration<M>);
}
template <auto M, long long Lo, long long Hi>
OptionSpec integer(std::string_view name, std::string_view help) {
  return make(name, "int32", K::Int, help, &setInt<M, Lo, Hi>, &getInt<M>);
}
OptionSpec accepted(std::string_view name, std::string_view type, K kind, std::string_view dflt,
                    std::string_view configPath, std::string_view help) {
  OptionSpec s = make(name, type, kind, help, &setAccepted, &getAccepted);
  s.status = S::Accepted;
  s.acceptedDefault = dflt;
  s.configPath = configPath;
  return s;
}
OptionSpec cfg(OptionSpec s, std::string_view path) {
  s.configPath = path;
  return s;
}
OptionSpec honoured(OptionSpec s) {
  s.honouredWithConfig = true;
  return s;
}
OptionSpec with(OptionSpec s, S status, std::string_view note) {
  s.status = status;
  s.note = note;
  return s;
}
OptionSpec shorthand(OptionSpec s, std::string_view sh) {
  s.shorthand = sh;
  return s;
}
OptionSpec alias(OptionSpec s) {  // same member as another option: not written twice
  s.emit = false;
  return s;
}
OptionSpec hnsproxy(OptionSpec s) { return honoured(s); }  // hnsproxy's own flags always apply

constexpr std::string_view kIgnoredWithConfig = " This parameter is ignored if a config file is specified by --config.";
constexpr std::string_view kLegacyNote = "removed upstream in 1.26 (KEP-2845); honoured for existing Windows start scripts";
constexpr std::string_view kNotUsed = "Only used on Linux; accepted and not used on Windows.";

std::vector<OptionSpec> buildTable() {
  using O = Options;
  std::vector<OptionSpec> t = {
      // --- upstream's flags that act on Windows ---
      cfg(str<&O::bindAddress>("bind-address",
                               "Overrides kube-proxy's idea of what its node's primary IP is. No socket is bound to it; "
                               "on Windows it is the node IP for SourceVIP and overlay provider addresses."),
          "bindAddress"),
      cfg(flag<&O::bindAddressHardFail>("bind-address-hard-fail",
                                        "If true kube-proxy will treat failure to bind to a port as fatal and exit"),
          "bindAddressHardFail"),
      honoured(flag<&O::cleanup>("cleanup",
                                 "If true remove the HNS load balancers and remote endpoints kube-proxy programmed on the "
                                 "node's network, print them, and exit.")),
      cfg(str<&O::clusterCidr>("cluster-cidr",
                               "The CIDR range of the pods in the cluster (a comma-separated dual-stack pair allowed). "
                               "Not used by the Windows proxier; accepted for existing scripts."),
          "clusterCIDR"),
      honoured(str<&O::config>("config", "The path to the configuration file (KubeProxyConfiguration, YAML or JSON).")),
      cfg(dur<&O::configSyncPeriod>("config-sync-period",
                                    "How often configuration from the apiserver is refreshed.  Must be greater than 0."),
          "configSyncPeriod"),
      cfg(flag<&O::enableDsr>("enable-dsr", "If true make kube-proxy apply DSR policies for service VIP"),
          "winkernel.enableDSR"),
      cfg(make("feature-gates", "mapStringBool", K::Gates,
               "A set of key=value pairs that describe feature gates for alpha/experimental features. Options are: "
               "WinDSR=true|false (GA - default=true), WinOverlay=true|false (GA - default=true)",
               &setGates, &getGates),
          "featureGates"),
      cfg(flag<&O::forwardHealthCheckVip>("forward-healthcheck-vip", "If true forward service VIP for health check port"),
          "winkernel.forwardHealthCheckVip"),
      cfg(str<&O::healthzBindAddress>("healthz-bind-address",
                                      "The IP address with port for the health check server to serve on (set to "
                                      "'0.0.0.0:10256' for all IPv4 interfaces and '[::]:10256' for all IPv6 "
                                      "interfaces). Set empty to disable."),
          "healthzBindAddress"),
      with(make("healthz-port", "int32", K::Int, "The port to bind the health check server. Use 0 to disable.",
                &setPortOf<&O::healthzBindAddress>, &getPortOf<&O::healthzBindAddress>),
           S::Deprecated, "This flag is deprecated and will be removed in a future release. Please use "
                          "--healthz-bind-address instead."),
      shorthand(make("help", "", K::Bool, "help for kube-proxy", &setHelp, &getHelp), "h"),
      honoured(cfg(str<&O::hostnameOverride>(
                       "hostname-override",
                       "If non-empty, will be used as the name of the Node that kube-proxy is running on. If unset, the "
                       "node name is assumed to be the same as the node's hostname."),
                   "hostnameOverride")),
      cfg(make("iptables-min-sync-period", "duration", K::GoDuration,
               "The minimum period between HNS syncs (e.g. '5s', '1m', '2h22m'). A value of 0 means every Service or "
               "EndpointSlice change will result in an immediate sync.",
               &setDuration<&O::minSyncPeriod>, &getDuration<&O::minSyncPeriod>),
          "iptables.minSyncPeriod"),
      cfg(make("iptables-sync-period", "duration", K::GoDuration,
               "An interval (e.g. '5s', '1m', '2h22m') indicating how frequently the HNS programming is re-checked "
               "(with nothing changed it makes no HNS call). Must be greater than 0.",
               &setDuration<&O::syncPeriod>, &getDuration<&O::syncPeriod>),
          "iptables.syncPeriod"),
      honoured(make("init-only", "", K::Bool,
                    "If true, perform any initialization steps that must be done with full root privileges, and then "
                    "exit. Not implemented on Windows.",
                    &setInitOnly, [](const Options&, const OptionSpec&) { return std::string("false"); })),
      cfg(str<&O::kubeconfig>("kubeconfig",
                              "Path to kubeconfig file with authorization information (the master location can be "
                              "overridden by the master flag)."),
          "clientConnection.kubeconfig"),
      honoured(str<&O::master>("master", "The address of the Kubernetes API server (overrides any value in kubeconfig)")),
      cfg(str<&O::metricsBindAddress>("metrics-bind-address",
                                      "The IP address with port for the metrics server to serve on (set to "
                                      "'0.0.0.0:10249' for all IPv4 interfaces and '[::]:10249' for all IPv6 "
                                      "interfaces). Set empty to disable."),
          "metricsBindAddress"),
      with(make("metrics-port", "int32", K::Int, "The port to bind the metrics server. Use 0 to disable.",
                &setPortOf<&O::metricsBindAddress>, &getPortOf<&O::metricsBindAddress>),
           S::Deprecated, "This flag is deprecated and will be removed in a future release. Please use "
                          "--metrics-bind-address instead."),
      cfg(str<&O::networkName>("network-name", "The name of the cluster network (else the KUBE_NETWORK environment variable)."),
          "winkernel.networkName"),
      cfg(make("proxy-mode", "ProxyMode", K::String,
               "Which proxy mode to use: on Windows 'kernelspace' (blank means the same).", &setProxyMode,
               &getString<&O::proxyMode>),
          "mode"),
      cfg(make("root-hnsendpoint-name", "string", K::String,
               "The name of the hns endpoint name for root namespace attached to l2bridge", &setRootEndpoint,
               &getString<&O::rootHnsEndpointName>),
          "winkernel.rootHnsEndpointName"),
      cfg(str<&O::sourceVip>("source-vip", "The IP address of the source VIP for non-DSR."), "winkernel.sourceVip"),
      alias(cfg(make("min-sync-period", "duration", K::GoDuration, "The same as --iptables-min-sync-period.",
                     &setDuration<&O::minSyncPeriod>, &getDuration<&O::minSyncPeriod>),
                "minSyncPeriod")),
      alias(cfg(make("sync-period", "duration", K::GoDuration, "The same as --iptables-sync-period.",
                     &setDuration<&O::syncPeriod>, &getDuration<&O::syncPeriod>),
                "syncPeriod")),
      honoured(shorthand(cfg(make("v", "Level", K::Int, "number for the log level verbosity",
                                  &setInt<&O::verbosity, 0, 2147483647>, &getInt<&O::verbosity>),
                             "logging.verbosity"),
                         "v")),
      honoured(make("version", "version", K::String,
                    "--version, --version=raw prints version information and quits; --version=vX.Y.Z... sets the "
                    "reported version",
                    &setVersion, &getVersion)),
      honoured(str<&O::vmodule>("vmodule",
                                "comma-separated list of pattern=N settings for file-filtered logging (only works for "
                                "text log format)")),
      honoured(cfg(flag<&O::windowsService>("windows-service", "Enable Windows Service Control Manager API integration"),
                   "windowsRunAsService")),
      honoured(str<&O::writeConfigTo>("write-config-to",
                                      "If set, write the default configuration values to this file and exit.")),

      // --- legacy klog flags: honoured ---
      honoured(with(str<&O::logDir>("log-dir", "If non-empty, write log files in this directory (kube-proxy.log)"),
                    S::Legacy, kLegacyNote)),
      honoured(with(str<&O::logFile>("log-file", "If non-empty, use this log file"), S::Legacy, kLegacyNote)),
      honoured(with(make("log-file-max-size", "uint", K::Int,
                         "Defines the maximum size a log file can grow to (in MB); the file is then rotated. 0 means "
                         "no limit.",
                         &setInt<&O::logFileMaxSizeMB, 0, (1LL << 20)>, &getInt<&O::logFileMaxSizeMB>),
                    S::Legacy, kLegacyNote)),
      honoured(with(flag<&O::logToStderr>("logtostderr", "log to standard error instead of files"), S::Legacy, kLegacyNote)),
      honoured(with(flag<&O::alsoLogToStderr>("alsologtostderr", "log to standard error as well as files"), S::Legacy,
                    kLegacyNote)),
      with(accepted("one-output", "", K::Bool, "false", "", "If true, only write logs to their native severity level"),
           S::Legacy, kLegacyNote),
      with(accepted("stderrthreshold", "severity", K::String, "2", "", "logs at or above this threshold go to stderr"),
           S::Legacy, kLegacyNote),
      with(accepted("skip-headers", "", K::Bool, "false", "", "If true, avoid header prefixes in the log messages"),
           S::Legacy, kLegacyNote),
      with(accepted("skip-log-headers", "", K::Bool, "false", "", "If true, avoid headers when opening log files"),
           S::Legacy, kLegacyNote),
      with(accepted("add-dir-header", "", K::Bool, "false", "", "If true, adds the file directory to the header"),
           S::Legacy, kLegacyNote),
      with(accepted("log-backtrace-at", "traceLocation", K::String, ":0", "",
                    "when logging hits line file:N, emit a stack trace"),
           S::Legacy, kLegacyNote),

      // --- upstream's flags that do nothing on Windows: accepted ---
      accepted("conntrack-max-per-core", "int32", K::Int, "32768", "conntrack.maxPerCore", kNotUsed),
      accepted("conntrack-min", "int32", K::Int, "131072", "conntrack.min", kNotUsed),
      accepted("conntrack-tcp-timeout-close-wait", "duration", K::GoDuration, "1h0m0s", "conntrack.tcpCloseWaitTimeout", kNotUsed),
      accepted("conntrack-tcp-timeout-established", "duration", K::GoDuration, "24h0m0s", "conntrack.tcpEstablishedTimeout",
               kNotUsed),
      accepted("detect-local-mode", "LocalMode", K::String, "", "detectLocalMode", kNotUsed),
      accepted("iptables-localhost-nodeports", "", K::Bool, "true", "iptables.localhostNodePorts", kNotUsed),
      accepted("iptables-masquerade-bit", "int32", K::Int, "14", "iptables.masqueradeBit", kNotUsed),
      accepted("ipvs-min-sync-period", "duration", K::GoDuration, "0s", "ipvs.minSyncPeriod", kNotUsed),
      accepted("ipvs-scheduler", "string", K::String, "", "ipvs.scheduler", kNotUsed),
      accepted("ipvs-strict-arp", "", K::Bool, "false", "ipvs.strictARP", kNotUsed),
      accepted("ipvs-sync-period", "duration", K::GoDuration, "30s", "ipvs.syncPeriod", kNotUsed),
      accepted("kube-api-burst", "int32", K::Int, "10", "clientConnection.burst",
               "Burst to use while talking with kubernetes apiserver (kube-proxy makes a handful of requests; not rate "
               "limited)"),
      accepted("kube-api-content-type", "string", K::String, "application/vnd.kubernetes.protobuf",
               "clientConnection.contentType", "Content type of requests sent to apiserver (hnsproxy speaks JSON)"),
      accepted("kube-api-qps", "float32", K::Float, "5", "clientConnection.qps",
               "QPS to use while talking with kubernetes apiserver (kube-proxy makes a handful of requests; not rate "
               "limited)"),
      accepted("log-flush-frequency", "duration", K::GoDuration, "5s", "logging.flushFrequency",
               "Maximum number of seconds between log flushes"),
      accepted("logging-format", "string", K::String, "text", "logging.format",
               "Sets the log format. Permitted formats: \"text\"."),
      accepted("masquerade-all", "", K::Bool, "false", "iptables.masqueradeAll", kNotUsed),
      accepted("nodeport-addresses", "strings", K::String, "", "",
               "Not used on Windows: node ports listen on every address."),
      accepted("oom-score-adj", "int32", K::Int, "-999", "oomScoreAdj", kNotUsed),
      accepted("pod-bridge-interface", "string", K::String, "", "detectLocal.bridgeInterface", kNotUsed),
      accepted("pod-interface-name-prefix", "string", K::String, "", "detectLocal.interfaceNamePrefix", kNotUsed),
      accepted("profiling", "", K::Bool, "false", "enableProfiling",
               "If true enables profiling via web interface on /debug/pprof handler (not served by hnsproxy)."),
      accepted("show-hidden-metrics-for-version", "string", K::String, "", "showHiddenMetricsForVersion",
               "The previous version for which you want to show hidden metrics."),

      // --- hnsproxy's own ---
      hnsproxy(dur<&O::hnsVerifyPeriod>("hns-verify-period",
                                        "hnsproxy: how often HNS is listed to repair drift (0 disables)")),
      hnsproxy(make("hns-backend", "string", K::String,
                    "hnsproxy: hcn (the Windows HNS; the default there) or sim (the simulator; the default elsewhere)",
                    &setBackend, &getString<&O::hnsBackend>)),
      hnsproxy(integer<&O::hnsParallelism, 1, 64>("hns-parallelism",
                                                 "hnsproxy: HNS operations run at once within a plan phase")),
      hnsproxy(str<&O::hnsSimProfile>("hns-sim-profile",
                                      "hnsproxy: simulator build profile (ws2019-early, ws2019, ws2004, ws2022, ws2025, "
                                      "ws2025-updated)")),
      hnsproxy(str<&O::hnsSimSocket>("hns-sim-socket", "hnsproxy: talk to a running hnssim on this Unix socket")),
      hnsproxy(str<&O::hnsSimState>("hns-sim-state",
                                    "hnsproxy: simulator state file, loaded at start and written back after every sync")),
      hnsproxy(str<&O::manifestDir>("manifest-dir",
                                    "hnsproxy: read Service, EndpointSlice and Node objects from this directory (and "
                                    "follow changes) instead of an API server")),
      hnsproxy(dur<&O::manifestPollInterval>("manifest-poll-interval",
                                             "hnsproxy: how often --manifest-dir is checked for changes")),
      hnsproxy(integer<&O::maxBackendsPerLoadBalancer, 0, (1LL << 20)>(
          "max-backends-per-lb", "hnsproxy: cap backends per load balancer below the HNS limit (0: the HNS limit)")),
      hnsproxy(flag<&O::dryRun>("dry-run", "hnsproxy: compute and print the plan; change nothing")),
      hnsproxy(shorthand(make("output", "string", K::String, "hnsproxy: output of --dry-run and --cleanup: text or json",
                              &setOutput, &getString<&O::output>),
                         "o")),
      hnsproxy(flag<&O::syncOnce>("sync-once", "hnsproxy: wait for the sources, sync once, exit 0 if everything was "
                                               "programmed")),
  };
  for (auto& s : t)
    if (s.name == "version") s.noOptValue = "true";
  return t;
}

}  // namespace

const std::vector<OptionSpec>& optionTable() {
  static const std::vector<OptionSpec> kTable = buildTable();
  return kTable;
}

const OptionSpec* findOption(std::string_view raw) {
  std::string name(raw);
  std::replace(name.begin(), name.end(), '_', '-');
  for (const auto& s : optionTable())
    if (s.name == name) return &s;
  return nullptr;
}

// ---------------------------------------------------------------- the command line

namespace {

Error flagError(std::string_view flag, const std::string& value, const Error& e) {
  if (e.code != ErrorCode::InvalidArgument) return e;
  return Error(ErrorCode::InvalidInput, fmt::format("invalid value \"{}\" for flag --{}: {}", value, flag, e.message));
}

Status applyFlag(Options& o, const OptionSpec& spec, const std::string& value) {
  if (auto st = spec.set(o, spec, value); !st) return flagError(spec.name, value, st.error());
  return Ok{};
}

struct GivenFlag {
  const OptionSpec* spec;
  std::string value;
};

// pflag's scan: long flags, shorthands, "--" ending the flags; everything else is an argument.
Result<std::vector<GivenFlag>> scan(int argc, const char* const* argv, std::vector<std::string>& positional) {
  std::vector<GivenFlag> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) positional.emplace_back(argv[i]);
      break;
    }
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const OptionSpec* spec = findOption(name);
      if (!spec) return Error(ErrorCode::InvalidInput, "unknown flag: --" + name);
      if (eq != std::string::npos) {
        out.push_back({spec, a.substr(eq + 1)});  // "--flag=" is an empty value (e.g. disables a server)
      } else if (!spec->noOptValue.empty()) {
        out.push_back({spec, std::string(spec->noOptValue)});
      } else if (i + 1 < argc) {
        out.push_back({spec, argv[++i]});
      } else {
        return Error(ErrorCode::InvalidInput, "flag needs an argument: --" + name);
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      std::string sh = a.substr(1, 1);
      const OptionSpec* spec = nullptr;
      for (const auto& s : optionTable())
        if (s.shorthand == sh) spec = &s;
      if (!spec) return Error(ErrorCode::InvalidInput, "unknown shorthand flag: '" + sh + "' in " + a);
      if (a.size() > 2) {
        out.push_back({spec, a[2] == '=' ? a.substr(3) : a.substr(2)});
      } else if (!spec->noOptValue.empty()) {
        out.push_back({spec, std::string(spec->noOptValue)});
      } else if (i + 1 < argc) {
        out.push_back({spec, argv[++i]});
      } else {
        return Error(ErrorCode::InvalidInput, "flag needs an argument: '" + sh + "' in " + a);
      }
      continue;
    }
    positional.push_back(a);
  }
  return out;
}

}  // namespace

Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv) {
  ParsedCommandLine out;
  std::vector<std::string> positional;
  auto given = scan(argc, argv, positional);
  if (!given) return given.error();
  if (!positional.empty()) {
    std::string got;
    for (const auto& a : positional) got += (got.empty() ? "" : " ") + a;
    return Error(ErrorCode::InvalidInput, "\"kube-proxy\" does not take any arguments, got [" + got + "]");
  }
  // Every value is checked, whether or not --config makes it ignored (pflag parses them all).
  std::string configFile;
  {
    Options scratch;
    for (const auto& g : *given) {
      if (g.spec->name == "help") {
        out.help = true;
        return out;
      }
      if (auto st = applyFlag(scratch, *g.spec, g.value); !st) return st.error();
      if (g.spec->name == "config") configFile = g.value;
    }
  }
  Options& o = out.options;
  if (!configFile.empty())
    if (auto st = loadConfigFile(configFile, o, out.notes); !st) return st.error();
  std::set<std::string_view> legacy;
  for (const auto& g : *given) {
    const OptionSpec& spec = *g.spec;
    if (!configFile.empty() && !spec.honouredWithConfig) {
      out.notes.push_back("--" + std::string(spec.name) + " is ignored because --config is given (set it in the file)");
      continue;
    }
    if (auto st = applyFlag(o, spec, g.value); !st) return st.error();
    if (spec.status == OptionStatus::Legacy && legacy.insert(spec.name).second)
      o.legacyFlagsUsed.push_back("--" + std::string(spec.name));
    if (spec.status == OptionStatus::Deprecated)
      out.notes.push_back("Flag --" + std::string(spec.name) + " has been deprecated, " + std::string(spec.note));
  }
  return out;
}

namespace {

bool shownInHelp(const OptionSpec& s) { return s.status != OptionStatus::Deprecated && s.status != OptionStatus::Hidden; }

bool isZeroValue(const OptionSpec& s, const std::string& v) {
  switch (s.kind) {
    case OptionKind::Bool: return v == "false";
    case OptionKind::Int:
    case OptionKind::Float: return v == "0";
    case OptionKind::GoDuration: return v == "0s";
    default: return v.empty();
  }
}

std::vector<const OptionSpec*> sortedForHelp() {
  std::vector<const OptionSpec*> v;
  for (const auto& s : optionTable())
    if (shownInHelp(s)) v.push_back(&s);
  std::sort(v.begin(), v.end(), [](const OptionSpec* a, const OptionSpec* b) { return a->name < b->name; });
  return v;
}

}  // namespace

// cobra's usage template around pflag's FlagUsages: one line a flag, names and types in a column
// as wide as the longest plus three, then the help, the default when it is not the zero value
// (strings quoted), and a deprecation note.
std::string usage() {
  const Options defaults;
  std::vector<std::pair<std::string, std::string>> lines;
  std::size_t width = 0;
  for (const OptionSpec* s : sortedForHelp()) {
    std::string left = s->shorthand.empty() ? "      --" + std::string(s->name)
                                            : "  -" + std::string(s->shorthand) + ", --" + std::string(s->name);
    if (!s->typeName.empty()) left += " " + std::string(s->typeName);
    if (!s->noOptValue.empty() && s->kind != OptionKind::Bool) left += "[=" + std::string(s->noOptValue) + "]";
    std::string right(s->help);
    std::string dflt = s->get(defaults, *s);
    if (s->name != "help" && !isZeroValue(*s, dflt))
      right += s->kind == OptionKind::String ? fmt::format(" (default \"{}\")", dflt) : fmt::format(" (default {})", dflt);
    if (s->status == OptionStatus::Legacy) right += fmt::format(" (DEPRECATED: {})", s->note);
    width = std::max(width, left.size());
    lines.emplace_back(std::move(left), std::move(right));
  }
  std::string out =
      "kube-proxy for Windows nodes (hnsproxy): watches Services and EndpointSlices and programs the Host Networking "
      "Service (HNS) load balancers this node needs, in kernelspace mode.\n\nUsage:\n  kube-proxy [flags]\n\nFlags:\n";
  for (const auto& [left, right] : lines) out += left + std::string(width - left.size() + 3, ' ') + right + "\n";
  return out;
}

std::vector<std::string> flagLines(const Options& o) {
  std::vector<std::string> out;
  for (const OptionSpec* s : sortedForHelp()) {
    std::string v = s->get(o, *s);
    if (s->name == "master") v = log::redactUrl(v);  // a password in the URL never reaches the log
    out.push_back(fmt::format("FLAG: --{}={}", s->name, json(v).dump()));
  }
  return out;
}

// ---------------------------------------------------------------- the config file

namespace {

// Sections and fields of KubeProxyConfiguration that have no option here and mean nothing on
// Windows: read without a note (they are valid upstream), never applied.
const std::set<std::string, std::less<>> kIgnoredConfig = {
    "apiVersion", "kind", "clientConnection.acceptContentTypes", "logging.options", "logging.vmodule",
    "ipvs", "nftables", "conntrack", "detectLocal", "linux", "windows", "portRange", "nodePortAddresses"};

// The JSON at a dotted path; nullptr when absent (or null). An intermediate that is not a mapping
// is an error naming it.
Result<const json*> at(const json& root, std::string_view path, const std::string& file) {
  const json* cur = &root;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return static_cast<const json*>(nullptr);
    if (dot == std::string_view::npos) return &*it;
    if (!it->is_object())
      return Error(ErrorCode::InvalidInput, fmt::format("{}: field {}: invalid value {}: must be a mapping", file,
                                                        path.substr(0, dot), it->dump()));
    cur = &*it;
    start = dot + 1;
  }
}

// Unknown fields anywhere in the document, as upstream's strict decoding would name them.
void unknownFields(const json& obj, const std::string& prefix, const std::set<std::string>& known,
                   std::vector<std::string>& out) {
  for (const auto& [k, v] : obj.items()) {
    std::string path = prefix.empty() ? k : prefix + "." + k;
    if (known.count(path) || kIgnoredConfig.count(path)) continue;
    bool intermediate = std::any_of(known.begin(), known.end(),
                                    [&](const std::string& p) { return p.rfind(path + ".", 0) == 0; });
    if (intermediate && v.is_object()) unknownFields(v, path, known, out);
    else if (!intermediate) out.push_back(path);
  }
}

// A config value as the option's text: each kind has its JSON type.
Result<std::string> configText(const OptionSpec& spec, const json& v) {
  switch (spec.kind) {
    case OptionKind::Bool:
      if (!v.is_boolean()) return reason("must be true or false");
      return std::string(v.get<bool>() ? "true" : "false");
    case OptionKind::Int:
      if (!v.is_number_integer()) return reason("must be an integer");
      return v.dump();
    case OptionKind::Float:
      if (!v.is_number()) return reason("must be a number");
      return v.dump();
    case OptionKind::GoDuration:
      if (!v.is_string()) return reason("must be a duration string such as 30s");
      return v.get<std::string>();
    case OptionKind::String:
      if (!v.is_string()) return reason("must be a string");
      return v.get<std::string>();
    case OptionKind::Gates: {
      if (!v.is_object()) return reason("must be a map of name: bool");
      std::string text;
      for (const auto& [k, b] : v.items()) {
        if (!b.is_boolean()) return reason("must be a map of name: bool (" + k + " is not)");
        text += (text.empty() ? "" : ",") + k + "=" + (b.get<bool>() ? "true" : "false");
      }
      return text;
    }
  }
  return reason("unsupported");
}

}  // namespace

Status loadConfigFile(const std::string& path, Options& o, std::vector<std::string>& notes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::InvalidInput, "failed to read config file \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = watch::parseDocument(ss.str(), path);
  if (!doc) return doc.error();
  const json& j = *doc;
  auto bad = [&](const std::string& field, const json& v, const std::string& why) {
    return Error(ErrorCode::InvalidInput, fmt::format("{}: field {}: invalid value {}: {}", path, field, v.dump(), why));
  };
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, path + ": not a KubeProxyConfiguration object");
  if (j.value("kind", "") != "KubeProxyConfiguration")
    return bad("kind", j.contains("kind") ? j["kind"] : json(nullptr), "want KubeProxyConfiguration");
  if (std::string api = j.value("apiVersion", ""); api != "kubeproxy.config.k8s.io/v1alpha1")
    return bad("apiVersion", json(api), "want kubeproxy.config.k8s.io/v1alpha1");

  std::set<std::string> known;
  for (const auto& spec : optionTable())
    if (!spec.configPath.empty()) known.insert(std::string(spec.configPath));
  std::vector<std::string> unknown;
  unknownFields(j, "", known, unknown);
  for (const auto& u : unknown)
    notes.push_back("Using lenient decoding as strict decoding failed: " + path + ": unknown field \"" + u + "\"");
  if (j.contains("winkernel") && !j["winkernel"].is_null() && !j["winkernel"].is_object())
    return bad("winkernel", j["winkernel"], "must be a mapping");

  // In the table's order: the top-level syncPeriod before iptables.syncPeriod, which the Windows
  // proxier reads (upstream's v1alpha1 conversion), so the latter wins when both are set.
  for (const auto& spec : optionTable()) {
    if (spec.configPath.empty()) continue;
    auto v = at(j, spec.configPath, path);
    if (!v) return v.error();
    if (!*v) continue;
    auto text = configText(spec, **v);
    if (!text) return bad(std::string(spec.configPath), **v, text.error().message);
    if (auto st = spec.set(o, spec, *text); !st) {
      if (st.error().code != ErrorCode::InvalidArgument) return st.error();
      return bad(std::string(spec.configPath), **v, st.error().message);
    }
  }
  return Ok{};
}

namespace {

json configObject(const Options& o) {
  json root = json::object();
  root["apiVersion"] = "kubeproxy.config.k8s.io/v1alpha1";
  root["kind"] = "KubeProxyConfiguration";
  for (const auto& spec : optionTable()) {
    if (spec.configPath.empty() || !spec.emit) continue;
    std::string text = spec.get(o, spec);
    json value;
    switch (spec.kind) {
      case OptionKind::Bool: value = text == "true"; break;
      case OptionKind::Int: value = std::stoll(text); break;
      case OptionKind::Float: value = std::stod(text); break;
      case OptionKind::Gates: {
        value = json::object();
        for (const auto& [k, b] : o.featureGates) value[k] = b;
        break;
      }
      default: value = text;
    }
    if (spec.name == "proxy-mode" && text.empty()) value = "kernelspace";  // upstream's Windows default
    json* cur = &root;
    std::string_view p = spec.configPath;
    for (auto dot = p.find('.'); dot != std::string_view::npos; dot = p.find('.')) {
      cur = &(*cur)[std::string(p.substr(0, dot))];
      p = p.substr(dot + 1);
    }
    (*cur)[std::string(p)] = value;
  }
  return root;
}

void yamlOf(const json& j, int indent, std::string& out) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const auto& [k, v] : j.items()) {
    if (v.is_object() && !v.empty()) {
      out += pad + k + ":\n";
      yamlOf(v, indent + 2, out);
    } else {
      out += pad + k + ": " + (v.is_object() ? std::string("{}") : v.dump()) + "\n";  // JSON scalars are valid YAML
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

// ---------------------------------------------------------------- validation

namespace {

Error invalid(const std::string& flag, const std::string& value, const std::string& why) {
  return Error(ErrorCode::InvalidInput, fmt::format("invalid value \"{}\" for flag --{}: {}", value, flag, why));
}

const char* kNotKernelspace =
    "must be kernelspace or blank (blank means the most-available proxy [currently 'kernelspace'])";

}  // namespace

Status validateHostPort(const std::string& flag, const std::string& value, bool allowEmpty) {
  if (value.empty()) {
    if (allowEmpty) return Ok{};
    return invalid(flag, value, "must be IP:port");
  }
  std::string host, port;
  if (value[0] == '[') {
    auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':')
      return invalid(flag, value, "must be IP:port");
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) return invalid(flag, value, "must be IP:port");
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
  }
  if (!policy::IpAddress::parse(host)) return invalid(flag, value, "must be a valid IP");
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p < 0 || p > 65535) return invalid(flag, value, "must be a valid port");
  return Ok{};
}

Status validate(const Options& o) {
  if (!o.proxyMode.empty() && o.proxyMode != "kernelspace") return invalid("proxy-mode", o.proxyMode, kNotKernelspace);
  if (o.syncPeriod.count() <= 0) return invalid("iptables-sync-period", formatGoDuration(o.syncPeriod), "must be greater than 0");
  if (o.minSyncPeriod.count() < 0)
    return invalid("iptables-min-sync-period", formatGoDuration(o.minSyncPeriod), "must be greater than or equal to 0");
  if (o.minSyncPeriod > o.syncPeriod)
    return invalid("iptables-min-sync-period", formatGoDuration(o.minSyncPeriod),
                   "must be less than or equal to --iptables-sync-period (" + formatGoDuration(o.syncPeriod) + ")");
  if (o.configSyncPeriod.count() <= 0)
    return invalid("config-sync-period", formatGoDuration(o.configSyncPeriod), "must be greater than 0");
  if (o.hnsVerifyPeriod.count() < 0) return invalid("hns-verify-period", formatGoDuration(o.hnsVerifyPeriod), "must be >= 0");
  if (o.manifestPollInterval.count() <= 0)
    return invalid("manifest-poll-interval", formatGoDuration(o.manifestPollInterval), "must be greater than 0");
  if (!policy::IpAddress::parse(o.bindAddress))
    return invalid("bind-address", o.bindAddress, "not a valid textual representation of an IP address");
  if (auto st = validateHostPort("healthz-bind-address", o.healthzBindAddress, true); !st) return st;
  if (auto st = validateHostPort("metrics-bind-address", o.metricsBindAddress, true); !st) return st;
  if (!o.sourceVip.empty() && !policy::IpAddress::parse(o.sourceVip))
    return invalid("source-vip", o.sourceVip, "not a valid IP address");
  if (!o.clusterCidr.empty()) {
    std::stringstream ss(o.clusterCidr);
    std::string c;
    while (std::getline(ss, c, ','))
      if (!policy::Cidr::parse(c)) return invalid("cluster-cidr", o.clusterCidr, "\"" + c + "\" is not a valid CIDR");
  }
  if (!o.hnsBackend.empty() && o.hnsBackend != "hcn" && o.hnsBackend != "sim")
    return invalid("hns-backend", o.hnsBackend, "want hcn or sim");
  if (o.enableDsr && !o.gate("WinDSR")) return Error(ErrorCode::InvalidInput, "WinDSR feature gate not enabled");
  if (o.hostnameOverride.find_first_not_of(" \t") == std::string::npos && !o.hostnameOverride.empty())
    return Error(ErrorCode::InvalidInput, "empty hostname-override is invalid");
  return Ok{};
}

}  // namespace hnsproxy::proxy

// The option table: every flag and config field kube-proxy knows, declared once — name, type,
// config path, help, default (the Options member's initial value), status — with the parser that
// reads it. proxy/options.cc generates the command line, the config file, --write-config-to,
// /configz, the FLAG: lines and --help from it.
#include <array>
#include <algorithm>
#include <cerrno>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "policy/ip.h"
#include "proxy/options.h"

namespace hnsproxy::proxy {


// ---------------------------------------------------------------- value parsers
//
// A setter's error is either a reason (ErrorCode::InvalidArgument: the caller wraps it as
// `invalid value "V" for flag --F: reason`, or names the config field) or a complete message
// (ErrorCode::InvalidInput, e.g. "unrecognized feature gate: X").

namespace {

std::optional<bool> parseBool(const std::string& v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  return std::nullopt;
}

Result<long long> parseInteger(const std::string& v, long long lo, long long hi) {
  auto n = policy::parseDecimal(v, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
  if (!n) return invalidOptionValue("not an integer");
  if (*n < lo || *n > hi) return invalidOptionValue(fmt::format("must be between {} and {}", lo, hi));
  return *n;
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
    if (eq == std::string::npos) return invalidOptionValue("missing bool value for " + item);
    std::string name = item.substr(0, eq);
    auto b = parseBool(item.substr(eq + 1));
    if (!b) return invalidOptionValue("invalid value of " + name + ": " + item.substr(eq + 1));
    if (std::find(kFeatureGates.begin(), kFeatureGates.end(), name) == kFeatureGates.end())
      return Error(ErrorCode::InvalidInput, "unrecognized feature gate: " + name);
    // Both gates are on by default (locked on since upstream 1.34); =false is accepted with the
    // rules upstream applied before the lock: --enable-dsr needs WinDSR, an overlay network needs
    // WinOverlay (validate() and start-up say so, naming the gate).
    out[name] = *b;
  }
  return Ok{};
}

// klog's severity flag: a number (0 INFO, 1 WARNING, 2 ERROR, 3 FATAL) or the name.
Status setSeverity(Options& o, const OptionSpec&, const std::string& v) {
  static const char* kNames[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  std::string upper = v;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int i = 0; i < 4; ++i)
    if (upper == kNames[i] || upper == std::to_string(i)) {
      o.stderrThreshold = i;
      return Ok{};
    }
  return invalidOptionValue("not a severity (INFO, WARNING, ERROR, FATAL or 0-3)");
}
std::string getSeverity(const Options& o, const OptionSpec&) { return std::to_string(o.stderrThreshold); }

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
  if (!b) return invalidOptionValue("not a boolean (true or false)");
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
  if (!d) return invalidOptionValue("not a duration (e.g. 30s, 1m30s, 500ms)");
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
      if (!parseBool(v)) return invalidOptionValue("not a boolean (true or false)");
      break;
    case OptionKind::Int:
      if (auto n = parseInteger(v, -2147483648LL, 2147483647LL); !n) return n.error();
      break;
    case OptionKind::Float: {
      char* end = nullptr;
      (void)std::strtod(v.c_str(), &end);
      if (v.empty() || *end) return invalidOptionValue("not a number");
      break;
    }
    case OptionKind::GoDuration:
      if (!parseGoDuration(v)) return invalidOptionValue("not a duration (e.g. 30s, 1m30s, 500ms)");
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
  if (!b) return invalidOptionValue("not a boolean (true or false)");
  if (*b) return Error(ErrorCode::InvalidInput, "--init-only is not implemented on Windows");
  return Ok{};
}
Status setVersion(Options& o, const OptionSpec&, const std::string& v) {
  if (v == "true" || v == "raw" || v == "false" || (!v.empty() && v[0] == 'v')) {
    o.version = v == "false" ? "" : v;
    return Ok{};
  }
  return invalidOptionValue("want true, false, raw or vX.Y.Z");
}
std::string getVersion(const Options& o, const OptionSpec&) { return o.version.empty() ? "false" : o.version; }
Status setOutput(Options& o, const OptionSpec&, const std::string& v) {
  if (v != "text" && v != "json" && v != "by-service") return invalidOptionValue("want text, json or by-service");
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
  if (*n == 0) {
    addr.clear();
    return Ok{};
  }
  auto hp = policy::HostPort::parse(addr).value_or(policy::HostPort{"0.0.0.0", std::nullopt});
  if (hp.host.empty()) hp.host = "0.0.0.0";
  hp.port = static_cast<std::uint16_t>(*n);
  addr = hp.str();
  return Ok{};
}
template <auto M>
std::string getPortOf(const Options& o, const OptionSpec&) {
  auto hp = policy::HostPort::parse(o.*M);
  return hp && hp->port ? std::to_string(*hp->port) : "0";
}
Status setHelp(Options&, const OptionSpec&, const std::string&) { return Ok{}; }
std::string getHelp(const Options&, const OptionSpec&) { return "false"; }

// --- the table's builders ---

using K = OptionKind;
using S = OptionStatus;

// --feature-gates' help, in upstream's words, from the gates kube-proxy knows.
std::string_view gatesHelp() {
  static const std::string text = [] {
    std::string t = "A set of key=value pairs that describe feature gates for alpha/experimental features. Options are: ";
    for (std::size_t i = 0; i < kFeatureGates.size(); ++i)
      t += (i ? ", " : "") + std::string(kFeatureGates[i]) + "=true|false (GA - default=true)";
    return t;
  }();
  return text;
}

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
OptionSpec hnsproxy(const OptionSpec& s) { return honoured(s); }  // hnsproxy's own flags always apply
OptionSpec role(OptionSpec s, OptionRole r) {
  s.role = r;
  return s;
}
OptionSpec redacted(OptionSpec s) {
  s.redacted = true;
  return s;
}
OptionSpec emptyInConfigAs(OptionSpec s, std::string_view value) {
  s.emptyConfigValue = value;
  return s;
}
OptionSpec bare(OptionSpec s, std::string_view value) {  // the value of a bare --flag
  s.noOptValue = value;
  return s;
}

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
      role(honoured(str<&O::config>("config", "The path to the configuration file (KubeProxyConfiguration, YAML or JSON).")),
           OptionRole::ConfigFile),
      cfg(dur<&O::configSyncPeriod>("config-sync-period",
                                    "How often configuration from the apiserver is refreshed.  Must be greater than 0."),
          "configSyncPeriod"),
      cfg(flag<&O::enableDsr>("enable-dsr", "If true make kube-proxy apply DSR policies for service VIP"),
          "winkernel.enableDSR"),
      cfg(make("feature-gates", "mapStringBool", K::Gates, gatesHelp(), &setGates, &getGates),
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
      role(shorthand(make("help", "", K::Bool, "help for kube-proxy", &setHelp, &getHelp), "h"), OptionRole::Help),
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
      redacted(honoured(str<&O::master>("master", "The address of the Kubernetes API server (overrides any value in kubeconfig)"))),
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
      emptyInConfigAs(cfg(make("proxy-mode", "ProxyMode", K::String,
                               "Which proxy mode to use: on Windows 'kernelspace' (blank means the same).",
                               &setProxyMode, &getString<&O::proxyMode>),
                          "mode"),
                      "kernelspace"),  // upstream's Windows default
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
      bare(honoured(make("version", "version", K::String,
                         "--version, --version=raw prints version information and quits; --version=vX.Y.Z... sets "
                         "the reported version",
                         &setVersion, &getVersion)),
           "true"),
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
      honoured(with(flag<&O::oneOutput>("one-output", "If true, only write logs to their native severity level (vs also "
                                                      "writing to each lower severity level; no effect when -logtostderr=true)"),
                    S::Legacy, kLegacyNote)),
      honoured(with(make("stderrthreshold", "severity", K::String,
                         "logs at or above this threshold go to stderr when writing to files and stderr (no effect when "
                         "-logtostderr=true or -alsologtostderr=true)",
                         &setSeverity, &getSeverity),
                    S::Legacy, kLegacyNote)),
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
      honoured(cfg(make("log-flush-frequency", "duration", K::GoDuration, "Maximum number of seconds between log flushes",
                        &setDuration<&O::logFlushFrequency>, &getDuration<&O::logFlushFrequency>),
                   "logging.flushFrequency")),
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
                                        "hnsproxy: every period, HNS's object IDs are enumerated and what was deleted or "
                                        "added behind kube-proxy's back is repaired; verification runs between syncs, "
                                        "a slice at a time, never holding a change back (0: only on HNS notifications)")),
      hnsproxy(integer<&O::hnsVerifyBudget, 0, 100>(
          "hns-verify-budget",
          "hnsproxy: percent of the node's objects whose content is re-read each --hns-verify-period, in rotation, so "
          "the whole node is re-read every 100/budget periods (0: existence only)")),
      hnsproxy(dur<&O::hnsCallTimeout>("hns-call-timeout",
                                       "hnsproxy: the longest one HNS call may take before it is reported and retried; HNS is "
                                       "re-read when it returns (0 disables)")),
      hnsproxy(make("hns-backend", "string", K::String,
                    "hnsproxy: hcn (the Windows HNS; the default there) or sim (the simulator; the default elsewhere)",
                    &setBackend, &getString<&O::hnsBackend>)),
      hnsproxy(integer<&O::hnsParallelism, 1, 64>("hns-parallelism",
                                                 "hnsproxy: HNS operations run at once within a plan phase")),
      hnsproxy(str<&O::hnsSimProfile>("hns-sim-profile",
                                      "hnsproxy: simulator build profile (ws2019-early, ws2019, ws2004, ws2022, ws2025, "
                                      "ws2025-updated)")),
      hnsproxy(str<&O::hnsSimSocket>("hns-sim-socket", "hnsproxy: talk to a running hnssim on this Unix socket")),
      hnsproxy(str<&O::hnsListingCache>("hns-listing-cache",
                                        "hnsproxy: file where kube-proxy keeps the HNS documents of what it programmed, so "
                                        "that a restart queries only what changed (re-read in the background after the "
                                        "first sync); on Windows hns-listing-cache.jsonl beside kube-proxy.exe by default; "
                                        "empty: none, every object is queried at start-up")),
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
      hnsproxy(shorthand(make("output", "string", K::String, "hnsproxy: output of --dry-run and --cleanup: text, json, or by-service (the plan grouped by service)",
                              &setOutput, &getString<&O::output>),
                         "o")),
      hnsproxy(flag<&O::syncOnce>("sync-once", "hnsproxy: wait for the sources, sync once, exit 0 if everything was "
                                               "programmed")),
  };
  return t;
}

}  // namespace

const std::vector<OptionSpec>& optionTable() {
  static const std::vector<OptionSpec> kTable = buildTable();
  return kTable;
}

}  // namespace hnsproxy::proxy

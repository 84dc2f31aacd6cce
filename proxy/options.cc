#include "proxy/options.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "policy/ip.h"
#include "proxy/logging.h"
#include "watch/manifest.h"

#ifdef _WIN32
#include <windows.h>
#endif

namespace hnsproxy::proxy {

using nlohmann::json;

// ---------------------------------------------------------------- durations

std::string defaultListingCache() {
#ifdef _WIN32
  static const std::string path = [] {
    wchar_t buf[32768];
    DWORD n = GetModuleFileNameW(nullptr, buf, static_cast<DWORD>(std::size(buf)));
    if (n == 0 || n >= std::size(buf)) return std::string();
    std::wstring exe(buf, n);
    auto slash = exe.find_last_of(L"\\/");
    std::wstring dir = slash == std::wstring::npos ? L"." : exe.substr(0, slash);
    int len = WideCharToMultiByte(CP_UTF8, 0, dir.c_str(), static_cast<int>(dir.size()), nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(len), '\0');
    WideCharToMultiByte(CP_UTF8, 0, dir.c_str(), static_cast<int>(dir.size()), out.data(), len, nullptr, nullptr);
    return out + "\\hns-listing-cache.jsonl";
  }();
  return path;
#else
  return {};
#endif
}

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

bool Options::gate(const std::string& name) const {
  auto it = featureGates.find(name);
  if (it != featureGates.end()) return it->second;
  return std::find(kFeatureGates.begin(), kFeatureGates.end(), name) != kFeatureGates.end();  // all default to true
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
      if (g.spec->role == OptionRole::Help) {
        out.help = true;
        return out;
      }
      if (auto st = applyFlag(scratch, *g.spec, g.value); !st) return st.error();
      if (g.spec->role == OptionRole::ConfigFile) configFile = g.value;
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
  for (const auto& [gate, on] : o.featureGates)  // as component-base warns for every GA gate set
    out.notes.push_back("Setting GA feature gate " + gate + "=" + (on ? "true" : "false") +
                        ". It will be removed in a future release.");
  return out;
}

bool runsAsWindowsService(int argc, const char* const* argv) {
  if (auto parsed = parseCommandLine(argc, argv)) return !parsed->help && parsed->options.windowsService;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::replace(a.begin(), a.end(), '_', '-');
    if (a == "--windows-service" || a == "--windows-service=true") return true;
  }
  return false;
}

namespace {

bool shownInHelp(const OptionSpec& s) { return s.status != OptionStatus::Deprecated; }

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
    if (s->redacted) v = log::redactUrl(v);  // a password in the URL never reaches the log
    out.push_back(fmt::format("FLAG: --{}={}", s->name, json(v).dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  return out;
}

// ---------------------------------------------------------------- the config file

namespace {

// Sections and fields of KubeProxyConfiguration that have no option here and mean nothing on
// Windows: read without a note (they are valid upstream), never applied.
const std::set<std::string, std::less<>>& ignoredConfig() {
  static const std::set<std::string, std::less<>> paths = {
    "apiVersion", "kind", "clientConnection.acceptContentTypes", "logging.options", "logging.vmodule",
    "ipvs", "nftables", "conntrack", "detectLocal", "linux", "windows", "portRange", "nodePortAddresses"};
  return paths;
}

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
                                                        path.substr(0, dot), it->dump(-1, ' ', false, json::error_handler_t::replace)));
    cur = &*it;
    start = dot + 1;
  }
}

// Unknown fields anywhere in the document, as upstream's strict decoding would name them.
void unknownFields(const json& obj, const std::string& prefix, const std::set<std::string>& known,
                   std::vector<std::string>& out) {
  for (const auto& [k, v] : obj.items()) {
    std::string path = prefix.empty() ? k : prefix + "." + k;
    if (known.count(path) || ignoredConfig().count(path)) continue;
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
      if (!v.is_boolean()) return invalidOptionValue("must be true or false");
      return std::string(v.get<bool>() ? "true" : "false");
    case OptionKind::Int:
      if (!v.is_number_integer()) return invalidOptionValue("must be an integer");
      return v.dump(-1, ' ', false, json::error_handler_t::replace);
    case OptionKind::Float:
      if (!v.is_number()) return invalidOptionValue("must be a number");
      return v.dump(-1, ' ', false, json::error_handler_t::replace);
    case OptionKind::GoDuration:
      if (!v.is_string()) return invalidOptionValue("must be a duration string such as 30s");
      return v.get<std::string>();
    case OptionKind::String:
      if (!v.is_string()) return invalidOptionValue("must be a string");
      return v.get<std::string>();
    case OptionKind::Gates: {
      if (!v.is_object()) return invalidOptionValue("must be a map of name: bool");
      std::string text;
      for (const auto& [k, b] : v.items()) {
        if (!b.is_boolean()) return invalidOptionValue("must be a map of name: bool (" + k + " is not)");
        text += (text.empty() ? "" : ",") + k + "=" + (b.get<bool>() ? "true" : "false");
      }
      return text;
    }
  }
  return invalidOptionValue("unsupported");
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
    return Error(ErrorCode::InvalidInput, fmt::format("{}: field {}: invalid value {}: {}", path, field, v.dump(-1, ' ', false, json::error_handler_t::replace), why));
  };
  if (!j.is_object()) return Error(ErrorCode::InvalidInput, path + ": not a KubeProxyConfiguration object");
  if (!j.contains("kind") || j["kind"] != "KubeProxyConfiguration")
    return bad("kind", j.contains("kind") ? j["kind"] : json(nullptr), "want KubeProxyConfiguration");
  if (std::string api = j.contains("apiVersion") && j["apiVersion"].is_string() ? j["apiVersion"].get<std::string>() : ""; api != "kubeproxy.config.k8s.io/v1alpha1")
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
      case OptionKind::Int:
        value = policy::parseDecimal(text, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max())
                    .value_or(0);
        break;
      case OptionKind::Float: value = std::stod(text); break;
      case OptionKind::Gates: {
        value = json::object();
        for (const auto& [k, b] : o.featureGates) value[k] = b;
        break;
      }
      default: value = text;
    }
    if (text.empty() && !spec.emptyConfigValue.empty()) value = std::string(spec.emptyConfigValue);
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

// The configuration object as YAML, by yaml-cpp's emitter: block maps, flow lists, strings double
// quoted (so "true" or "10" read back as strings), numbers as JSON writes them.
void emitYaml(YAML::Emitter& e, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      e << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        e << YAML::Key << k << YAML::Value;
        emitYaml(e, v);
      }
      e << YAML::EndMap;
      break;
    case json::value_t::array:
      e << YAML::Flow << YAML::BeginSeq;
      for (const auto& v : j) emitYaml(e, v);
      e << YAML::EndSeq;
      break;
    case json::value_t::string:
      e << YAML::DoubleQuoted << j.get<std::string>();
      break;
    case json::value_t::boolean:
      e << j.get<bool>();
      break;
    case json::value_t::null:
      e << YAML::Null;
      break;
    default:  // numbers, in JSON's shortest form
      e << j.dump();
  }
}

}  // namespace

std::string configYaml(const Options& o) {
  YAML::Emitter e;
  emitYaml(e, configObject(o));
  return std::string(e.c_str()) + "\n";
}

std::string configJson(const Options& o) { return json{{"kubeproxy.config.k8s.io", configObject(o)}}.dump(-1, ' ', false, json::error_handler_t::replace); }

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
  auto hp = policy::HostPort::parse(value);
  if (!hp) {  // a bracket or port that does not parse: say which
    const bool closed = value[0] != '[' || value.find("]:") != std::string::npos;
    return invalid(flag, value, closed && value.find(':') != std::string::npos ? "must be a valid port" : "must be IP:port");
  }
  if (!hp->port) return invalid(flag, value, "must be IP:port");
  if (!policy::IpAddress::parse(hp->host)) return invalid(flag, value, "must be a valid IP");
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
  if (o.hnsCallTimeout.count() < 0) return invalid("hns-call-timeout", formatGoDuration(o.hnsCallTimeout), "must be >= 0");
  if (o.manifestPollInterval < std::chrono::milliseconds(50))
    return invalid("manifest-poll-interval", formatGoDuration(o.manifestPollInterval),
                   "must be at least 50ms (each poll reads the directory)");
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

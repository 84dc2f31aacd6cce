// kube-proxy's command line and KubeProxyConfiguration file, from one table of options
// (optionTable()): each option is declared once — flag name, config-file path, parser, help,
// default, status — and the command line, the config file, --write-config-to, /configz, the
// FLAG: lines and --help are all generated from it.
//
// The command line behaves as upstream's pflag/cobra front end (component-base cli.Run and cli/flag):
// --flag=value and --flag value, bare booleans, -v N / -v=N / -vN, '_' ≡ '-', "--" ends the flags,
// flags applied in command-line order (the last of two wins), unknown flags and positional
// arguments rejected. With --config the file replaces the flag-built configuration and only the
// flags upstream honours alongside it are applied on top (the others are reported as ignored).
// Every invalid value is an error that names the flag (or the config field) and the value.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"

namespace hnsproxy::proxy {

using Duration = std::chrono::nanoseconds;

// Go duration syntax: "30s", "1m30s", "15m0s", "500ms", "1h", "0".
std::optional<Duration> parseGoDuration(const std::string& s);
std::string formatGoDuration(Duration d);

// The listing cache's default path: beside the executable on Windows, none elsewhere.
std::string defaultListingCache();

// The feature gates kube-proxy on Windows knows (--feature-gates, featureGates): both GA and on by
// default; upstream locked them on in 1.34, hnsproxy still honours =false (options_test).
inline constexpr std::array<std::string_view, 2> kFeatureGates = {"WinDSR", "WinOverlay"};

struct Options {
  // --- upstream ---
  std::string proxyMode;  // "" or "kernelspace"
  std::string hostnameOverride;
  std::string kubeconfig;
  std::string master;
  std::string config;
  std::string writeConfigTo;
  std::map<std::string, bool> featureGates;  // as given
  bool windowsService = false;
  bool cleanup = false;
  bool enableDsr = false;
  std::string sourceVip;
  std::string networkName;
  std::string rootHnsEndpointName = "cbr0";
  bool forwardHealthCheckVip = false;
  std::string clusterCidr;
  std::string bindAddress = "0.0.0.0";
  std::string healthzBindAddress = "0.0.0.0:10256";
  std::string metricsBindAddress = "127.0.0.1:10249";
  bool bindAddressHardFail = false;
  Duration syncPeriod = std::chrono::seconds(30);
  Duration minSyncPeriod = std::chrono::seconds(1);
  Duration configSyncPeriod = std::chrono::minutes(15);
  int verbosity = 0;
  std::string vmodule;
  std::string version;  // "", "true", "raw" or "vX.Y.Z" (--version)
  // Legacy klog file flags (removed upstream in 1.26, still in Windows scripts): honoured.
  std::string logDir;
  std::string logFile;
  bool logToStderr = true;
  bool alsoLogToStderr = false;
  int stderrThreshold = 2;  // --stderrthreshold: 0 INFO .. 3 FATAL
  bool oneOutput = false;   // --one-output
  Duration logFlushFrequency = std::chrono::seconds(5);  // --log-flush-frequency: files written at least this often
  std::uint64_t logFileMaxSizeMB = 1800;
  std::vector<std::string> legacyFlagsUsed;  // for the one-line deprecation note
  // Options a Windows kube-proxy accepts and does not use (Linux-only, client tuning), by name,
  // as given: kept so that FLAG: lines, --write-config-to and /configz show them.
  std::map<std::string, std::string> accepted;

  // --- hnsproxy ---
  std::string manifestDir;
  std::string hnsBackend;  // "hcn" (Windows default) or "sim" (elsewhere)
  std::string hnsSimProfile;
  std::string hnsSimState;
  // --hns-listing-cache: "" keeps none. On Windows, where kube-proxy runs as a service, restarts
  // are fast by default: hns-listing-cache.jsonl beside kube-proxy.exe (C:\k\ in the docs' layout).
  std::string hnsListingCache = defaultListingCache();
  std::string hnsSimSocket;
  bool syncOnce = false;
  bool dryRun = false;
  std::string output = "text";
  int hnsParallelism = 8;  // measured: bench/run.sh, README "How many HNS calls at once"
  Duration hnsVerifyPeriod = std::chrono::minutes(5);
  int hnsVerifyBudget = 4;  // percent of the objects' content re-read per verify period
  Duration hnsCallTimeout = std::chrono::seconds(30);
  std::uint32_t maxBackendsPerLoadBalancer = 0;  // 0: what the HNS build allows
  Duration manifestPollInterval = std::chrono::milliseconds(250);

  // Effective feature gates (defaults applied).
  bool gate(const std::string& name) const;
};

// How an option is treated.
enum class OptionStatus : std::uint8_t {
  Normal,
  Legacy,      // a klog flag removed upstream in 1.26: honoured, with a one-line note
  Deprecated,  // upstream marks it deprecated: honoured, hidden from --help, a note when used
  Accepted,    // accepted and not used on Windows (Linux-only or client tuning); shown in --help
};

// What an option does besides setting a value.
enum class OptionRole : std::uint8_t {
  Value,
  Help,        // --help: print the help and exit, whatever else is given
  ConfigFile,  // --config: the file read before the other flags are applied
};

// The value's kind: decides how the config file spells it and how --help shows it.
enum class OptionKind : std::uint8_t { Bool, String, Int, Float, GoDuration, Gates };

struct OptionSpec {
  std::string_view name;        // flag name, without dashes
  std::string_view shorthand;   // "v", "o", or ""
  std::string_view typeName;    // what --help shows after the name ("string", "duration", "Level", …)
  OptionKind kind;
  std::string_view configPath;  // dotted KubeProxyConfiguration path, or "" when not in the file
  std::string_view help;
  OptionStatus status;
  bool honouredWithConfig;      // applied on top of --config (upstream's Complete())
  std::string_view note;        // the deprecation/ignore note
  std::string_view noOptValue;  // the value of a bare --flag ("true" for booleans and --version)
  // Parses and stores a value; the error says why ("must be between 1 and 64"), the caller names
  // the flag or field and the value.
  Status (*set)(Options& o, const OptionSpec& self, const std::string& value);
  // The current value as text (the default, for a default-constructed Options).
  std::string (*get)(const Options& o, const OptionSpec& self);
  bool emit;                    // written by --write-config-to and /configz (false for an alias)
  std::string_view acceptedDefault;  // an accepted (unused) option's upstream default
  OptionRole role;              // --help and --config act on the parse itself
  bool redacted;                // a URL whose password never reaches the FLAG: lines (--master)
  std::string_view emptyConfigValue;  // written to the config file for an empty value (proxy-mode)
};

const std::vector<OptionSpec>& optionTable();  // proxy/option_table.cc
// A setter's reason a value is invalid ("must be between 1 and 64"); the caller names the flag or
// config field and the value. (A setter may also return a complete message as InvalidInput.)
inline Error invalidOptionValue(std::string why) { return Error(ErrorCode::InvalidArgument, std::move(why)); }
const OptionSpec* findOption(std::string_view name);  // by name, '_' ≡ '-'

struct ParsedCommandLine {
  Options options;
  bool help = false;
  std::vector<std::string> notes;  // deprecation notes, lenient-decoding notes, ignored flags
};

// Parses argv (argv[0] is the program). Errors name the flag and the value. With --config, the
// file is loaded and the flags upstream still honours alongside it are applied on top.
Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv);
// Whether kube-proxy should start under the Windows service manager: --windows-service, or
// windowsRunAsService in the --config file. When the command line does not parse, a
// --windows-service among the arguments still counts, so that the service manager is told why the
// start failed instead of waiting for a service that never reports.
bool runsAsWindowsService(int argc, const char* const* argv);
// --help, in pflag/cobra's layout.
std::string usage();
// Every flag with its effective value, as component-base prints them at V(1): FLAG: --name="value".
std::vector<std::string> flagLines(const Options& o);

// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) in YAML or JSON. Unknown fields
// (nested ones too) are notes, as upstream's lenient decoding; invalid values are errors naming
// the file, the field and the value.
Status loadConfigFile(const std::string& path, Options& opts, std::vector<std::string>& notes);
// The effective configuration as a KubeProxyConfiguration document (for --write-config-to and /configz).
std::string configYaml(const Options& opts);
std::string configJson(const Options& opts);

// host:port validation as upstream: empty allowed when `allowEmpty`.
Status validateHostPort(const std::string& flag, const std::string& value, bool allowEmpty);
Status validate(const Options& opts);

}  // namespace hnsproxy::proxy

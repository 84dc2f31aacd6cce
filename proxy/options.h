// kube-proxy's command line and KubeProxyConfiguration file, parsed the way upstream's
// pflag/cobra front end does (ops-surface.md §1): --flag=value and --flag value, bare booleans,
// '_' ≡ '-', unknown flags and positional arguments rejected with usage. Every invalid value is
// an error that names the flag and the value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/result.h"

namespace hnsproxy::proxy {

using Duration = std::chrono::nanoseconds;

// Go duration syntax: "30s", "1m30s", "15m0s", "500ms", "1h", "0".
std::optional<Duration> parseGoDuration(const std::string& s);
std::string formatGoDuration(Duration d);

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
  std::string version;  // "", "true", "raw" (--version)
  // Legacy klog file flags (removed upstream in 1.26, still in Windows scripts): honoured.
  std::string logDir;
  std::string logFile;
  bool logToStderr = true;
  bool alsoLogToStderr = false;
  std::uint64_t logFileMaxSizeMB = 1800;
  std::vector<std::string> legacyFlagsUsed;  // for the one-line deprecation note

  // --- hnsproxy ---
  std::string manifestDir;
  std::string hnsBackend;  // "hcn" (Windows default) or "sim" (elsewhere)
  std::string hnsSimProfile;
  std::string hnsSimState;
  std::string hnsSimSocket;
  bool syncOnce = false;
  bool dryRun = false;
  std::string output = "text";
  int hnsParallelism = 1;
  Duration hnsVerifyPeriod = std::chrono::minutes(5);
  std::uint32_t maxBackendsPerLoadBalancer = 0;  // 0: what the HNS build allows
  Duration manifestPollInterval = std::chrono::milliseconds(250);

  // Effective feature gates (defaults applied).
  bool gate(const std::string& name) const;
};

struct ParsedCommandLine {
  Options options;
  bool help = false;
  std::vector<std::string> notes;  // deprecation notes, lenient-decoding notes
  std::vector<std::pair<std::string, std::string>> flagsSet;  // for the FLAG: lines at V(1)
};

// Parses argv (argv[0] is the program). Errors name the flag and the value. With --config, the
// file is loaded and the flags upstream still honours alongside it are applied on top.
Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv);
std::string usage();

// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) in YAML or JSON.
Status loadConfigFile(const std::string& path, Options& opts, std::vector<std::string>& notes);
// The effective configuration as a KubeProxyConfiguration document (for --write-config-to and /configz).
std::string configYaml(const Options& opts);
std::string configJson(const Options& opts);

// host:port validation as upstream: empty allowed when `allowEmpty`.
Status validateHostPort(const std::string& flag, const std::string& value, bool allowEmpty);
Status validate(const Options& opts);

}  // namespace hnsproxy::proxy

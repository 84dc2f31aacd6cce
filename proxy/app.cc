#include "proxy/app.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "hns/hcn_json.h"
#include "proxy/logging.h"
#include "proxy/options.h"
#include "proxy/run_modes.h"
#include "proxy/version.h"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hnsproxy::proxy {

namespace {

// Logging as klog's flags say (proxy/logging.h): stderr by default; with --logtostderr=false the
// files (--log-file, or klog's layout in --log-dir) and the lines at or above --stderrthreshold on
// stderr.
Status initLogging(const Options& o, const std::string& program) {
  log::LogOptions lo;
  lo.verbosity = o.verbosity;
  lo.toStderr = o.logToStderr;
  lo.alsoToStderr = o.alsoLogToStderr;
  lo.stderrThreshold = o.stderrThreshold;
  lo.dir = o.logDir;
  lo.file = o.logFile;
  lo.oneOutput = o.oneOutput;
  lo.flushEvery = std::chrono::duration_cast<std::chrono::milliseconds>(o.logFlushFrequency);
  lo.program = program;
  lo.maxFileBytes = o.logFileMaxSizeMB == 0 ? ~std::uint64_t{0} : o.logFileMaxSizeMB << 20;
  if (!lo.toStderr) {
    std::error_code ec;
    if (!lo.file.empty()) {
      std::filesystem::create_directories(std::filesystem::path(lo.file).parent_path(), ec);
      // The rotating writer opens the file by name and would follow a link planted there: refuse one.
      if (std::filesystem::is_symlink(lo.file, ec))
        return Error(ErrorCode::InvalidInput, "log file " + lo.file + " is a symbolic link; refusing to write through it");
#ifndef _WIN32
      int fd = ::open(lo.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
      if (fd >= 0) ::close(fd);
#endif
    } else if (!lo.dir.empty()) {
      std::filesystem::create_directories(lo.dir, ec);
      if (!std::filesystem::is_directory(lo.dir, ec))
        return Error(ErrorCode::InvalidInput, "log dir " + lo.dir + " is not a directory that can be made");
    }
  }
  try {
    log::init(lo);
  } catch (const std::exception& e) {
    return Error(ErrorCode::InvalidInput, "cannot open log file " + lo.file + ": " + e.what());
  }
  return Ok{};
}

// klog names its files after the binary as it was started (kube-proxy.exe on Windows).
std::string programName(int argc, const char* const* argv) {
  if (argc < 1 || !argv[0] || !*argv[0]) return
#ifdef _WIN32
      "kube-proxy.exe";
#else
      "kube-proxy";
#endif
  std::string a = argv[0];
  auto slash = a.find_last_of("/\\");
  return slash == std::string::npos ? a : a.substr(slash + 1);
}

void logStartup(const ParsedCommandLine& parsed) {
  const Options& o = parsed.options;
  HLOG_INFO("Version info", "version", kubernetesVersion(), "hnsproxy", hnsproxyVersion());
  if (!o.legacyFlagsUsed.empty()) {
    std::string flags;
    for (const auto& f : o.legacyFlagsUsed) flags += (flags.empty() ? "" : ",") + f;
    HLOG_WARN("Legacy klog flags were removed upstream in 1.26; hnsproxy honours them for existing start scripts",
              "flags", flags);
  }
  if (log::enabled(1))
    for (const auto& line : flagLines(o)) HLOG_INFO(line.c_str());
  for (const auto& n : parsed.notes) HLOG_WARN(n.c_str());
}

Status writeConfig(const Options& o) {
  if (auto st = hns::writeFileAtomically(o.writeConfigTo, configYaml(o)); !st)
    return Error(ErrorCode::InvalidInput, "cannot write " + o.writeConfigTo + ": " + st.error().message);
  return Ok{};
}

}  // namespace

static int runKubeProxyLogged(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                              std::function<bool()> externalStop) {
  // Exit codes as component-base's cli.Run: 1 for any error of the command line or the
  // configuration (and for a failed run); 0 otherwise.
  auto parsed = parseCommandLine(argc, argv);
  if (!parsed) {
    err << usage() << "\nError: " << parsed.error().message << "\n";
    return 1;
  }
  if (parsed->help) {
    out << usage();
    return 0;
  }
  const Options& o = parsed->options;
  if (!o.version.empty()) {
    out << versionText(o.version);
    return 0;
  }
  if (auto st = initLogging(o, programName(argc, argv)); !st) {
    err << "Error: " << st.error().message << "\n";
    return 1;
  }
  logStartup(*parsed);
  if (auto st = validate(o); !st) {
    HLOG_ERROR("Invalid configuration", "err", st.error().message);
    log::flush();
    err << "Error: " << st.error().message << "\n";
    return 1;
  }
  if (!o.writeConfigTo.empty()) {
    if (auto st = writeConfig(o); !st) {
      err << "Error: " << st.error().message << "\n";
      return 1;
    }
    HLOG_INFO("Wrote configuration", "file", o.writeConfigTo);
    return 0;
  }
  auto rt = Runtime::create(o, out, err, std::move(externalStop));
  if (!rt) {
    HLOG_ERROR(rt.error().message.c_str());
    log::flush();
    err << "Error: " << rt.error().message << "\n";
    return 1;
  }
  if (o.cleanup) return runCleanup(**rt);
  if (o.dryRun) return runDryRun(**rt);
  if (o.syncOnce) return runSyncOnce(**rt);
  return runDaemon(**rt);
}

int runKubeProxy(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                 std::function<bool()> externalStop) {
  int rc = runKubeProxyLogged(argc, argv, out, err, std::move(externalStop));
  log::flush();  // what is queued reaches stderr and the file (bounded: a stuck reader cannot hold the exit)
  return rc;
}

}  // namespace hnsproxy::proxy

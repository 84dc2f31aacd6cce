// The Windows build under wine: one wine prefix per test run (created at first use, removed at
// exit), its wineserver kept alive so services started by its service manager survive between
// commands, and the test builds of computenetwork.dll and vmcompute.dll in its system32 — where
// kube-proxy.exe's LoadLibraryExW(..., LOAD_LIBRARY_SEARCH_SYSTEM32) finds them unchanged.
//
// The Windows build directory (packaging/windows/build-exe.sh) comes from HNSPROXY_WINDOWS_BUILD_DIR.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "proxy/process.h"

namespace hnsproxy::test {

// "Z:\tmp\x" for /tmp/x: how a Windows process under wine names a Linux path.
inline std::string winPath(const std::filesystem::path& p) {
  std::string s = "Z:" + std::filesystem::absolute(p).string();
  for (auto& c : s)
    if (c == '/') c = '\\';
  return s;
}

// One shell word (run() goes through /bin/sh, which would eat a Windows path's backslashes).
inline std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string withoutCr(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '\r') out += c;
  return out;
}

inline std::string withCrlf(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class WinePrefix {
 public:
  static WinePrefix& get() {
    static WinePrefix w;
    return w;
  }

  // The Windows build's file: "proxy/kube-proxy.exe", "hns/hnsdiag.exe".
  std::string exe(const std::string& rel) const { return (buildDir_ / rel).string(); }
  std::filesystem::path driveC() const { return prefix_ / "drive_c"; }

  // Runs a Windows command line under wine (`wine <cmd>`), with extra environment "K=V ...".
  Run run(const std::string& cmd, const std::string& env = "") const { return test::run("env " + env + " wine " + cmd); }

  // The test DLLs' settings (System32\hnsproxy-test-hns.conf), for processes the service manager
  // starts without the test's environment; the environment overrides them.
  void configureHns(const std::map<std::string, std::string>& settings) const {
    std::ofstream out(driveC() / "windows" / "system32" / "hnsproxy-test-hns.conf", std::ios::trunc);
    for (const auto& [k, v] : settings) out << k << "=" << v << "\r\n";
  }

  ~WinePrefix() {
    test::run("wineserver -k");
    std::error_code ec;
    std::filesystem::remove_all(prefix_, ec);
  }

 private:
  WinePrefix() {
    const char* dir = std::getenv("HNSPROXY_WINDOWS_BUILD_DIR");
    if (!dir || !*dir) throw std::runtime_error("HNSPROXY_WINDOWS_BUILD_DIR is not set (packaging/windows/build-exe.sh)");
    buildDir_ = dir;
    prefix_ = std::filesystem::temp_directory_path() / ("hnsproxy-wine-" + std::to_string(::getpid()));
    std::filesystem::remove_all(prefix_);
    ::setenv("WINEPREFIX", prefix_.c_str(), 1);
    ::setenv("WINEDEBUG", "-all", 1);
    ::setenv("WINEDLLOVERRIDES", "mscoree,mshtml=", 1);  // no Mono/Gecko installer prompts
    // The wineserver, and the services wineboot starts (services.exe, winedevice), outlive the
    // command that started them: their output goes to a file, never to the pipe run() reads
    // (which would then never see its end).
    const std::string bootLog = (std::filesystem::temp_directory_path() / ("hnsproxy-wineboot-" + std::to_string(::getpid()) + ".log")).string();
    auto boot = test::run("wineboot -i >" + bootLog + " 2>&1 </dev/null");
    if (boot.status != 0) throw std::runtime_error("wineboot failed: " + slurp(bootLog));
    // Let the first session end (wineboot's own services.exe with it), then keep a persistent
    // wineserver: services started by its service manager outlive the command that started them.
    // (Making wineboot's server persistent instead leaves two service managers, and `sc start`
    // then fails with 1077.)
    test::run("wineserver -w");
    test::run("wineserver -p >/dev/null 2>&1 </dev/null");
    // The new session's services.exe is started by its first process and inherits its output:
    // started here with it going to a file, so no later command's pipe is held open by it.
    test::run("wineboot >" + bootLog + " 2>&1 </dev/null");
    std::filesystem::remove(bootLog);
    for (const char* dll : {"computenetwork.dll", "vmcompute.dll"})
      std::filesystem::copy_file(buildDir_ / "test-dlls" / dll, driveC() / "windows" / "system32" / dll,
                                 std::filesystem::copy_options::overwrite_existing);
  }

  std::filesystem::path buildDir_;
  std::filesystem::path prefix_;
};

}  // namespace hnsproxy::test

#include "proxy/process_metrics.h"

#include <malloc.h>  // mallopt, malloc_trim (glibc); _heapmin (the Windows CRT)

#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "proxy/version.h"

#ifdef _WIN32
#include <windows.h>
#include <psapi.h>
#else
#include <filesystem>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace hnsproxy::proxy {

#ifdef _WIN32

ProcessStats readProcessStats() {
  ProcessStats s;
  HANDLE self = GetCurrentProcess();
  FILETIME created{}, exited{}, kernel{}, user{};
  auto ticks = [](const FILETIME& f) {  // 100 ns units
    return static_cast<double>((static_cast<unsigned long long>(f.dwHighDateTime) << 32) | f.dwLowDateTime);
  };
  if (GetProcessTimes(self, &created, &exited, &kernel, &user)) {
    s.cpuSeconds = (ticks(kernel) + ticks(user)) / 1e7;
    s.startTimeSeconds = (ticks(created) - 116444736000000000.0) / 1e7;  // since 1601 → since 1970
  }
  PROCESS_MEMORY_COUNTERS_EX mem{};
  if (K32GetProcessMemoryInfo(self, reinterpret_cast<PROCESS_MEMORY_COUNTERS*>(&mem), sizeof mem)) {
    s.residentBytes = static_cast<double>(mem.WorkingSetSize);
    s.virtualBytes = static_cast<double>(mem.PrivateUsage);
  }
  DWORD handles = 0;
  if (GetProcessHandleCount(self, &handles)) s.openFds = handles;
  s.maxFds = 16 * 1024 * 1024;  // the per-process handle limit, as client_golang reports it
  return s;
}

#else

ProcessStats readProcessStats() {
  ProcessStats s;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream statFile("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  // The fields after the command name, which is in parentheses and may hold spaces.
  if (auto close = stat.rfind(')'); close != std::string::npos && tick > 0) {
    std::istringstream in(stat.substr(close + 2));
    std::string f[24];
    for (auto& x : f) in >> x;
    // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
    try {
      s.cpuSeconds = (std::stod(f[11]) + std::stod(f[12])) / tick;
      s.virtualBytes = std::stod(f[20]);
      s.residentBytes = std::stod(f[21]) * page;
      double sinceBoot = std::stod(f[19]) / tick;
      std::ifstream procStat("/proc/stat");
      std::string key;
      double btime = 0;
      while (procStat >> key)
        if (key == "btime") {
          procStat >> btime;
          break;
        }
      s.startTimeSeconds = btime + sinceBoot;
    } catch (const std::exception&) {
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++s.openFds;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) s.maxFds = static_cast<double>(lim.rlim_cur);
  return s;
}

#endif

void writeProcessMetrics(Exposition& out) {
  ProcessStats s = readProcessStats();
  auto family = [&](std::string_view name, MetricType type, std::string_view help, double v) {
    out.family(name, type, help);
    out.sample(name, v);
  };
  family("process_cpu_seconds_total", MetricType::Counter, "Total user and system CPU time spent in seconds.", s.cpuSeconds);
  family("process_max_fds", MetricType::Gauge, "Maximum number of open file descriptors.", s.maxFds);
  family("process_open_fds", MetricType::Gauge, "Number of open file descriptors.", s.openFds);
  family("process_resident_memory_bytes", MetricType::Gauge, "Resident memory size in bytes.", s.residentBytes);
  family("process_start_time_seconds", MetricType::Gauge, "Start time of the process since unix epoch in seconds.",
         s.startTimeSeconds);
  family("process_virtual_memory_bytes", MetricType::Gauge, "Virtual memory size in bytes.", s.virtualBytes);
}

void writeBuildInfo(Exposition& out) {
  // "v1.35.0" → major "1", minor "35".
  std::string v = kubernetesVersion();
  std::string major, minor;
  if (auto dot = v.find('.'); dot != std::string::npos && v.size() > 1) {
    major = v.substr(1, dot - 1);
    auto dot2 = v.find('.', dot + 1);
    minor = v.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1);
  }
#if defined(__clang__)
  constexpr std::string_view compiler = "clang";
#elif defined(__GNUC__)
  constexpr std::string_view compiler = "gcc";
#else
  constexpr std::string_view compiler = "msvc";
#endif
  const std::string platformName = platform();
  out.family("kubernetes_build_info", MetricType::Gauge,
             "[ALPHA] A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree "
             "state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is "
             "running.");
  out.sample("kubernetes_build_info",
             {{"build_date", ""}, {"compiler", compiler}, {"git_commit", ""}, {"git_tree_state", ""}, {"git_version", v},
              {"go_version", ""}, {"major", major}, {"minor", minor}, {"platform", platformName}},
             1);
}

void releaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#elif defined(_WIN32)
  _heapmin();
#endif
}

void tuneAllocator() {
#ifdef __GLIBC__
  // Called once from main() before any other thread exists.
  (void)mallopt(M_ARENA_MAX, 2);  // NOLINT(concurrency-mt-unsafe)
  // Blocks of 256 KiB and more (an API list page, an HNS reply, a file's text) straight from the
  // system and back to it when freed. Left to glibc, the threshold rises to the largest block
  // freed so far (up to 32 MiB), and from then on such buffers are carved from the heap, where the
  // holes they leave keep the resident size at the high-water mark (28 MB above the heap in use
  // at 100,000 endpoints).
  (void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);  // NOLINT(concurrency-mt-unsafe)
#endif
}

}  // namespace hnsproxy::proxy

#include "proxy/logging.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#ifdef _WIN32
#include <process.h>
#define HNSPROXY_GETPID _getpid
#else
#include <unistd.h>
#define HNSPROXY_GETPID getpid
#endif

namespace hnsproxy::proxy::log {

namespace {
std::atomic<int> gVerbosity{0};
std::shared_ptr<spdlog::logger> gLogger;
std::mutex gMu;

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard<std::mutex> lock(gMu);
  if (!gLogger) {
    gLogger = std::make_shared<spdlog::logger>("hnsproxy", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    gLogger->set_pattern("%v");
    gLogger->set_level(spdlog::level::trace);
  }
  return gLogger;
}
}  // namespace

void init(const LogOptions& o) {
  gVerbosity = o.verbosity;
  std::vector<spdlog::sink_ptr> sinks;
  if (o.toStderr || o.file.empty()) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!o.file.empty())
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        o.file, static_cast<std::size_t>(o.maxFileBytes), static_cast<std::size_t>(o.maxFiles)));
  auto l = std::make_shared<spdlog::logger>("hnsproxy", sinks.begin(), sinks.end());
  l->set_pattern("%v");
  l->set_level(spdlog::level::trace);
  l->flush_on(spdlog::level::warn);
  std::lock_guard<std::mutex> lock(gMu);
  gLogger = l;
  spdlog::flush_every(std::chrono::seconds(5));  // klog's --log-flush-frequency default
}

int verbosity() { return gVerbosity; }
bool enabled(int v) { return v <= gVerbosity; }
void flush() { logger()->flush(); }

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        // Other control characters from manifests or the API server never reach a terminal raw.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else out += c;
    }
  }
  return out + "\"";
}

bool secretKey(std::string_view key) {
  std::string k(key);
  for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* s : {"token", "password", "secret", "keydata", "key-data", "bearer", "authorization"})
    if (k.find(s) != std::string::npos) return true;
  return false;
}

std::string redactUrl(std::string_view url) {
  auto scheme = url.find("://");
  std::size_t hostStart = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto hostEnd = url.find_first_of("/?#", hostStart);
  auto at = url.rfind('@', hostEnd == std::string_view::npos ? url.size() : hostEnd);
  if (at == std::string_view::npos || at < hostStart) return std::string(url);
  return std::string(url.substr(0, hostStart)) + "<redacted>@" + std::string(url.substr(at + 1));
}

void write(Severity s, const std::source_location& loc, std::string_view msg, const std::string& kvs) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
#ifdef _WIN32
  localtime_s(&tm, &t);
#else
  localtime_r(&t, &tm);
#endif
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::string_view file = loc.file_name();
  if (auto slash = file.find_last_of("/\\"); slash != std::string_view::npos) file = file.substr(slash + 1);
  std::string line = fmt::format("{}{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} {}:{}] {}{}", static_cast<char>(s),
                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros,
                                 static_cast<int>(HNSPROXY_GETPID()), file, loc.line(), quote(msg), kvs);
  auto l = logger();
  switch (s) {
    case Severity::Info: l->info(line); break;
    case Severity::Warning: l->warn(line); break;
    case Severity::Error: l->error(line); break;
  }
}

}  // namespace hnsproxy::proxy::log

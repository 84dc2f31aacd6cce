#include "proxy/logging.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
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
std::string klogLine(Severity s, std::string_view file, unsigned line, std::string_view msg, const std::string& kvs);

// Lines reach stderr and the log file through one writer thread and a bounded queue, so a log call
// never blocks on a full stderr pipe or a slow disk: stop (SIGTERM, Ctrl+C, the SCM) is honoured
// whatever the log's reader does. Past kMaxQueuedBytes lines are dropped, counted, and the count is
// written once the writer catches up. The writer is never joined (it may be stuck in write() when
// the process exits); drain() waits for it with a deadline.
constexpr std::size_t kMaxQueuedBytes = 8u << 20;

class Writer {
 public:
  explicit Writer(std::shared_ptr<spdlog::logger> sinks) : sinks_(std::move(sinks)) {
    std::thread([this] { run(); }).detach();
  }
  void setSinks(std::shared_ptr<spdlog::logger> sinks) {
    std::lock_guard<std::mutex> lock(mu_);
    sinks_ = std::move(sinks);
  }
  void push(spdlog::level::level_enum level, std::string line) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queuedBytes_ + line.size() > kMaxQueuedBytes) {
        ++dropped_;
        return;
      }
      queuedBytes_ += line.size();
      queue_.emplace_back(level, std::move(line));
    }
    wake_.notify_one();
  }
  // Waits until everything queued so far is written and flushed, or the deadline passes.
  bool drain(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !writing_; });
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      std::deque<std::pair<spdlog::level::level_enum, std::string>> batch;
      batch.swap(queue_);
      queuedBytes_ = 0;
      std::uint64_t dropped = std::exchange(dropped_, 0);
      auto sinks = sinks_;
      writing_ = true;
      lock.unlock();
      for (auto& [level, line] : batch) sinks->log(level, line);
      if (dropped)
        sinks->warn(klogLine(Severity::Warning, __FILE__, __LINE__,
                             "Log lines were dropped: the log's reader (stderr or disk) did not keep up",
                             fmt::format(" dropped={}", dropped)));
      sinks->flush();
      lock.lock();
      writing_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::pair<spdlog::level::level_enum, std::string>> queue_;
  std::size_t queuedBytes_ = 0;
  std::uint64_t dropped_ = 0;
  bool writing_ = false;
  std::shared_ptr<spdlog::logger> sinks_;
};

Writer& writer() {
  static Writer* w = [] {  // never destroyed: see Writer
    auto l = std::make_shared<spdlog::logger>("hnsproxy", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    return new Writer(l);
  }();
  return *w;
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
  writer().setSinks(l);  // the writer flushes whenever it has written what was queued
}

int verbosity() { return gVerbosity; }
bool enabled(int v) { return v <= gVerbosity; }
bool flush() {
  static std::atomic<bool> stuck{false};
  if (stuck) return false;  // waited once already: do not wait again at every exit step
  bool drained = writer().drain(std::chrono::seconds(1));
  if (!drained) stuck = true;
  return drained;
}

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

namespace {
std::string klogLine(Severity s, std::string_view file, unsigned line, std::string_view msg, const std::string& kvs) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
#ifdef _WIN32
  localtime_s(&tm, &t);
#else
  localtime_r(&t, &tm);
#endif
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  if (auto slash = file.find_last_of("/\\"); slash != std::string_view::npos) file = file.substr(slash + 1);
  return fmt::format("{}{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} {}:{}] {}{}", static_cast<char>(s), tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros, static_cast<int>(HNSPROXY_GETPID()), file,
                     line, quote(msg), kvs);
}
}  // namespace

void write(Severity s, const std::source_location& loc, std::string_view msg, const std::string& kvs) {
  writer().push(s == Severity::Error     ? spdlog::level::err
                 : s == Severity::Warning ? spdlog::level::warn
                                          : spdlog::level::info,
                 klogLine(s, loc.file_name(), loc.line(), msg, kvs));
}

}  // namespace hnsproxy::proxy::log

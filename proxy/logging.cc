#include "proxy/logging.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/file_helper.h>
#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#ifdef _WIN32
#include <windows.h>
#define SECURITY_WIN32
#include <security.h>
#include <io.h>
#else
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>
#endif

namespace hnsproxy::proxy::log {

namespace {

std::atomic<int> gVerbosity{0};

// --- klog's line header, as spdlog pattern flags ---

char letterOf(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::warn: return 'W';
    case spdlog::level::err: return 'E';
    case spdlog::level::critical: return 'F';
    default: return 'I';
  }
}

// %K: klog's severity letter (I, W, E, F).
class SeverityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.push_back(letterOf(msg.level));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SeverityFlag>(); }
};

// %Q: klog's file:line — the base name of the source file (either separator: the Windows build's
// paths may carry both), then the line.
class SourceFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view file = msg.source.filename ? msg.source.filename : "???";
    if (auto slash = file.find_last_of("/\\"); slash != std::string_view::npos) file.remove_prefix(slash + 1);
    dest.append(file.data(), file.data() + file.size());
    dest.push_back(':');
    fmt::format_to(std::back_inserter(dest), "{}", msg.source.line);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SourceFlag>(); }
};

constexpr const char* kPattern = "%K%m%d %H:%M:%S.%f %7P %Q] %v";

std::unique_ptr<spdlog::formatter> klogFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<SeverityFlag>('K').add_flag<SourceFlag>('Q').set_pattern(kPattern);
  return f;
}

// --- klog's file layout under --log-dir ---

std::string hostName() {
#ifdef _WIN32
  char buf[256] = {};
  DWORD n = sizeof buf;
  if (GetComputerNameExA(ComputerNamePhysicalDnsHostname, buf, &n) && n > 0) return std::string(buf, n);
  return "unknownhost";
#else
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "unknownhost";
  return buf;
#endif
}

// As klog: the user name with the domain on Windows ("NT AUTHORITY\SYSTEM"), '\' made '_'.
std::string userName() {
  std::string u;
#ifdef _WIN32
  wchar_t buf[512];
  ULONG n = 512;
  if (GetUserNameExW(NameSamCompatible, buf, &n) && n > 0) {
    int len = WideCharToMultiByte(CP_UTF8, 0, buf, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
    u.assign(static_cast<std::size_t>(len), '\0');
    WideCharToMultiByte(CP_UTF8, 0, buf, static_cast<int>(n), u.data(), len, nullptr, nullptr);
  }
#else
  if (const passwd* pw = getpwuid(geteuid())) u = pw->pw_name;  // NOLINT(concurrency-mt-unsafe): once, for a log file name, on the logging thread
#endif
  for (auto& c : u)
    if (c == '\\') c = '_';
  return u.empty() ? "unknownuser" : u;
}

const char* severityName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::warn: return "WARNING";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "FATAL";
    default: return "INFO";
  }
}

std::string compiler() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "msvc";
#endif
}

// One severity's files: made when the first line of that severity (or above) comes, with klog's
// four-line header; a new one (a new timestamp in its name) past the size bound; the
// <program>.<SEVERITY> link moved to the newest where links can be made.
class KlogFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  KlogFileSink(std::string dir, std::string program, spdlog::level::level_enum level, bool onlyItsOwn,
               std::uint64_t maxBytes)
      : dir_(std::move(dir)), program_(std::move(program)), level_(level), onlyItsOwn_(onlyItsOwn), maxBytes_(maxBytes) {
    set_level(level);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (onlyItsOwn_ && msg.level != level_) return;
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (open_ && written_ + line.size() > maxBytes_) {  // klog: past the bound, a new file
      file_.close();
      open_ = false;
    }
    if (!open_) open(msg.time);
    file_.write(line);
    written_ += line.size();
  }
  void flush_() override {
    if (open_) file_.flush();
  }

 private:
  void open(spdlog::log_clock::time_point when) {
    const std::time_t t = spdlog::log_clock::to_time_t(when);
    const std::tm tm = spdlog::details::os::localtime(t);
    const std::string name = fmt::format("{}.{}.{}.log.{}.{:04}{:02}{:02}-{:02}{:02}{:02}.{}", program_, hostName(), userName(),
                                         severityName(level_), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                         tm.tm_min, tm.tm_sec, spdlog::details::os::pid());
    const std::string path = (std::filesystem::path(dir_) / name).string();
#ifndef _WIN32
    // A name of our own (pid and time in it), never a link someone planted: created here, 0640.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) throw spdlog::spdlog_ex("cannot create log file " + path, errno);
    ::close(fd);
#endif
    file_.open(path, false);
    open_ = true;
    const std::string header =
        fmt::format("Log file created at: {:04}/{:02}/{:02} {:02}:{:02}:{:02}\nRunning on machine: {}\nBinary: Built with {} for {}\n"
                    "Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg\n",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, hostName(), compiler(),
#ifdef _WIN32
                    "windows/amd64"
#else
                    "linux/amd64"
#endif
        );
    spdlog::memory_buf_t buf;
    buf.append(header.data(), header.data() + header.size());
    file_.write(buf);
    written_ = header.size();
    // <program>.<SEVERITY> → the newest file (klog ignores a link it cannot make; so does this).
    std::error_code ec;
    const auto link = std::filesystem::path(dir_) / (program_ + "." + severityName(level_));
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(name, link, ec);
  }

  std::string dir_, program_;
  spdlog::level::level_enum level_;
  bool onlyItsOwn_;
  std::uint64_t maxBytes_;
  spdlog::details::file_helper file_;
  bool open_ = false;
  std::uint64_t written_ = 0;
};

// The last sink: counts flushes, so flush() knows when what was queued before it is written.
class DrainMark final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::uint64_t flushes() {
    std::lock_guard<std::mutex> lock(countMu_);
    return count_;
  }
  bool waitPast(std::uint64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(countMu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ > n; });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg&) override {}
  void flush_() override {
    // Notified under the lock: once a waiter sees the count, this thread is done with the
    // condition variable, so init() may destroy this sink right after its flush() returns.
    std::lock_guard<std::mutex> lock(countMu_);
    ++count_;
    cv_.notify_all();
  }

 private:
  std::mutex countMu_;
  std::condition_variable cv_;
  std::uint64_t count_ = 0;
};

// spdlog's own errors (a full disk, a closed pipe), as klog lines: one write() of a whole line to
// stderr, at most one a second.
void logError(const std::string& what) {
  static std::atomic<std::int64_t> last{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  if (now - last.load() < std::chrono::nanoseconds(std::chrono::seconds(1)).count()) return;
  last = now;
  auto t = std::chrono::system_clock::now();
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  const std::tm tm = spdlog::details::os::localtime(tt);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  const std::string line = fmt::format("E{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} logging.cc:{}] {} err={}\n", tm.tm_mon + 1,
                                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros, spdlog::details::os::pid(),
                                       __LINE__, quote("Writing the log failed"), quote(what));
#ifdef _WIN32
  (void)_write(2, line.data(), static_cast<unsigned>(line.size()));
#else
  (void)!::write(2, line.data(), line.size());
#endif
}

struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::details::thread_pool> pool;  // never joined: a stuck writer must not hold the exit
  std::shared_ptr<spdlog::async_logger> logger;
  std::shared_ptr<DrainMark> drain;
  std::atomic<bool> stuck{false};
  std::atomic<std::uint64_t> reportedDrops{0};
  std::atomic<std::int64_t> lastDropCheck{0};
};

State& state() {
  static State* s = new State();  // never destroyed: see `pool`
  return *s;
}

void build(const LogOptions& o) {
  State& s = state();
  std::vector<spdlog::sink_ptr> sinks;
  auto stderrSink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (o.toStderr) {
    sinks.push_back(stderrSink);
  } else {
    // klog: what reaches stderr beside the files — lines at or above --stderrthreshold, or all.
    static constexpr spdlog::level::level_enum kThreshold[] = {spdlog::level::info, spdlog::level::warn, spdlog::level::err,
                                                               spdlog::level::critical};
    stderrSink->set_level(o.alsoToStderr ? spdlog::level::trace : kThreshold[std::clamp(o.stderrThreshold, 0, 3)]);
    sinks.push_back(stderrSink);
    if (!o.file.empty()) {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(o.file, static_cast<std::size_t>(o.maxFileBytes), 5));
    } else {
      const std::string dir = o.dir.empty() ? std::filesystem::temp_directory_path().string() : o.dir;
      for (auto level : {spdlog::level::info, spdlog::level::warn, spdlog::level::err, spdlog::level::critical})
        sinks.push_back(std::make_shared<KlogFileSink>(dir, o.program, level, o.oneOutput, o.maxFileBytes));
    }
  }
  auto drain = std::make_shared<DrainMark>();
  sinks.push_back(drain);
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.pool) s.pool = std::make_shared<spdlog::details::thread_pool>(std::max<std::size_t>(o.queueLines, 16), 1);
  auto logger = std::make_shared<spdlog::async_logger>("hnsproxy", sinks.begin(), sinks.end(), s.pool,
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_formatter(klogFormatter());
  logger->set_level(spdlog::level::trace);
  logger->set_error_handler(logError);
  // klog's flushing: files every --log-flush-frequency (spdlog's periodic flusher, which flushes
  // the registered loggers), and an ERROR line at once.
  logger->flush_on(spdlog::level::err);
  spdlog::drop("hnsproxy");
  spdlog::register_logger(logger);
  if (o.flushEvery.count() > 0)  // whole seconds in this spdlog; at least one
    spdlog::flush_every(std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(o.flushEvery)));
  // The previous configuration's loggers and sinks are kept, never destroyed: the logging thread
  // may still be inside one of them (a flush it just signalled) when init() replaces it. init()
  // runs a handful of times per process.
  static auto* retired = new std::vector<std::shared_ptr<void>>();
  if (s.logger) retired->push_back(s.logger);
  if (s.drain) retired->push_back(s.drain);
  s.logger = std::move(logger);
  s.drain = std::move(drain);
}

std::shared_ptr<spdlog::async_logger> current() {
  State& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.logger) return s.logger;
  }
  build(LogOptions{});  // before init(): stderr
  std::lock_guard<std::mutex> lock(s.mu);
  return s.logger;
}

}  // namespace

void init(const LogOptions& o) {
  gVerbosity = o.verbosity;
  flush();  // what the previous configuration queued goes where it was meant to
  build(o);
}

int verbosity() { return gVerbosity; }
bool enabled(int v) { return v <= gVerbosity; }

std::uint64_t dropped() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.pool ? s.pool->overrun_counter() : 0;
}

bool flush() {
  State& s = state();
  if (s.stuck) return false;  // waited once already: do not wait again at every exit step
  std::shared_ptr<spdlog::async_logger> logger;
  std::shared_ptr<DrainMark> drain;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    logger = s.logger;
    drain = s.drain;
  }
  if (!logger) return true;
  const std::uint64_t before = drain->flushes();
  logger->flush();  // queued behind every line logged so far; DrainMark counts it once written
  if (drain->waitPast(before, std::chrono::seconds(1))) return true;
  s.stuck = true;
  return false;
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

void write(Severity s, const std::source_location& loc, std::string_view msg, const std::string& kvs) {
  auto logger = current();
  const auto level = s == Severity::Fatal     ? spdlog::level::critical
                     : s == Severity::Error   ? spdlog::level::err
                     : s == Severity::Warning ? spdlog::level::warn
                                              : spdlog::level::info;
  const std::string payload = quote(msg) + kvs;
  logger->log(spdlog::source_loc{loc.file_name(), static_cast<int>(loc.line()), loc.function_name()}, level,
              spdlog::string_view_t(payload.data(), payload.size()));
  // Lines the full queue dropped are reported once the writer is moving again (checked once a second).
  State& st = state();
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  if (now - st.lastDropCheck.load() < std::chrono::nanoseconds(std::chrono::seconds(1)).count()) return;
  st.lastDropCheck = now;
  const std::uint64_t drops = dropped();
  const std::uint64_t before = st.reportedDrops.exchange(drops);
  if (drops > before) {
    const std::string note = quote("Log lines were dropped: the log's reader (stderr or disk) did not keep up") +
                             fmt::format(" dropped={}", drops - before);
    logger->log(spdlog::source_loc{__FILE__, __LINE__, ""}, spdlog::level::warn, spdlog::string_view_t(note.data(), note.size()));
  }
}

}  // namespace hnsproxy::proxy::log

// Logging as klog writes it, built on spdlog:
//   I1128 16:04:05.123456    4321 sync.cc:123] "Message" key="value" n=3
// Levels by --v (V(n) lines shown when n <= verbosity). Where lines go follows klog's flags:
//  - --logtostderr (default true): everything to stderr, no file;
//  - --logtostderr=false: files, and stderr gets the lines at or above --stderrthreshold (ERROR by
//    default; everything with --alsologtostderr):
//      --log-file FILE   one file (rotated at --log-file-max-size, keeping 5);
//      --log-dir DIR     klog's layout: <program>.<host>.<user>.log.<SEVERITY>.<yyyymmdd-hhmmss>.<pid>
//                        for INFO, WARNING, ERROR, FATAL — each holding its severity and above
//                        (only its own with --one-output), made when its first line comes, a new
//                        one past --log-file-max-size — and <program>.<SEVERITY> links to the newest;
//      neither           klog's layout in the temporary folder.
// Lines are queued (spdlog's async_logger: a bounded queue, the oldest line dropped when it is
// full) and written by one thread, so a full stderr pipe or a slow disk never blocks a caller —
// stop is honoured whatever the log's reader does. Values of keys that name secrets (token,
// password, secret, key data) are never written.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace hnsproxy::proxy::log {

struct LogOptions {
  int verbosity = 0;
  bool toStderr = true;       // --logtostderr
  bool alsoToStderr = false;  // --alsologtostderr
  int stderrThreshold = 2;    // --stderrthreshold: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL
  std::string dir;            // --log-dir
  std::string file;           // --log-file (wins over --log-dir, as in klog)
  std::uint64_t maxFileBytes = std::uint64_t{1800} << 20;  // --log-file-max-size
  bool oneOutput = false;     // --one-output
  std::chrono::milliseconds flushEvery{5000};  // --log-flush-frequency (ERROR and above: at once)
  std::string program = "kube-proxy";  // the binary's name (kube-proxy.exe on Windows): klog's file names
  // Lines the queue holds; past it the oldest are dropped (and counted). Each slot is ~400 bytes
  // held for the process's life: 8,192 were 3.3 MB; hnsproxy logs summaries, not a line per object.
  std::size_t queueLines = 2048;
};

// Errors: a file that cannot be made (named).
void init(const LogOptions& o);
int verbosity();
bool enabled(int v);
// Waits (at most a second) until what was logged is written. False when the log's reader is stuck
// (a full stderr pipe): the process must then leave with std::_Exit, since exit() would wait for
// the stderr lock the writer holds.
bool flush();
// Lines dropped because the queue was full (the hnsproxy_log_lines_dropped_total metric).
std::uint64_t dropped();

enum class Severity : char { Info = 'I', Warning = 'W', Error = 'E', Fatal = 'F' };

// A key=value pair, rendered as klog does: strings quoted, numbers and booleans bare.
std::string quote(std::string_view s);
template <typename T>
std::string render(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
  else if constexpr (std::is_arithmetic_v<T>) {
    std::ostringstream ss;
    ss << v;
    return ss.str();
  } else return quote(std::string_view(v));
}

bool secretKey(std::string_view key);
// A URL with any user:password@ part replaced by <redacted>@ (for --master and kubeconfig servers).
std::string redactUrl(std::string_view url);
void write(Severity s, const std::source_location& loc, std::string_view msg, const std::string& kvs);

template <typename... KV>
std::string kvText(const KV&... kv) {
  std::string out;
  if constexpr (sizeof...(kv) > 0) {
    static_assert(sizeof...(kv) % 2 == 0, "key/value pairs");
    const char* key = nullptr;
    auto one = [&](const auto& x) {
      if (!key) {
        if constexpr (std::is_convertible_v<decltype(x), const char*>) key = x;
        else key = "?";
      } else {
        out += " ";
        out += key;
        out += "=";
        out += secretKey(key) ? std::string("\"<redacted>\"") : render(x);
        key = nullptr;
      }
    };
    (one(kv), ...);
  }
  return out;
}

}  // namespace hnsproxy::proxy::log

#ifdef __CPPCHECK__  // tests/run-all.sh passes -D__CPPCHECK__
// cppcheck 2.10 cannot expand __VA_OPT__; for analysis a log call evaluates its message.
#define HLOG_AT(sev, msg, ...) ((void)(msg))
#define HLOG_INFO(msg, ...) ((void)(msg))
#define HLOG_WARN(msg, ...) ((void)(msg))
#define HLOG_ERROR(msg, ...) ((void)(msg))
#define HLOG_V(level, msg, ...) ((void)(msg))
#else
#define HLOG_AT(sev, msg, ...) \
  ::hnsproxy::proxy::log::write(sev, std::source_location::current(), msg, ::hnsproxy::proxy::log::kvText(__VA_ARGS__))
#define HLOG_INFO(msg, ...) HLOG_AT(::hnsproxy::proxy::log::Severity::Info, msg __VA_OPT__(, ) __VA_ARGS__)
#define HLOG_WARN(msg, ...) HLOG_AT(::hnsproxy::proxy::log::Severity::Warning, msg __VA_OPT__(, ) __VA_ARGS__)
#define HLOG_ERROR(msg, ...) HLOG_AT(::hnsproxy::proxy::log::Severity::Error, msg __VA_OPT__(, ) __VA_ARGS__)
#define HLOG_V(level, msg, ...)                                                                       \
  do {                                                                                                \
    if (::hnsproxy::proxy::log::enabled(level)) HLOG_INFO(msg __VA_OPT__(, ) __VA_ARGS__);            \
  } while (0)
#endif

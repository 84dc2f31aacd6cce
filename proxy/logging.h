// Logging in klog's text format, through spdlog:
//   I1128 16:04:05.123456    4321 sync.cc:123] "Message" key="value" n=3
// Levels by --v (V(n) lines shown when n <= verbosity). To stderr by default; the legacy klog
// flags --log-file / --log-dir (with --logtostderr=false) write a file with size-based rotation.
// Values of keys that name secrets (token, password, secret, key data) are never written.
#pragma once

#include <cstdint>
#include <source_location>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace hnsproxy::proxy::log {

struct LogOptions {
  int verbosity = 0;
  bool toStderr = true;
  std::string file;  // "" for none
  std::uint64_t maxFileBytes = 1800ull << 20;
  int maxFiles = 5;
};

void init(const LogOptions& o);
int verbosity();
bool enabled(int v);
// Waits (at most a second) until what was logged is written. False when the log's reader is stuck
// (a full stderr pipe): the process must then leave with std::_Exit, since exit() would wait for
// the stderr lock the writer holds.
bool flush();

enum class Severity : char { Info = 'I', Warning = 'W', Error = 'E' };

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

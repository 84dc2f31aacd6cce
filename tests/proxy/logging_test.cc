#include "catch.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "proxy/logging.h"
#include "proxy/metrics.h"

using namespace hnsproxy::proxy;

TEST_CASE("logging: klog's text format, V-levels, and secrets never written") {
  auto path = std::filesystem::temp_directory_path() / ("hnsproxy-log-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  log::LogOptions o;
  o.file = path.string();
  o.toStderr = false;
  o.verbosity = 2;
  log::init(o);
  HLOG_INFO("Hello", "name", "cbr0", "count", 3, "ok", true);
  HLOG_V(2, "shown at 2");
  HLOG_V(3, "hidden at 3");
  HLOG_WARN("With a secret", "token", "abc123", "bearerToken", "xyz", "password", "pw");
  HLOG_ERROR("Quotes \"and\" newlines\nin a message", "detail", "tab\there");
  log::flush();
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  log::init({});
  CHECK(std::regex_search(t, std::regex(R"(I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ logging_test\.cc:\d+\] "Hello" name="cbr0" count=3 ok=true)")));
  CHECK(t.find("shown at 2") != std::string::npos);
  CHECK(t.find("hidden at 3") == std::string::npos);
  CHECK(t.find("abc123") == std::string::npos);
  CHECK(t.find("xyz") == std::string::npos);
  CHECK(t.find("\"pw\"") == std::string::npos);
  CHECK(t.find("token=\"<redacted>\"") != std::string::npos);
  CHECK(t.find("E") != std::string::npos);
  CHECK(t.find(R"("Quotes \"and\" newlines\nin a message" detail="tab\there")") != std::string::npos);
}

TEST_CASE("logging: control characters from manifests never reach the log raw") {
  CHECK(log::quote(std::string("a\x1b[31mred\x07\x7f\rb")) == "\"a\\x1b[31mred\\x07\\x7f\\rb\"");
}

TEST_CASE("logging: a password in a URL is redacted, the rest kept") {
  CHECK(log::redactUrl("https://admin:pw@10.0.0.1:6443/api") == "https://<redacted>@10.0.0.1:6443/api");
  CHECK(log::redactUrl("https://10.0.0.1:6443") == "https://10.0.0.1:6443");
  CHECK(log::redactUrl("https://10.0.0.1:6443/a@b") == "https://10.0.0.1:6443/a@b");  // not userinfo
  CHECK(log::redactUrl("user:pw@host") == "<redacted>@host");
}

TEST_CASE("logging: a reader that does not keep up loses the oldest lines, counted, reported and exported; callers never wait") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const int savedStderr = ::dup(2);
  REQUIRE(savedStderr >= 0);
  REQUIRE(::dup2(fds[1], 2) == 2);  // stderr is a pipe nobody reads yet
  log::LogOptions o;
  o.queueLines = 64;
  log::init(o);
  const auto before = log::dropped();
  // Far more than the pipe (64 KiB) and the queue hold: the writer blocks on the pipe, the queue
  // overflows, and every call still returns (a blocking call would hang this test).
  for (int i = 0; i < 20000; ++i) HLOG_INFO("filler line that fills the pipe and the queue", "i", i);
  const auto drops = log::dropped() - before;

  std::mutex gotMu;
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      const auto n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard<std::mutex> lock(gotMu);
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the drop check runs at most once a second
  HLOG_INFO("after the reader came back");
  // Not log::flush(): it gives up after a second (and then for good), and a sanitizer build may
  // take longer to drain the queue. The line itself says when everything before it is written.
  bool written = false;
  for (int i = 0; i < 600 && !written; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> lock(gotMu);
    written = got.find("after the reader came back") != std::string::npos &&
              got.find("Log lines were dropped") != std::string::npos;  // logged right after it
  }
  const std::string metrics = Metrics().render();
  ::dup2(savedStderr, 2);
  ::close(savedStderr);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  log::init({});

  CHECK(drops > 0);
  CHECK(written);
  CHECK(got.find("\"Log lines were dropped: the log's reader (stderr or disk) did not keep up\" dropped=") != std::string::npos);
  CHECK(got.find("i=19999\n") != std::string::npos);   // the newest were kept; the oldest queued ones went
  std::smatch m;
  REQUIRE(std::regex_search(metrics, m, std::regex(R"(hnsproxy_log_lines_dropped_total (\d+))")));
  CHECK(std::stoull(m[1].str()) >= drops);
}

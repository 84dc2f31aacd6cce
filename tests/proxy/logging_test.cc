#include "catch.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "proxy/logging.h"

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

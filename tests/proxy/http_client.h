// A blocking HTTP GET over loopback for tests (Boost.Beast).
#pragma once

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include <string>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace hnsproxy::test {

struct HttpResult {
  int status = 0;  // 0: could not connect
  std::string body;
  std::string contentType;
};

inline HttpResult httpGet(unsigned short port, const std::string& target, const std::string& host = "127.0.0.1") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult r;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host), port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    r.contentType = std::string(res[http::field::content_type]);
  } catch (const std::exception&) {
    r.status = 0;
  }
  return r;
}

// A port that was free a moment ago (for a child process to bind).
// A port for a server whose number the test must choose before it starts (a Service's
// healthCheckNodePort): below the kernel's ephemeral range, so no OS-assigned port can take it
// between the check and the bind; checked free now, varied by process so parallel suites differ.
inline unsigned short portOutsideEphemeralRange(unsigned short after = 0) {
  unsigned low = 32768;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    unsigned lo = 0, hi = 0;
    if (std::fscanf(f, "%u %u", &lo, &hi) == 2 && lo > 20000) low = lo;
    std::fclose(f);
  }
  unsigned base = 20000 + static_cast<unsigned>(::getpid()) % (low - 21000);
  for (unsigned p = std::max<unsigned>(base, after + 1u); p < low; ++p) {
    boost::asio::io_context io;
    boost::system::error_code ec;
    boost::asio::ip::tcp::acceptor a(io);
    a.open(boost::asio::ip::tcp::v4(), ec);
    a.bind({boost::asio::ip::make_address("0.0.0.0"), static_cast<unsigned short>(p)}, ec);
    if (!ec) return static_cast<unsigned short>(p);
  }
  return 0;
}

}  // namespace hnsproxy::test

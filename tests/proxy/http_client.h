// A blocking HTTP GET over loopback for tests (Boost.Beast).
#pragma once

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
inline unsigned short freePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace hnsproxy::test

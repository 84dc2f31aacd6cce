// A small HTTP/1.1 server on Boost.Beast for healthz, metrics and service health-check ports.
// Requests are answered by a handler on the io_context thread; keep-alive, 10 s idle timeout,
// 64 KiB request limit. Never throws out of the handler path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "policy/result.h"

namespace hnsproxy::proxy {

struct HttpResponse {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const std::string& method, const std::string& target)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler handler);
  ~HttpServer();
  // "0.0.0.0:10256", "[::]:10256", "127.0.0.1:0" (port 0 picks one; see port()).
  Status listen(const std::string& hostPort);
  void stop() noexcept;
  unsigned short port() const;
  bool listening() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hnsproxy::proxy

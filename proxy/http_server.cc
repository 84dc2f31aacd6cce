#include "proxy/http_server.h"
#include "policy/ip.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace hnsproxy::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  asio::io_context& io;
  HttpHandler handler;
  tcp::acceptor acceptor;
  Impl(asio::io_context& i, HttpHandler h) : io(i), handler(std::move(h)), acceptor(i) {}

  asio::steady_timer retry{io};

  // An accept that fails for any reason but the acceptor being closed (out of descriptors,
  // ECONNABORTED, ENOBUFS) is tried again shortly: the health endpoint must not die for good
  // because of one bad moment, and it is reachable from the network.
  void accept() {
    auto self = shared_from_this();
    acceptor.async_accept([self](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;  // closed by stop()
      if (ec) {
        self->retry.expires_after(std::chrono::milliseconds(100));
        self->retry.async_wait([self](boost::system::error_code wec) {
          if (!wec && self->acceptor.is_open()) self->accept();
        });
        return;
      }
      serve(self, std::make_shared<beast::tcp_stream>(std::move(s)), std::make_shared<beast::flat_buffer>());
      self->accept();
    });
  }

  // One request after another on a connection; the buffer carries over, so requests a client
  // pipelined (sent before reading the answers) are all answered, in order.
  static void serve(std::shared_ptr<Impl> self, std::shared_ptr<beast::tcp_stream> stream,
                    std::shared_ptr<beast::flat_buffer> buffer) {
    auto parser = std::make_shared<http::request_parser<http::string_body>>();
    parser->body_limit(std::uint64_t{64} << 10);
    parser->header_limit(16 * 1024);
    stream->expires_after(std::chrono::seconds(10));
    http::async_read(*stream, *buffer, *parser,
                     [self, stream, buffer, parser](beast::error_code ec, std::size_t) {
                       if (ec) {
                         beast::error_code ignored;
                         stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
                         return;
                       }
                       auto req = parser->release();
                       HttpResponse r;
                       try {
                         r = self->handler(std::string(req.method_string()), std::string(req.target()));
                       } catch (const std::exception& e) {
                         r = HttpResponse{500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what(), {}};
                       }
                       auto res = std::make_shared<http::response<http::string_body>>(
                           static_cast<http::status>(r.status), req.version());
                       res->set(http::field::server, "hnsproxy");
                       res->set(http::field::content_type, r.contentType);
                       for (const auto& [k, v] : r.headers) res->set(k, v);
                       res->keep_alive(req.keep_alive());
                       res->body() = req.method() == http::verb::head ? std::string() : std::move(r.body);
                       res->prepare_payload();
                       http::async_write(*stream, *res, [self, stream, buffer, res](beast::error_code wec, std::size_t) {
                         if (wec || !res->keep_alive()) {
                           beast::error_code ignored;
                           stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
                           return;
                         }
                         serve(self, stream, buffer);
                       });
                     });
  }
};

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(handler))) {}

HttpServer::~HttpServer() {
  try {
    stop();
  } catch (const std::exception&) {  // a timer that cannot be cancelled: the io_context is going away anyway
  }
}

Status HttpServer::listen(const std::string& hostPort) {
  auto hp = policy::HostPort::parse(hostPort);
  if (!hp || !hp->port) return Error(ErrorCode::InvalidInput, "invalid listen address " + hostPort);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->host, ec);
  if (ec) return Error(ErrorCode::InvalidInput, "invalid listen address " + hostPort);
  tcp::endpoint ep(addr, *hp->port);
  auto& a = impl_->acceptor;
  if (a.is_open()) a.close(ec);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    a.close(ignored);
    return Error(ErrorCode::PortInUse, "failed to listen on " + hostPort + ": " + ec.message());
  }
  impl_->accept();
  return Ok{};
}

void HttpServer::stop() noexcept {
  if (!impl_) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  try {
    impl_->retry.cancel();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a timer that cannot be cancelled has nothing pending to fire
  }
}

unsigned short HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

bool HttpServer::listening() const { return impl_->acceptor.is_open(); }

}  // namespace hnsproxy::proxy

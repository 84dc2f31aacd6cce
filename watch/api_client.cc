#include "watch/api_client.h"
#include "watch/line_splitter.h"
#include "policy/ip.h"

#include <filesystem>
#include <limits>
#include <fstream>
#include <optional>
#include <sstream>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace hnsproxy::watch {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string urlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

std::string readAll(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::file_time_type mtimeOf(const std::string& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  return ec ? fs::file_time_type{} : t;
}

}  // namespace

struct ApiClient::Impl {
  // One connection: TCP, or TLS over TCP. The HTTP exchange is written once, over readSome() and
  // writeAll(): Beast's parser is fed by hand instead of through its composed stream operations,
  // which are instantiated per stream type and made this file the slowest of the build (84 s).
  struct Conn {
    std::unique_ptr<tcp::socket> plain;
    std::unique_ptr<ssl::stream<tcp::socket>> secure;
    beast::flat_buffer buf;
    using Done = std::function<void(beast::error_code, std::size_t)>;
    tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }
    void readSome(asio::mutable_buffer b, Done done) {
      if (secure) secure->async_read_some(b, std::move(done));
      else plain->async_read_some(b, std::move(done));
    }
    void writeAll(asio::const_buffer b, Done done) {
      if (secure) asio::async_write(*secure, b, std::move(done));
      else asio::async_write(*plain, b, std::move(done));
    }
    void close() {
      beast::error_code ec;
      socket().close(ec);
    }
  };

  ClientConfig cfg;
  std::string userAgent;
  bool tls = false;
  std::string host, port;
  asio::io_context io;
  std::unique_ptr<ssl::context> sslCtx;
  fs::file_time_type certMtime{}, keyMtime{}, caMtime{};
  std::string token;
  Clock::time_point tokenRead{};
  std::shared_ptr<Conn> keepAlive;  // reused by get()
  std::atomic<bool>* stop = nullptr;
  std::string authority;  // host[:port] as the server URL writes it: the metrics' host label
  RequestObserver observer;
  void report(int code, std::optional<double> seconds) {
    if (observer) observer(RequestRecord{"GET", authority, code, seconds});
  }
  std::mutex connMu;
  std::shared_ptr<Conn> active;  // for stop()

  Status buildSsl() {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (cfg.insecureSkipTlsVerify) {
      ctx->set_verify_mode(ssl::verify_none);
    } else {
      ctx->set_verify_mode(ssl::verify_peer);
      if (!cfg.caData.empty()) {
        ctx->add_certificate_authority(asio::buffer(cfg.caData), ec);
        if (ec) return Error(ErrorCode::InvalidInput, "certificate-authority-data is not a PEM certificate: " + ec.message());
      } else if (!cfg.caFile.empty()) {
        bool readable = false;
        std::string pem = readAll(cfg.caFile, &readable);
        if (!readable)
          return Error(ErrorCode::InvalidInput, "certificate-authority " + cfg.caFile + ": the file cannot be read");
        ctx->add_certificate_authority(asio::buffer(pem), ec);
        if (ec)
          return Error(ErrorCode::InvalidInput,
                       "certificate-authority " + cfg.caFile + ": not a PEM CA certificate (" + ec.message() + ")");
        caMtime = mtimeOf(cfg.caFile);
      } else {
        ctx->set_default_verify_paths(ec);
      }
    }
    std::string cert = cfg.clientCertData, key = cfg.clientKeyData;
    bool ok = true;
    if (cert.empty() && !cfg.clientCertFile.empty()) {
      cert = readAll(cfg.clientCertFile, &ok);
      if (!ok) return Error(ErrorCode::InvalidInput, "client-certificate " + cfg.clientCertFile + ": cannot be read");
      certMtime = mtimeOf(cfg.clientCertFile);
    }
    if (key.empty() && !cfg.clientKeyFile.empty()) {
      key = readAll(cfg.clientKeyFile, &ok);
      if (!ok) return Error(ErrorCode::InvalidInput, "client-key " + cfg.clientKeyFile + ": cannot be read");
      keyMtime = mtimeOf(cfg.clientKeyFile);
    }
    if (!cert.empty()) {
      ctx->use_certificate_chain(asio::buffer(cert), ec);
      if (!ec) ctx->use_private_key(asio::buffer(key), ssl::context::pem, ec);
      if (ec) return Error(ErrorCode::InvalidInput, "client certificate or key is not usable: " + ec.message());
    }
    sslCtx = std::move(ctx);
    return Ok{};
  }

  // Client certificates and the CA are reloaded when their files change (rotation).
  Status refreshCredentials() {
    if (!tls) return Ok{};
    bool changed = !sslCtx || (!cfg.clientCertFile.empty() && mtimeOf(cfg.clientCertFile) != certMtime) ||
                   (!cfg.clientKeyFile.empty() && mtimeOf(cfg.clientKeyFile) != keyMtime) ||
                   (!cfg.caFile.empty() && cfg.caData.empty() && mtimeOf(cfg.caFile) != caMtime);
    if (changed) {
      keepAlive.reset();
      return buildSsl();
    }
    return Ok{};
  }

  std::string bearer(bool force) {
    if (!cfg.tokenFile.empty() && (force || token.empty() || Clock::now() - tokenRead > std::chrono::minutes(1))) {
      bool ok = false;
      std::string t = readAll(cfg.tokenFile, &ok);
      if (ok) {
        t.erase(t.find_last_not_of(" \r\n\t") + 1);
        token = t;
        tokenRead = Clock::now();
      }
    }
    return cfg.tokenFile.empty() ? cfg.token : token;
  }

  // Runs the io_context until `done` or the deadline or stop(); on failure the connection is closed.
  Status drive(const std::shared_ptr<Conn>& c, const std::function<bool()>& done, Clock::time_point deadline,
               const char* what) {
    while (!done()) {
      if (stop && *stop) {
        c->close();
        io.poll();
        return Error(ErrorCode::Transient, "stopped");
      }
      if (Clock::now() > deadline) {
        c->close();
        io.restart();
        io.poll();
        return Error(ErrorCode::Transient, std::string("timed out while ") + what);
      }
      if (io.stopped()) io.restart();
      io.run_one_for(std::chrono::milliseconds(50));
    }
    return Ok{};
  }

  Result<std::shared_ptr<Conn>> connect(Clock::time_point deadline) {
    if (auto st = refreshCredentials(); !st) return st.error();
    auto c = std::make_shared<Conn>();
    if (tls) c->secure = std::make_unique<ssl::stream<tcp::socket>>(io, *sslCtx);
    else c->plain = std::make_unique<tcp::socket>(io);
    {
      std::lock_guard<std::mutex> lock(connMu);
      active = c;
    }
    tcp::resolver resolver(io);
    bool done = false;
    beast::error_code ec;
    tcp::resolver::results_type results;
    resolver.async_resolve(host, port, [&](beast::error_code e, tcp::resolver::results_type r) {
      ec = e;
      results = r;
      done = true;
    });
    if (auto st = drive(c, [&] { return done; }, deadline, "resolving"); !st) return st.error();
    if (ec) return Error(ErrorCode::Transient, "cannot resolve " + host + ": " + ec.message());
    done = false;
    asio::async_connect(c->socket(), results, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (auto st = drive(c, [&] { return done; }, deadline, "connecting"); !st) return st.error();
    if (ec) return Error(ErrorCode::Transient, "cannot connect to " + cfg.server + ": " + ec.message());
    c->socket().set_option(tcp::no_delay(true), ec);
    if (tls) {
      SSL* s = c->secure->native_handle();
      std::string name = cfg.tlsServerName.empty() ? host : cfg.tlsServerName;
      boost::system::error_code ipEc;
      auto addr = asio::ip::make_address(name, ipEc);
      if (ipEc) SSL_set_tlsext_host_name(s, name.c_str());
      if (!cfg.insecureSkipTlsVerify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(s);
        if (!ipEc) X509_VERIFY_PARAM_set1_ip_asc(param, addr.to_string().c_str());
        else X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
      done = false;
      c->secure->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        ec = e;
        done = true;
      });
      if (auto st = drive(c, [&] { return done; }, deadline, "in the TLS handshake"); !st) return st.error();
      if (ec) {
        long verify = SSL_get_verify_result(s);
        std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
        return Error(ErrorCode::InvalidInput,
                     "TLS handshake with " + cfg.server + " failed: " + why +
                         (verify != X509_V_OK ? " (server certificate verification is on; fix the CA in the kubeconfig)" : ""));
      }
    }
    return c;
  }

  // The request's text: a GET with the headers client-go sends. Header values come from the
  // kubeconfig and the token file: a line break there would split the request, so it is refused.
  Result<std::string> request(const std::string& target, bool forceToken, bool reuse) {
    std::string t = bearer(forceToken);
    for (std::string_view v : {std::string_view(target), std::string_view(host), std::string_view(userAgent), std::string_view(t)})
      if (v.find_first_of("\r\n") != std::string_view::npos)
        return Error(ErrorCode::InvalidInput, "a request header holds a line break (the token file, user agent or URL)");
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + userAgent +
                      "\r\nAccept: application/json\r\n";
    if (!t.empty()) req += "Authorization: Bearer " + t + "\r\n";
    req += reuse ? "\r\n" : "Connection: close\r\n\r\n";
    return req;
  }

  Status send(const std::shared_ptr<Conn>& c, const std::string& text, Clock::time_point deadline,
              beast::error_code& ec) {
    bool done = false;
    c->writeAll(asio::buffer(text), [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    return drive(c, [&] { return done; }, deadline, "sending the request");
  }

  // Feeds the connection's bytes to `parser` — what is buffered first, then reads — until
  // `enough()` (checked after each feed) or the message is complete. HTTP errors and the end of the
  // connection come back in `ec`, as Beast's own read operations report them (end_of_stream when
  // the connection closed before a byte of the message, partial_message mid-message); a deadline
  // or stop in the Status.
  template <typename Parser>
  Status feed(const std::shared_ptr<Conn>& c, Parser& parser, const std::function<bool()>& enough,
              Clock::time_point deadline, const char* what, beast::error_code& ec) {
    ec = {};
    for (;;) {
      if (c->buf.size() > 0) {
        std::size_t used = parser.put(c->buf.data(), ec);
        c->buf.consume(used);
        if (ec == http::error::need_more) ec = {};
        if (ec || parser.is_done() || enough()) return Ok{};
        if (used > 0 && c->buf.size() > 0) continue;
      } else if (parser.is_done() || enough()) {
        return Ok{};
      }
      bool done = false;
      std::size_t got = 0;
      beast::error_code readEc;
      c->readSome(c->buf.prepare(std::size_t{64} << 10), [&](beast::error_code e, std::size_t n) {
        readEc = e;
        got = n;
        done = true;
      });
      if (auto st = drive(c, [&] { return done; }, deadline, what); !st) return st;
      c->buf.commit(got);
      if (readEc == asio::error::eof || readEc == ssl::error::stream_truncated) {
        if (got > 0) continue;
        if (!parser.got_some()) {
          ec = http::error::end_of_stream;
          return Ok{};
        }
        parser.put_eof(ec);  // a body that runs to the end of the connection ends here
        return Ok{};
      }
      if (readEc) {
        ec = readEc;
        return Ok{};
      }
    }
  }
};

ApiClient::ApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->stop = &stop_; }
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient>> ApiClient::create(const ClientConfig& cfg, std::string userAgent) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = cfg;
  impl->userAgent = std::move(userAgent);
  std::string s = cfg.server;
  std::string rest;
  if (s.rfind("https://", 0) == 0) {
    impl->tls = true;
    rest = s.substr(8);
  } else if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else {
    return Error(ErrorCode::InvalidInput, "invalid server URL \"" + s + "\": want https://host:port");
  }
  rest.resize(std::min(rest.size(), rest.find('/')));
  impl->authority = rest;
  if (rest.find('@') != std::string::npos)
    return Error(ErrorCode::InvalidInput,
                 "the server URL carries a user name and password (shown as " + std::string(s.substr(0, s.find("://") + 3)) +
                     "<redacted>@...): the API server has not accepted basic authentication since Kubernetes 1.19; "
                     "use a kubeconfig with a token or a client certificate");
  if (!cfg.tokenFile.empty()) {
    bool readable = false;
    readAll(cfg.tokenFile, &readable);
    if (!readable)  // else every request would go out unauthenticated
      return Error(ErrorCode::InvalidInput, "tokenFile " + cfg.tokenFile + ": the file cannot be read");
  }
  auto hp = policy::HostPort::parse(rest);
  if (!hp) return Error(ErrorCode::InvalidInput, "invalid server URL \"" + s + "\": bad host or port");
  impl->host = hp->host;
  impl->port = hp->port ? std::to_string(*hp->port) : impl->tls ? "443" : "80";
  if (impl->host.empty()) return Error(ErrorCode::InvalidInput, "invalid server URL \"" + s + "\": no host");
  if (impl->tls)
    if (auto st = impl->buildSsl(); !st) return st.error();
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(impl)));
}

void ApiClient::stop() {
  stop_ = true;
}

void ApiClient::setRequestObserver(RequestObserver observer) { impl_->observer = std::move(observer); }

Result<HttpReply> ApiClient::get(const std::string& target, std::chrono::milliseconds timeout, std::uint64_t maxBody) {
  Impl& m = *impl_;
  auto deadline = Clock::now() + timeout;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto started = Clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };
    std::shared_ptr<Impl::Conn> c = m.keepAlive;
    m.keepAlive.reset();
    if (!c) {
      auto fresh = m.connect(deadline);
      if (!fresh) {
        m.report(0, seconds());
        return fresh.error();
      }
      c = *fresh;
    }
    auto req = m.request(target, attempt > 0, true);
    if (!req) return req.error();
    auto res = std::make_shared<http::response_parser<http::string_body>>();
    res->body_limit(maxBody);
    beast::error_code ec;
    auto exchange = [&]() -> Status {
      if (auto st = m.send(c, *req, deadline, ec); !st || ec) return st;
      // The header first: Boost 1.74's parser does not hold a Content-Length body to body_limit
      // (it does for chunked bodies), so that is checked here before any of the body is read.
      res->eager(false);
      auto st = m.feed(c, *res, [&] { return res->is_header_done(); }, deadline, "waiting for the API server", ec);
      if (!st || ec) return st;
      if (res->content_length() && *res->content_length() > maxBody) {
        ec = http::error::body_limit;
        return Ok{};
      }
      res->eager(true);
      return m.feed(c, *res, [] { return false; }, deadline, "waiting for the API server", ec);
    };
    if (auto st = exchange(); !st) {
      m.report(0, seconds());
      return st.error();
    }
    if (ec) {
      if (attempt == 0 && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                           ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated)) {
        continue;  // a kept-alive connection the server had closed: one fresh try (not counted: Go's transport does the same)
      }
      if (ec == http::error::body_limit) {
        int status = static_cast<int>(res->get().result_int());
        m.report(status, seconds());
        return HttpReply{status, {}, true};
      }
      m.report(0, seconds());
      return Error(ErrorCode::Transient, "GET " + target + ": " + ec.message());
    }
    auto msg = res->release();
    m.report(static_cast<int>(msg.result_int()), seconds());
    if (msg.keep_alive()) m.keepAlive = c;
    if (msg.result_int() == 401 && attempt == 0 && !m.cfg.tokenFile.empty()) continue;  // token rotated
    return HttpReply{static_cast<int>(msg.result_int()), std::move(msg.body())};
  }
  return Error(ErrorCode::Transient, "GET " + target + ": failed twice");
}

// The longest watch event accepted: an object of several MiB is already far beyond what a
// Service or EndpointSlice holds (the API server's own request limit is 3 MiB).
constexpr std::size_t kMaxWatchLine = 16u << 20;

Result<int> ApiClient::stream(const std::string& target, const std::function<bool(std::string_view)>& onLine,
                              std::chrono::milliseconds idle, std::string* errorBody) {
  Impl& m = *impl_;
  auto fresh = m.connect(Clock::now() + std::chrono::seconds(30));
  if (!fresh) {
    m.report(0, std::nullopt);
    return fresh.error();
  }
  auto c = *fresh;
  auto req = m.request(target, false, false);
  if (!req) return req.error();
  auto parser = std::make_shared<http::response_parser<http::buffer_body>>();
  parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  parser->eager(false);
  beast::error_code ec;
  const auto headerDeadline = Clock::now() + std::chrono::seconds(30);
  auto st = m.send(c, *req, headerDeadline, ec);
  if (st && !ec)
    st = m.feed(c, *parser, [&] { return parser->is_header_done(); }, headerDeadline, "waiting for the watch", ec);
  if (!st) {
    m.report(0, std::nullopt);
    return st.error();
  }
  if (ec) {
    m.report(0, std::nullopt);
    return Error(ErrorCode::Transient, "watch " + target + ": " + ec.message());
  }
  int status = static_cast<int>(parser->get().result_int());
  m.report(status, std::nullopt);
  LineSplitter lines(kMaxWatchLine);
  std::vector<char> chunk(std::size_t{64} << 10);
  bool wantMore = true;
  std::string body;
  while (!parser->is_done() && wantMore) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    parser->eager(true);
    // Until some of the body arrived (a chunk header alone delivers none), the chunk is full, or
    // the message ended.
    auto read = m.feed(c, *parser, [&] { return parser->get().body().size < chunk.size(); }, Clock::now() + idle,
                       "reading the watch stream", ec);
    if (!read) return read.error();
    if (ec == http::error::need_buffer) ec = {};
    std::size_t got = chunk.size() - parser->get().body().size;
    if (status != 200) {
      constexpr std::size_t kMaxErrorBody = std::size_t{64} << 10;
      if (body.size() < kMaxErrorBody) body.append(chunk.data(), std::min(got, kMaxErrorBody - body.size()));
    } else {
      switch (lines.feed(std::string_view(chunk.data(), got), onLine)) {
        case LineSplitter::Result::More: break;
        case LineSplitter::Result::Stopped: wantMore = false; break;
        case LineSplitter::Result::TooLong:  // one event; a broken or hostile server must not exhaust memory
          return Error(ErrorCode::Transient, "watch " + target + ": an event longer than " +
                                                 std::to_string(kMaxWatchLine >> 20) + " MiB; the stream is dropped");
      }
    }
    if (ec) {
      if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated || ec == http::error::partial_message)
        return Error(ErrorCode::Transient, "watch stream ended mid-message: " + ec.message());
      return Error(ErrorCode::Transient, "watch stream: " + ec.message());
    }
  }
  if (wantMore && status == 200) lines.finish(onLine);
  c->close();
  m.io.restart();
  m.io.poll();
  if (errorBody) *errorBody = body;
  return status;
}

}  // namespace hnsproxy::watch

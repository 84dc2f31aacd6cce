// What a client on the network can send to the healthz and metrics listeners (healthz binds
// 0.0.0.0 by default): the real StatusServers on loopback, fed the input as raw bytes over a real
// socket, then half-closed. Whatever arrives, the listener answers or closes within its bounds and
// keeps serving: after every input a well-formed /healthz must still be answered.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "fuzz_util.h"
#include "proxy/health.h"
#include "proxy/metrics.h"
#include "proxy/options.h"
#include "proxy/status_servers.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Servers {
  asio::io_context io;
  hnsproxy::proxy::Options opts;
  hnsproxy::proxy::ProxyHealth health{std::chrono::seconds(60)};
  hnsproxy::proxy::Metrics metrics;
  std::unique_ptr<hnsproxy::proxy::StatusServers> servers;
  std::thread thread;
  Servers() {
    opts.healthzBindAddress = "127.0.0.1:0";
    opts.metricsBindAddress = "127.0.0.1:0";
    servers = std::make_unique<hnsproxy::proxy::StatusServers>(io, opts, health, metrics);
    if (!servers->start()) std::abort();
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
};

// Sends `bytes`, half-closes, reads until the server closes (or 2 s pass). Returns what came back.
std::string sendAndRead(unsigned short port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  // The listener must keep accepting. A connect can fail for the client's own reasons (thousands of
  // connections a minute leave this machine's ephemeral ports in TIME_WAIT): a few tries, then the
  // reason, then the abort.
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (attempt > 0) {
      s = tcp::socket(io);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) break;
  }
  if (ec) {
    std::fprintf(stderr, "http_request_fuzz: cannot connect to 127.0.0.1:%u: %s\n", port, ec.message().c_str());
    std::abort();
  }
  asio::write(s, asio::buffer(bytes), ec);
  s.shutdown(tcp::socket::shutdown_send, ec);
  std::string reply;
  char buf[4096];
  ::timeval tv{2, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
  }
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Servers* srv = new Servers();  // lives for the whole run
  const unsigned short port = (size % 2) ? srv->servers->metricsPort() : srv->servers->healthzPort();
  (void)sendAndRead(port, hnsproxy::fuzz::text(data, size));
  // Still serving: a well-formed request is answered (a few tries: a loaded machine is slow).
  bool answered = false;
  for (int attempt = 0; attempt < 5 && !answered; ++attempt)
    answered = sendAndRead(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 ", 0) == 0;
  if (!answered) std::abort();
  return 0;
}

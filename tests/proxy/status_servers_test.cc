#include "catch.h"

#include <array>
#include <future>
#include <thread>

#include "http_client.h"
#include "proxy/status_servers.h"

using namespace hnsproxy;
using namespace hnsproxy::proxy;
using namespace std::chrono_literals;

namespace {

struct Io {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard = boost::asio::make_work_guard(io);
  std::thread t{[this] { io.run(); }};
  ~Io() {
    guard.reset();
    io.stop();
    t.join();
  }
  template <typename F>
  auto on(F f) {
    std::promise<decltype(f())> p;
    boost::asio::post(io, [&] { p.set_value(f()); });
    return p.get_future().get();
  }
};

// Both listeners on loopback port 0, started.
struct Loopback {
  Options o = [] {
    Options x;
    x.healthzBindAddress = "127.0.0.1:0";
    x.metricsBindAddress = "127.0.0.1:0";
    return x;
  }();
  ProxyHealth health{60s};
  Metrics metrics;
  StatusServers servers;
  explicit Loopback(Io& io) : servers(io.io, o, health, metrics) { REQUIRE(io.on([&] { return servers.start(); })); }
};

}  // namespace

TEST_CASE("status servers: port 0 binds and reports the port; both answer their paths") {
  Io io;
  Loopback lo(io);
  auto& s = lo.servers;
  CHECK(s.healthzPort() != 0);
  CHECK(s.metricsPort() != 0);
  CHECK(test::httpGet(s.metricsPort(), "/proxyMode").body == "kernelspace");
  CHECK(test::httpGet(s.healthzPort(), "/livez").status == 200);
  io.on([&] {
    s.stop();
    return 0;
  });
}

TEST_CASE("status servers: a port in use is retried until it is free (the old kube-proxy still running)") {
  Io io;
  // Something holds the healthz port.
  auto squatter = std::make_unique<boost::asio::ip::tcp::acceptor>(
      io.io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  unsigned short taken = squatter->local_endpoint().port();
  Options o;
  o.healthzBindAddress = "127.0.0.1:" + std::to_string(taken);
  o.metricsBindAddress = "";
  ProxyHealth health(60s);
  Metrics metrics;
  StatusServers s(io.io, o, health, metrics, 20ms);
  REQUIRE(io.on([&] { return s.start(); }));  // not fatal without --bind-address-hard-fail
  CHECK(s.healthzPort() == 0);
  io.on([&] {
    squatter.reset();  // the old process exits
    return 0;
  });
  bool bound = false;
  for (int i = 0; i < 500 && !bound; ++i) {  // retries every 20 ms; bounded at 10 s
    bound = io.on([&] { return s.healthzPort() == taken; });
    if (!bound) std::this_thread::sleep_for(20ms);
  }
  CHECK(bound);
  CHECK(test::httpGet(taken, "/healthz").status != 0);
  io.on([&] {
    s.stop();
    return 0;
  });
}

TEST_CASE("status servers: with --bind-address-hard-fail a port in use is fatal, naming the listener") {
  Io io;
  boost::asio::ip::tcp::acceptor squatter(io.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  Options o;
  o.healthzBindAddress = "";
  o.metricsBindAddress = "127.0.0.1:" + std::to_string(squatter.local_endpoint().port());
  o.bindAddressHardFail = true;
  ProxyHealth health(60s);
  Metrics metrics;
  StatusServers s(io.io, o, health, metrics);
  auto st = io.on([&] { return s.start(); });
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("metrics") != std::string::npos);
}

TEST_CASE("status servers: pipelined requests on one connection are all answered, in order") {
  Io io;
  Loopback lo(io);
  auto& s = lo.servers;
  boost::asio::io_context client;
  boost::asio::ip::tcp::socket sock(client);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), s.metricsPort()});
  std::string req = "GET /proxyMode HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /proxyMode HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(req));  // all three before reading any answer
  std::string got;
  boost::system::error_code ec;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = sock.read_some(boost::asio::buffer(buf), ec)) > 0 || !ec;) got.append(buf.data(), n);
  std::size_t answers = 0;
  for (auto at = got.find("HTTP/1.1 200"); at != std::string::npos; at = got.find("HTTP/1.1 200", at + 1)) ++answers;
  CHECK(answers == 3);
  CHECK(got.find("kernelspace") < got.find("\r\n\r\nok"));
  io.on([&] {
    s.stop();
    return 0;
  });
}

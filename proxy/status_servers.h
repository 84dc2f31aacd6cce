// The proxy's own listeners: healthz (/healthz, /livez) and metrics (/metrics, /proxyMode,
// /healthz, /configz). A listener that cannot bind is fatal with --bind-address-hard-fail;
// otherwise it is logged and retried every 5 s until it binds (upstream's behaviour: the common
// case is the old kube-proxy still holding the port). Everything runs on the io_context's thread;
// the object must outlive the io_context's run.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "proxy/health.h"
#include "proxy/http_server.h"
#include "proxy/metrics.h"
#include "proxy/options.h"

namespace hnsproxy::proxy {

class StatusServers {
 public:
  StatusServers(boost::asio::io_context& io, const Options& o, ProxyHealth& health, Metrics& metrics,
                std::chrono::milliseconds retryEvery = std::chrono::seconds(5));
  // Binds both. An error only with --bind-address-hard-fail (the first listener that failed).
  Status start();
  void stop();
  // The bound ports (0 while not bound): with port 0 in the address the OS picks one.
  unsigned short healthzPort() const { return listeners_[0].server ? listeners_[0].server->port() : 0; }
  unsigned short metricsPort() const { return listeners_[1].server ? listeners_[1].server->port() : 0; }

 private:
  struct Listener {
    const char* what = "";
    std::string address;
    std::unique_ptr<HttpServer> server;
    std::unique_ptr<boost::asio::steady_timer> retry;
  };
  bool bind(Listener& l);
  void retryLater(Listener& l);

  boost::asio::io_context& io_;
  bool hardFail_;
  std::chrono::milliseconds retryEvery_;
  std::array<Listener, 2> listeners_;
};

}  // namespace hnsproxy::proxy

#include "proxy/status_servers.h"

#include <fmt/format.h>

#include "proxy/logging.h"

namespace hnsproxy::proxy {

StatusServers::StatusServers(boost::asio::io_context& io, const Options& o, ProxyHealth& health, Metrics& metrics,
                             std::chrono::milliseconds retryEvery)
    : io_(io), hardFail_(o.bindAddressHardFail), retryEvery_(retryEvery) {
  listeners_[0].what = "healthz";
  listeners_[0].address = o.healthzBindAddress;
  listeners_[0].server = std::make_unique<HttpServer>(io, [&health, &metrics](const std::string&, const std::string& target) {
    return healthzHandler(health, metrics, target, std::chrono::system_clock::now());
  });
  listeners_[1].what = "metrics";
  listeners_[1].address = o.metricsBindAddress;
  listeners_[1].server = std::make_unique<HttpServer>(
      io, [&metrics, config = configJson(o)](const std::string&, const std::string& target) {
        std::string path = target.substr(0, target.find('?'));
        if (path == "/metrics") return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(), {}};
        if (path == "/proxyMode") return HttpResponse{200, "text/plain; charset=utf-8", "kernelspace", {}};
        if (path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok", {}};
        if (path == "/configz") return HttpResponse{200, "application/json", config, {}};
        return HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n", {}};
      });
  for (auto& l : listeners_)
    if (l.address.empty()) l.server.reset();  // "--healthz-bind-address=" disables it
}

bool StatusServers::bind(Listener& l) {
  auto st = l.server->listen(l.address);
  if (st) {
    HLOG_INFO(fmt::format("Serving {}", l.what).c_str(), "address", l.address, "port", l.server->port());
    return true;
  }
  HLOG_ERROR(fmt::format("Failed to start {}", l.what).c_str(), "err", st.error().message, "retryIn",
             formatGoDuration(retryEvery_));
  return false;
}

void StatusServers::retryLater(Listener& l) {
  if (!l.retry) l.retry = std::make_unique<boost::asio::steady_timer>(io_);
  l.retry->expires_after(retryEvery_);
  l.retry->async_wait([this, &l](const boost::system::error_code& ec) {
    if (ec || !l.server) return;  // cancelled by stop()
    if (!bind(l)) retryLater(l);
  });
}

Status StatusServers::start() {
  for (auto& l : listeners_) {
    if (!l.server || bind(l)) continue;
    if (hardFail_)
      return Error(ErrorCode::PortInUse, fmt::format("failed to start {} on {} (--bind-address-hard-fail)", l.what, l.address));
    retryLater(l);
  }
  return Ok{};
}

void StatusServers::stop() {
  for (auto& l : listeners_) {
    if (l.retry) l.retry->cancel();
    if (l.server) l.server->stop();
  }
}

}  // namespace hnsproxy::proxy

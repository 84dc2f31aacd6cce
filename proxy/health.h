// Proxy health (/healthz, /livez on the healthz port; kubernetes pkg/proxy/healthcheck/proxy_health.go) and the service
// health-check node ports for externalTrafficPolicy: Local (pkg/proxy/healthcheck/service_health.go), with upstream's bodies,
// headers and status codes.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "policy/model.h"
#include "proxy/http_server.h"
#include "proxy/metrics.h"

namespace hnsproxy::proxy {

using SysTime = std::chrono::system_clock::time_point;

// Go's time.Time String(): "2024-06-21 11:08:45.074765635 +0000 UTC m=+80.277574766".
std::string goTimeString(SysTime t);

// Unhealthy when a queued change has waited longer than the timeout (2 × the sync period), as
// upstream. The daemon queues its initial state when it starts (startingUp()), so a start-up that
// hangs — HNS not answering, a start-up read blocked — turns /healthz 503 instead of reporting a
// proxy that has programmed nothing as healthy; what start-up waits for is the reason given.
class ProxyHealth {
 public:
  explicit ProxyHealth(std::chrono::nanoseconds timeout) : timeout_(timeout) {}
  void queuedUpdate(SysTime now);  // a change is waiting for a sync
  void updated(SysTime now);       // a sync completed
  void setNodeEligible(bool eligible);
  // The initial state is a change to program: queued at `now`, until the first sync completes.
  void startingUp(SysTime now);
  // What start-up is waiting for ("the HNS network 'cbr0' (…)"), for the reason.
  void waitingFor(std::string what);

  struct State {
    bool healthy;
    bool nodeEligible;
    SysTime lastUpdated;
    SysTime now;
    std::string reason;  // why not healthy ("" when healthy)
  };
  State state(SysTime now) const;
  // The reason, when it differs from the one returned last time (to log each once).
  std::optional<std::string> newReason(const State& s) const;

 private:
  std::chrono::nanoseconds timeout_;
  mutable std::mutex mu_;
  SysTime lastUpdated_{};
  std::optional<SysTime> oldestQueued_;
  bool nodeEligible_ = true;
  bool starting_ = false;
  std::string waitingFor_;
  mutable std::string lastReason_;
};

// Routes of the healthz server: /healthz, /livez, 404 otherwise.
HttpResponse healthzHandler(const ProxyHealth& health, Metrics& metrics, const std::string& target, SysTime now);

// One HTTP server per health-check node port, answering for its service.
class ServiceHealthServers {
 public:
  ServiceHealthServers(boost::asio::io_context& io, const ProxyHealth& health, std::string bindHost = "0.0.0.0");
  ~ServiceHealthServers();
  // Must run on the io_context's thread. Opens ports that are new, closes ports that went,
  // updates local endpoint counts. Returns ports that could not be bound (retried next call).
  std::map<std::uint16_t, std::string> sync(const std::map<std::uint16_t, policy::ServiceName>& ports,
                                            const std::map<policy::ServiceName, int>& localReadyEndpoints);
  std::size_t size() const;

 private:
  struct Port;
  boost::asio::io_context& io_;
  const ProxyHealth& health_;
  std::string host_;
  std::map<std::uint16_t, std::shared_ptr<Port>> ports_;
};

}  // namespace hnsproxy::proxy

// Proxy health (/healthz, /livez on the healthz port; ops-surface.md §3.1) and the service
// health-check node ports for externalTrafficPolicy: Local (§3.4), with upstream's bodies,
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

class ProxyHealth {
 public:
  explicit ProxyHealth(std::chrono::nanoseconds timeout) : timeout_(timeout) {}
  void queuedUpdate(SysTime now);  // a change is waiting for a sync
  void updated(SysTime now);       // a sync completed
  void setNodeEligible(bool eligible);

  struct State {
    bool healthy;
    bool nodeEligible;
    SysTime lastUpdated;
    SysTime now;
  };
  State state(SysTime now) const;

 private:
  std::chrono::nanoseconds timeout_;
  mutable std::mutex mu_;
  SysTime lastUpdated_{};
  std::optional<SysTime> oldestQueued_;
  bool nodeEligible_ = true;
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

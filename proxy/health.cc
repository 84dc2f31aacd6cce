#include "proxy/health.h"

#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "proxy/logging.h"

namespace hnsproxy::proxy {

namespace {
const auto kProcessStart = std::chrono::steady_clock::now();
}

std::string goTimeString(SysTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &secs);
#else
  gmtime_r(&secs, &tm);
#endif
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() % 1000000000LL;
  if (nanos < 0) nanos += 1000000000LL;
  double mono = std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:09} +0000 UTC m=+{:.9f}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos, mono);
}

void ProxyHealth::queuedUpdate(SysTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!oldestQueued_) oldestQueued_ = now;
}

void ProxyHealth::updated(SysTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  lastUpdated_ = now;
  oldestQueued_.reset();
  starting_ = false;
}

void ProxyHealth::startingUp(SysTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  starting_ = true;
  if (!oldestQueued_) oldestQueued_ = now;
}

void ProxyHealth::waitingFor(std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  waitingFor_ = std::move(what);
}

std::optional<std::string> ProxyHealth::newReason(const State& s) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (s.reason == lastReason_) return std::nullopt;
  lastReason_ = s.reason;
  return s.reason;
}

void ProxyHealth::setNodeEligible(bool e) {
  std::lock_guard<std::mutex> lock(mu_);
  nodeEligible_ = e;
}

ProxyHealth::State ProxyHealth::state(SysTime now) const {
  std::lock_guard<std::mutex> lock(mu_);
  State s{true, nodeEligible_, lastUpdated_, now, {}};
  // Unhealthy only when a queued change has waited longer than the timeout (2 × sync period).
  if (oldestQueued_ && now - *oldestQueued_ > timeout_) {
    s.healthy = false;
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - *oldestQueued_).count();
    const auto limit = std::chrono::duration_cast<std::chrono::seconds>(timeout_).count();
    s.reason = starting_ ? fmt::format("start-up has not programmed HNS in {} s (limit {} s, 2 x --sync-period){}", waited,
                                       limit, waitingFor_.empty() ? "" : ": waiting for " + waitingFor_)
                         : fmt::format("a change queued {} s ago is not programmed (limit {} s, 2 x --sync-period)",
                                       waited, limit);
  }
  if (s.healthy) s.lastUpdated = now;  // upstream reports currentTime when healthy
  return s;
}

HttpResponse healthzHandler(const ProxyHealth& health, Metrics& metrics, const std::string& target, SysTime now) {
  std::string path = target.substr(0, target.find('?'));
  auto s = health.state(now);
  if (auto changed = health.newReason(s)) {
    if (changed->empty()) HLOG_INFO("kube-proxy is healthy again");
    else HLOG_ERROR("kube-proxy is not healthy (/healthz and /livez answer 503)", "reason", *changed);
  }
  HttpResponse r;
  r.contentType = "application/json";
  r.headers = {{"X-Content-Type-Options", "nosniff"}};
  if (path == "/healthz") {
    bool ok = s.healthy && s.nodeEligible;
    r.status = ok ? 200 : 503;
    // Upstream's body; when unhealthy, the reason too (a field tools that read upstream's ignore).
    r.body = fmt::format("{{\"lastUpdated\": \"{}\",\"currentTime\": \"{}\", \"nodeEligible\": {}{}}}",
                         goTimeString(s.lastUpdated), goTimeString(s.now), s.nodeEligible ? "true" : "false",
                         s.reason.empty() ? "" : ", \"reason\": " + nlohmann::json(s.reason).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    metrics.countHealthz(static_cast<int>(r.status));
  } else if (path == "/livez") {
    r.status = s.healthy ? 200 : 503;
    r.body = fmt::format("{{\"lastUpdated\": \"{}\",\"currentTime\": \"{}\"{}}}", goTimeString(s.lastUpdated),
                         goTimeString(s.now), s.reason.empty() ? "" : ", \"reason\": " + nlohmann::json(s.reason).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    metrics.countLivez(static_cast<int>(r.status));
  } else {
    r.status = 404;
    r.contentType = "text/plain; charset=utf-8";
    r.body = "404 page not found\n";
  }
  return r;
}

struct ServiceHealthServers::Port {
  policy::ServiceName service;
  int localEndpoints = 0;
  std::unique_ptr<HttpServer> server;
};

ServiceHealthServers::ServiceHealthServers(boost::asio::io_context& io, const ProxyHealth& health, std::string bindHost)
    : io_(io), health_(health), host_(std::move(bindHost)) {}

ServiceHealthServers::~ServiceHealthServers() {
  for (auto& [p, port] : ports_) port->server->stop();
}

std::size_t ServiceHealthServers::size() const { return ports_.size(); }

std::map<std::uint16_t, std::string> ServiceHealthServers::sync(
    const std::map<std::uint16_t, policy::ServiceName>& want, const std::map<policy::ServiceName, int>& local) {
  std::map<std::uint16_t, std::string> failures;
  for (auto it = ports_.begin(); it != ports_.end();) {
    if (!want.count(it->first)) {
      it->second->server->stop();
      it = ports_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [portNumber, svc] : want) {
    auto& slot = ports_[portNumber];
    if (!slot) {
      slot = std::make_shared<Port>();
      std::weak_ptr<Port> weak = slot;
      const ProxyHealth* health = &health_;
      slot->server = std::make_unique<HttpServer>(io_, [weak, health](const std::string&, const std::string&) {
        HttpResponse r;
        r.contentType = "application/json";
        r.headers = {{"X-Content-Type-Options", "nosniff"}};
        auto p = weak.lock();
        if (!p) return HttpResponse{503, "text/plain", "gone\n", {}};
        bool healthy = health->state(std::chrono::system_clock::now()).healthy;
        r.status = p->localEndpoints > 0 && healthy ? 200 : 503;
        r.body = fmt::format("{{\n\t\"service\": {{\n\t\t\"namespace\": \"{}\",\n\t\t\"name\": \"{}\"\n\t}},\n\t"
                             "\"localEndpoints\": {},\n\t\"serviceProxyHealthy\": {}\n}}",
                             p->service.ns, p->service.name, p->localEndpoints, healthy ? "true" : "false");
        return r;
      });
    }
    slot->service = svc;
    auto n = local.find(svc);
    slot->localEndpoints = n == local.end() ? 0 : n->second;
    if (!slot->server->listening()) {
      auto st = slot->server->listen(host_ + ":" + std::to_string(portNumber));
      if (!st) failures[portNumber] = st.error().message;
    }
  }
  return failures;
}

}  // namespace hnsproxy::proxy

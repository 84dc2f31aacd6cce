#include "hns/id_registry.h"

namespace hnsproxy::hns {

using policy::IpAddress;
using policy::LbKey;

void IdRegistry::reset(IdMaps maps) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_ = std::move(maps);
}

std::optional<std::string> IdRegistry::loadBalancer(const LbKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.loadBalancers.find(key);
  return it == maps_.loadBalancers.end() ? std::nullopt : std::optional<std::string>(it->second);
}

void IdRegistry::setLoadBalancer(const LbKey& key, std::string id) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.loadBalancers[key] = std::move(id);
}

void IdRegistry::eraseLoadBalancer(const LbKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.loadBalancers.erase(key);
}

std::optional<std::string> IdRegistry::managedEndpoint(const IpAddress& ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = maps_.managedEndpoints.find(ip);
  return it == maps_.managedEndpoints.end() ? std::nullopt : std::optional<std::string>(it->second);
}

void IdRegistry::setManagedEndpoint(const IpAddress& ip, std::string id) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.managedEndpoints[ip] = std::move(id);
}

void IdRegistry::eraseManagedEndpoint(const IpAddress& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  maps_.managedEndpoints.erase(ip);
}

std::optional<std::string> IdRegistry::backend(const IpAddress& ip) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = maps_.localEndpoints.find(ip); it != maps_.localEndpoints.end()) return it->second;
  if (auto it = maps_.managedEndpoints.find(ip); it != maps_.managedEndpoints.end()) return it->second;
  return std::nullopt;
}

void IdRegistry::updateLocal(const std::set<std::string>& present,
                             const std::vector<std::pair<std::string, std::vector<IpAddress>>>& freshLocal,
                             const std::vector<std::string>& freshForeign) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(maps_.localEndpoints, [&](const auto& kv) { return !present.count(kv.second); });
  std::erase_if(maps_.foreignEndpoints, [&](const std::string& id) { return !present.count(id); });
  for (const auto& [id, ips] : freshLocal)
    for (const auto& ip : ips) maps_.localEndpoints[ip] = id;
  maps_.foreignEndpoints.insert(freshForeign.begin(), freshForeign.end());
}

std::unordered_set<std::string> IdRegistry::knownEndpointIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::unordered_set<std::string> out(maps_.foreignEndpoints.begin(), maps_.foreignEndpoints.end());
  for (const auto* m : {&maps_.localEndpoints, &maps_.managedEndpoints})
    for (const auto& [ip, id] : *m) out.insert(id);
  return out;
}

std::map<std::string, std::vector<IpAddress>> IdRegistry::endpointAddresses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::vector<IpAddress>> out;
  for (const auto* m : {&maps_.managedEndpoints, &maps_.localEndpoints})
    for (const auto& [ip, id] : *m) out[id].push_back(ip);
  return out;
}

}  // namespace hnsproxy::hns

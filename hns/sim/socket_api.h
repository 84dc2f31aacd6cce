// hns::Api as a client of the hnssim daemon over its Unix-domain socket. Thread-safe: concurrent
// calls use connections of their own (opened on demand, kept for reuse). A lost connection is a
// Transient error; the next call reconnects.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hns/api.h"

namespace hnsproxy::hns {

// A client of the hnssim at `socketPath`. hnssim serves a Unix-domain socket, so on Windows this
// is an InvalidInput error (there the simulator runs in-process, --hns-backend=sim).
Result<std::unique_ptr<Api>> connectToSimulator(const std::string& socketPath);

#ifndef _WIN32
class SocketApi final : public Api {
 public:
  explicit SocketApi(std::string socketPath);
  ~SocketApi() override;

  HNSPROXY_HNS_API_OVERRIDES
  Result<std::vector<policy::HostAdapter>> hostAdapters() override;

  // Sends any request (the simulator's control ops) and returns its "result".
  Result<nlohmann::json> call(const nlohmann::json& request);

 private:
  struct Conn;
  // One request line out, its reply line back (not parsed).
  Result<std::string> exchange(const nlohmann::json& request);
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
};

#endif

}  // namespace hnsproxy::hns

// hns::Api as a client of the hnssim daemon over its Unix-domain socket. Thread-safe (one
// request at a time). A lost connection is a Transient error; the next call reconnects.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "hns/api.h"

namespace hnsproxy::hns {

class SocketApi final : public Api {
 public:
  explicit SocketApi(std::string socketPath);
  ~SocketApi() override;

  HNSPROXY_HNS_API_OVERRIDES

  // Sends any request (the simulator's control ops) and returns its "result".
  Result<nlohmann::json> call(const nlohmann::json& request);

 private:
  struct Conn;
  std::string path_;
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace hnsproxy::hns

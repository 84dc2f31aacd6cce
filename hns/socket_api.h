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

  Result<std::vector<std::string>> enumerate(ObjectKind kind, const std::string& query) override;
  Result<Handle> open(ObjectKind kind, const std::string& id) override;
  Result<std::string> query(Handle h, const std::string& query) override;
  Result<Handle> create(ObjectKind kind, const std::string& id, const std::string& settings, Handle network) override;
  Status modify(Handle h, const std::string& settings) override;
  Status remove(ObjectKind kind, const std::string& id) override;
  void close(Handle h) override;
  Result<policy::HnsVersion> version() override;

  // Sends any request (the simulator's control ops) and returns its "result".
  Result<nlohmann::json> call(const nlohmann::json& request);

 private:
  struct Conn;
  std::string path_;
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace hnsproxy::hns

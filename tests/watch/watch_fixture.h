// Helpers shared by the watch tests that talk to the in-repo API server.
#pragma once

#include "eventually.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

#include "test_api_server.h"
#include "watch/kubeconfig.h"

namespace hnsproxy::watch::test {

namespace fs = std::filesystem;
using hnsproxy::test::TestApiServer;
using hnsproxy::test::eventually;


inline fs::path tempDir(const std::string& n) {
  auto d = fs::temp_directory_path() / ("hnsproxy-refl-" + std::to_string(::getpid()) + "-" + n);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A client configuration that trusts the server's CA and sends its token.
inline ClientConfig configFor(const TestApiServer& s) {
  ClientConfig c;
  c.server = s.url();
  c.caData = s.pki().ca.pem.certPem;
  c.token = "t0ken-v1";
  return c;
}

}  // namespace hnsproxy::watch::test

// Where the API server is and how to authenticate: from a kubeconfig (clusters, users,
// contexts, current-context), from --master, or in-cluster (KUBERNETES_SERVICE_HOST/PORT and the
// service account's token and CA). Relative paths resolve against the kubeconfig's folder.
#pragma once

#include <optional>
#include <string>

#include "policy/result.h"

namespace hnsproxy::watch {

struct ClientConfig {
  std::string server;              // https://host:port (or http:// for tests without TLS)
  std::string caData;              // PEM; empty: the system trust store
  std::string caFile;
  bool insecureSkipTlsVerify = false;
  std::string clientCertData, clientKeyData;  // PEM
  std::string clientCertFile, clientKeyFile;  // reloaded when they change
  std::string token;                          // static bearer token
  std::string tokenFile;                      // re-read periodically (rotation)
  std::string tlsServerName;
};

// Loads the current context of a kubeconfig. exec and auth-provider plugins are not supported:
// a clear error names them.
Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& masterOverride = "");

// In-cluster configuration. `root` stands for "/" (tests point it at a folder of their own).
Result<ClientConfig> inClusterConfig(const std::string& root = "");

// --kubeconfig, else --master alone (no auth), else in-cluster.
Result<ClientConfig> resolveClientConfig(const std::string& kubeconfig, const std::string& master);

}  // namespace hnsproxy::watch

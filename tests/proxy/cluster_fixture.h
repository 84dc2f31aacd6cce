// The example cluster for process-level tests: a private copy of its manifests and node state, and
// the same objects served by the in-repo API server with a kubeconfig that reaches it.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "process.h"
#include "test_api_server.h"
#include "test_paths.h"
#include "watch/manifest.h"

namespace hnsproxy::test {

inline std::filesystem::path exampleDir() { return std::filesystem::path(sourceDir()) / "examples" / "cluster"; }

// A private copy of the example cluster: manifests in dir/manifests, HNS state in dir/state.json.
inline std::filesystem::path workspace(const std::string& name) {
  namespace fs = std::filesystem;
  fs::path d = tempDir(name);
  fs::create_directories(d / "manifests");
  for (const auto& f : watch::manifestFiles(exampleDir())) fs::copy_file(f, d / "manifests" / f.filename());
  fs::copy_file(exampleDir() / "hns" / "win-node-1.json", d / "state.json");
  return d;
}

inline std::string baseArgs(const std::filesystem::path& d) {
  return " --manifest-dir=" + (d / "manifests").string() + " --hostname-override=win-node-1 --network-name=cbr0";
}

// Serves every object of the workspace's manifests from `server`, and writes d/kubeconfig (the
// server's CA, a token file) for it. Returns the kubeconfig's path.
inline std::string serveWorkspace(TestApiServer& server, const std::filesystem::path& d) {
  for (const auto& f : watch::manifestFiles(d / "manifests")) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = watch::parseDocuments(ss.str(), f.string());
    if (!docs) throw std::runtime_error(docs.error().message);
    for (auto& doc : *docs) {
      std::string kind = doc.value("kind", "");
      server.upsert(kind == "Service" ? "services" : kind == "EndpointSlice" ? "endpointslices" : "nodes", doc);
    }
  }
  std::filesystem::create_directories(d / "pki");
  std::ofstream(d / "pki" / "ca.crt") << server.pki().ca.pem.certPem;
  std::ofstream(d / "pki" / "token") << "t0ken-v1\n";
  std::ofstream(d / "kubeconfig") << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                                     "clusters: [{name: k, cluster: {server: \""
                                  << server.url()
                                  << "\", certificate-authority: pki/ca.crt}}]\n"
                                     "users: [{name: u, user: {tokenFile: pki/token}}]\n"
                                     "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
  return (d / "kubeconfig").string();
}

}  // namespace hnsproxy::test

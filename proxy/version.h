// The versions this build reports: the Kubernetes release it matches (--version, /metrics
// kubernetes_build_info, the User-Agent) and hnsproxy's own.
#pragma once

#include <string>

namespace hnsproxy::proxy {

const char* kubernetesVersion();  // "v1.35.0"
const char* hnsproxyVersion();    // "0.1.0"
const char* platform();           // "windows/amd64", "linux/amd64"
// kube-proxy/v1.35.0 (windows/amd64) hnsproxy/0.1.0
std::string userAgent();
// --version (Kubernetes vX, then hnsproxy X), --version=raw (upstream's struct), --version=vX.
std::string versionText(const std::string& flagValue);

}  // namespace hnsproxy::proxy

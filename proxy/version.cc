#include "proxy/version.h"

#include <fmt/format.h>

#ifndef HNSPROXY_KUBE_VERSION
#define HNSPROXY_KUBE_VERSION "v1.35.0"
#endif
#ifndef HNSPROXY_VERSION
#define HNSPROXY_VERSION "0.1.0"
#endif

namespace hnsproxy::proxy {

const char* kubernetesVersion() { return HNSPROXY_KUBE_VERSION; }
const char* hnsproxyVersion() { return HNSPROXY_VERSION; }

const char* platform() {
#ifdef _WIN32
  return "windows/amd64";
#else
  return "linux/amd64";
#endif
}

std::string userAgent() {
  return fmt::format("kube-proxy/{} ({}) hnsproxy/{}", kubernetesVersion(), platform(), hnsproxyVersion());
}

std::string versionText(const std::string& v) {
  if (v == "raw")
    return fmt::format(
        "version.Info{{Major:\"1\", Minor:\"35\", GitVersion:\"{}\", GitCommit:\"\", GitTreeState:\"\", "
        "BuildDate:\"\", GoVersion:\"\", Compiler:\"gcc\", Platform:\"{}\"}}\nhnsproxy {}\n",
        kubernetesVersion(), platform(), hnsproxyVersion());
  return fmt::format("Kubernetes {}\nhnsproxy {}\n", v == "true" ? std::string(kubernetesVersion()) : v,
                     hnsproxyVersion());
}

}  // namespace hnsproxy::proxy

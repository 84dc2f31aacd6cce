// A kubeconfig file as kube-proxy reads it (--kubeconfig): YAML or JSON, clusters, users, contexts,
// inline or file-referenced credentials. Bad input is an error naming what was wrong.
#include <cstdlib>

#include "fuzz_util.h"
#include "watch/kubeconfig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = hnsproxy::fuzz::writeScratch("kubeconfig", data, size);
  auto c = hnsproxy::watch::loadKubeconfig(path);
  if (!c && c.error().message.empty()) std::abort();
  return 0;
}

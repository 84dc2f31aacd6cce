// A KubeProxyConfiguration file (--config): strict then lenient decoding, every field validated.
// What loads must also survive validate() and render back (--write-config-to, /configz).
#include <cstdlib>

#include "fuzz_util.h"
#include "proxy/options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hnsproxy::proxy;
  const std::string& path = hnsproxy::fuzz::writeScratch("config.yaml", data, size);
  Options o;
  std::vector<std::string> notes;
  auto st = loadConfigFile(path, o, notes);
  if (!st) {
    if (st.error().message.empty()) std::abort();
    return 0;
  }
  (void)validate(o);
  (void)configYaml(o);
  (void)configJson(o);
  (void)flagLines(o);
  return 0;
}

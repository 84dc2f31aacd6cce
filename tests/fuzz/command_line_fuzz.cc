// kube-proxy's command line as pflag parses it: the input is split into arguments at NUL bytes.
#include <cstdlib>
#include <vector>

#include "fuzz_util.h"
#include "proxy/options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hnsproxy::proxy;
  std::string in = hnsproxy::fuzz::text(data, size);
  std::vector<std::string> args{"kube-proxy"};
  std::size_t start = 0;
  for (std::size_t i = 0; i <= in.size(); ++i)
    if (i == in.size() || in[i] == '\0') {
      args.push_back(in.substr(start, i - start));
      start = i + 1;
    }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  auto parsed = parseCommandLine(static_cast<int>(argv.size()), argv.data());
  if (!parsed) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  (void)runsAsWindowsService(static_cast<int>(argv.size()), argv.data());
  (void)validate(parsed->options);
  (void)flagLines(parsed->options);
  return 0;
}

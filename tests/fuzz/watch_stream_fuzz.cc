// The watch stream of the API server as the reflector reads it: the body arrives in chunks of any
// size (the fuzzer chooses where the stream is split), is cut into event lines with the 16 MiB
// bound, and each event is decoded, applied to the reflector's cache and delivered. Every input
// ends in delivered objects, skipped malformed events or an ended stream — never a crash.
#include <cstdlib>

#include <fuzzer/FuzzedDataProvider.h>

#include "watch/line_splitter.h"
#include "watch/reflector.h"

namespace {

using namespace hnsproxy;

struct CountingSink : watch::EventSink {
  std::size_t events = 0;
  void upsertService(policy::Service) override { ++events; }
  void deleteService(const policy::ServiceName&) override { ++events; }
  void upsertSlice(policy::EndpointSlice) override { ++events; }
  void deleteSlice(const std::string&, const std::string&) override { ++events; }
  void upsertNode(policy::Node) override { ++events; }
  void deleteNode(const std::string&) override { ++events; }
  void synced(watch::Resource) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const int which = in.ConsumeIntegralInRange(0, 2);
  watch::ResourceSpec spec = which == 0   ? watch::servicesSpec()
                             : which == 1 ? watch::endpointSlicesSpec()
                                          : watch::nodeSpec("win-node-1");
  watch::ClientConfig cfg;
  cfg.server = "http://127.0.0.1:1";  // never contacted: lines are handed to the reflector directly
  auto client = watch::ApiClient::create(cfg, "fuzz");
  if (!client) std::abort();
  CountingSink sink;
  watch::Reflector r(std::move(client).value(), spec, sink, [](char, const std::string& m) {
    if (m.empty()) std::abort();
  });
  watch::LineSplitter lines(1u << 20);
  bool ended = false;
  while (in.remaining_bytes() > 0 && !ended) {
    std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
    std::string chunk = in.ConsumeBytesAsString(n);
    auto res = lines.feed(chunk, [&](std::string_view line) {
      return r.handleWatchLine(line) == watch::Reflector::LineResult::Continue;
    });
    ended = res != watch::LineSplitter::Result::More;
  }
  if (!ended) lines.finish([&](std::string_view line) { return r.handleWatchLine(line) == watch::Reflector::LineResult::Continue; });
  (void)r.resourceVersion();
  return 0;
}

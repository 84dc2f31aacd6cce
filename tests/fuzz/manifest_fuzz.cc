// Kubernetes objects from a manifest file: YAML (multi-document, anchors and aliases, tags) or JSON,
// `kind: List` (nested), decoded into Services, EndpointSlices and Nodes. Whatever the input, the
// result is objects and errors naming file and line — never a crash, a hang, or unbounded memory.
#include <cstdlib>

#include "fuzz_util.h"
#include "watch/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = hnsproxy::watch::parseManifest(hnsproxy::fuzz::text(data, size), "fuzz.yaml");
  // A file that did not parse delivers nothing (its previous objects are kept by the caller).
  if (f.syntaxError && !f.objects.empty()) std::abort();
  for (const auto& e : f.errors)
    if (e.file != "fuzz.yaml" || e.message.empty()) std::abort();
  for (const auto& o : f.objects) (void)hnsproxy::watch::describe(o.object);
  return 0;
}

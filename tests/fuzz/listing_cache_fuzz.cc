// The listing cache file (--hns-listing-cache) as a restart reads it: a damaged file (cut short,
// edited, another program's) is an error naming the file and line, never a crash; whatever loads
// is a set of documents a listing can use.
#include <cstdlib>

#include "fuzz_util.h"
#include "hns/reconcile/listing_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = hnsproxy::fuzz::writeScratch("listing-cache", data, size);
  auto c = hnsproxy::hns::loadListingCache(path);
  if (!c) {
    if (c.error().message.find(path) == std::string::npos) std::abort();
    return 0;
  }
  // Marks only ever remove entries: what loaded cannot have grown past what the file holds.
  if (c->loadBalancers.size() + c->endpoints.size() > size) std::abort();
  return 0;
}

// What HNS answers, as hnsproxy reads it: HCN v2 JSON documents for networks, endpoints and load
// balancers (keys in any case, policies with settings), and a whole node snapshot. A document HNS
// could send that does not fit is an error naming the field, never a crash.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "hns/hcn_json.h"
#include "hns/translate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hnsproxy::hns;
  auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  if (auto n = networkFromJson(j)) {
    (void)toJson(*n);
    (void)networkInfoFrom(*n);
  }
  if (auto e = endpointFromJson(j)) {
    (void)toJson(*e);
    (void)providerAddressOf(e->policies);
  }
  if (auto l = loadBalancerFromJson(j)) {
    auto back = loadBalancerFromJson(toJson(*l));  // what we write, we read back the same
    if (!back || !(*back == *l)) std::abort();
  }
  if (auto s = snapshotFromJson(j)) (void)toJson(*s);
  return 0;
}

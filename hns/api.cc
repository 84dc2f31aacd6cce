#include "hns/api.h"
#include "hns/hcn_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hns/query_all.h"

namespace hnsproxy::hns {

std::string defaultQuery() { return R"({"SchemaVersion":{"Major":2,"Minor":0}})"; }

std::string filterQuery(const nlohmann::json& filter) {
  return nlohmann::json{{"SchemaVersion", {{"Major", 2}, {"Minor", 0}}}, {"Filter", filter.dump()}}.dump();
}

const char* toString(ObjectKind k) {
  switch (k) {
    case ObjectKind::Network: return "Network";
    case ObjectKind::Endpoint: return "Endpoint";
    case ObjectKind::LoadBalancer: return "LoadBalancer";
  }
  return "?";
}

ErrorCode classifyHresult(std::uint32_t hr) {
  switch (hr) {
    case hcn::kErrorNotFound:
    case hcn::kHcnEndpointNotFound: return ErrorCode::NotFound;
    // The network an endpoint create (or any call on a network handle) needs is gone: the CNI
    // deleted or re-created it. The caller re-reads the host instead of retrying.
    case hcn::kHcnNetworkNotFound: return ErrorCode::NetworkNotFound;
    case hcn::kErrorAlreadyExists: return ErrorCode::AlreadyExists;
    case hcn::kHcnPortAlreadyExists: return ErrorCode::PortInUse;
    case hcn::kENotImpl: return ErrorCode::NotImplemented;
    case hcn::kEInvalidArg:
    case hcn::kHcnInvalidJson:
    case hcn::kHcnInvalidJsonReference:
    case hcn::kHcnInvalidIp:
    case hcn::kHcnEntityHasReferences:
    case hcn::kHcnAddrInvalidOrReserved:  // HCN_E_ADDR_INVALID_OR_RESERVED (a source VIP inside the pod IPAM range, #100962)
      return ErrorCode::InvalidArgument;
    default: return ErrorCode::Transient;  // service stopping, RPC failures, anything unknown: retry
  }
}

std::string errorRecordText(const std::string& record) {
  std::string text = record;
  auto j = nlohmann::json::parse(record, nullptr, false);
  if (const auto* e = member(j, "Error"); e && e->is_string()) text = e->get<std::string>();
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Error hcnError(const std::string& function, std::uint32_t hr, const std::string& recordText) {
  return Error(classifyHresult(hr), fmt::format("{} failed: {}", function, recordText), hr);
}

Result<std::vector<policy::HostAdapter>> Api::hostAdapters() {
  return Error(ErrorCode::NotImplemented, "this HNS backend cannot list the host's network adapters");
}

Result<std::unique_ptr<Subscription>> Api::subscribe(NotificationHandler) {
  return Error(ErrorCode::InvalidInput, "this HNS backend sends no service notifications");
}

}  // namespace hnsproxy::hns

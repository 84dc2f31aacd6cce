#include "hns/api.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hnsproxy::hns {

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
    case kErrorNotFound:
    case kHcnNetworkNotFound:
    case kHcnEndpointNotFound: return ErrorCode::NotFound;
    case kErrorAlreadyExists: return ErrorCode::AlreadyExists;
    case kHcnPortAlreadyExists: return ErrorCode::PortInUse;
    case kENotImpl: return ErrorCode::NotImplemented;
    case kEInvalidArg:
    case kHcnInvalidJson:
    case kHcnInvalidJsonReference:
    case kHcnInvalidIp:
    case kHcnEntityHasReferences:
    case 0x803B002F:  // HCN_E_ADDR_INVALID_OR_RESERVED (a source VIP inside the pod IPAM range, #100962)
      return ErrorCode::InvalidArgument;
    default: return ErrorCode::Transient;  // service stopping, RPC failures, anything unknown: retry
  }
}

std::string errorRecordText(const std::string& record) {
  std::string text = record;
  auto j = nlohmann::json::parse(record, nullptr, false);
  if (j.is_object() && j.contains("Error") && j["Error"].is_string()) text = j["Error"].get<std::string>();
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Error hcnError(const std::string& function, std::uint32_t hr, const std::string& recordText) {
  return Error(classifyHresult(hr), fmt::format("{} failed: {}", function, recordText), hr);
}

}  // namespace hnsproxy::hns

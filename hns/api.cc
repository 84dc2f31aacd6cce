#include "hns/api.h"

#include <fmt/format.h>

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
    case kHcnEntityHasReferences: return ErrorCode::InvalidArgument;
    default: return ErrorCode::Transient;  // service stopping, RPC failures, anything unknown: retry
  }
}

Error hcnError(const std::string& function, std::uint32_t hr, const std::string& recordText) {
  return Error(classifyHresult(hr), fmt::format("{} failed: {}", function, recordText), hr);
}

}  // namespace hnsproxy::hns

// The HNS seam: the computenetwork.dll functions hnsproxy uses, over HCN v2 JSON documents.
// Implementations: HcnApi (Windows, computenetwork.dll) and SimulatedHns (in-memory).
// Contract: every call either succeeds with no error record, or fails with an Error whose
// hresult is the HRESULT HNS returned and whose message holds the error record's text.
// Not thread-safe unless an implementation says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/capabilities.h"
#include "policy/result.h"

namespace hnsproxy::hns {

enum class ObjectKind : std::uint8_t { Network, Endpoint, LoadBalancer };
const char* toString(ObjectKind k);

// HRESULTs (hcn-reference.md §1.5).
inline constexpr std::uint32_t kErrorNotFound = 0x80070490;        // ERROR_NOT_FOUND
inline constexpr std::uint32_t kErrorAlreadyExists = 0x800700B7;   // ERROR_ALREADY_EXISTS
inline constexpr std::uint32_t kEInvalidArg = 0x80070057;          // E_INVALIDARG
inline constexpr std::uint32_t kENotImpl = 0x80004001;             // E_NOTIMPL
inline constexpr std::uint32_t kHcnNetworkNotFound = 0x803B0001;
inline constexpr std::uint32_t kHcnEndpointNotFound = 0x803B0002;
inline constexpr std::uint32_t kHcnPortAlreadyExists = 0x803B0013;
inline constexpr std::uint32_t kHcnInvalidJson = 0x803B001B;
inline constexpr std::uint32_t kHcnInvalidJsonReference = 0x803B001C;
inline constexpr std::uint32_t kHcnInvalidIp = 0x803B001E;
inline constexpr std::uint32_t kHcnManagerStopped = 0x803B0020;
inline constexpr std::uint32_t kHcnEntityHasReferences = 0x803B002C;
inline constexpr std::uint32_t kRpcServerUnavailable = 0x800706BA;  // RPC_S_SERVER_UNAVAILABLE

// What the caller should do about an HRESULT.
ErrorCode classifyHresult(std::uint32_t hr);
// The text of an HCN ErrorRecord ({"ErrorCode":…,"Error":"…","Success":false}); the record
// itself when it is not such a document. Trailing spaces HNS leaves are trimmed.
std::string errorRecordText(const std::string& record);
// An Error for a failed HCN call: "<function> failed: <record text> (HRESULT 0x…)".
Error hcnError(const std::string& function, std::uint32_t hr, const std::string& recordText);

using Handle = std::uint64_t;

class Api {
 public:
  virtual ~Api() = default;
  // HcnEnumerate{Networks,Endpoints,LoadBalancers}: the IDs matching a HostComputeQuery.
  virtual Result<std::vector<std::string>> enumerate(ObjectKind kind, const std::string& query) = 0;
  // HcnOpen*: NotFound (0x80070490) for a missing object.
  virtual Result<Handle> open(ObjectKind kind, const std::string& id) = 0;
  // HcnQuery*Properties: the object's document.
  virtual Result<std::string> query(Handle h, const std::string& query) = 0;
  // HcnCreate*: `id` may be the zero GUID ("assign one"); endpoints need their network's handle.
  virtual Result<Handle> create(ObjectKind kind, const std::string& id, const std::string& settings,
                                Handle network = 0) = 0;
  // HcnModify*.
  virtual Status modify(Handle h, const std::string& settings) = 0;
  // HcnDelete*.
  virtual Status remove(ObjectKind kind, const std::string& id) = 0;
  // HcnClose*. Closing an unknown or already-closed handle is a no-op.
  virtual void close(Handle h) = 0;
  // vmcompute.dll HNSCall GET /globals/version.
  virtual Result<policy::HnsVersion> version() = 0;
};

}  // namespace hnsproxy::hns

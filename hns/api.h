// The HNS seam: the computenetwork.dll functions hnsproxy uses, over HCN v2 JSON documents.
// Implementations: HcnApi (Windows, computenetwork.dll) and SimulatedHns (in-memory).
// Contract: every call either succeeds with no error record, or fails with an Error whose
// hresult is the HRESULT HNS returned and whose message holds the error record's text.
// Not thread-safe unless an implementation says so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hns/hcn_codes.h"
#include "policy/capabilities.h"
#include "policy/host.h"
#include "policy/result.h"

namespace hnsproxy::hns {

enum class ObjectKind : std::uint8_t { Network, Endpoint, LoadBalancer };
const char* toString(ObjectKind k);

// What the caller should do about an HRESULT.
ErrorCode classifyHresult(std::uint32_t hr);
// The text of an HCN ErrorRecord ({"ErrorCode":…,"Error":"…","Success":false}); the record
// itself when it is not such a document. Trailing spaces HNS leaves are trimmed.
std::string errorRecordText(const std::string& record);
// An Error for a failed HCN call: "<function> failed: <record text> (HRESULT 0x…)".
Error hcnError(const std::string& function, std::uint32_t hr, const std::string& recordText);

using Handle = std::uint64_t;

// An HNS service notification (HcnRegisterServiceCallback, computenetwork.h): its
// HCN_NOTIFICATIONS type (hcn::kNotification*) and the data HNS attached, if any.
struct ServiceNotification {
  std::uint32_t type = 0;
  std::string data;
};
using NotificationHandler = std::function<void(const ServiceNotification&)>;
// A registration; destroying it unregisters (no call of the handler starts after the destructor
// returns).
class Subscription {
 public:
  virtual ~Subscription() = default;
};

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
  // HcnRegisterServiceCallback: `handler` runs for each notification, on a thread of HNS's (so it
  // should only signal), until the Subscription is destroyed. A backend that has no notifications
  // (the hnssim socket) returns an error; this default.
  virtual Result<std::unique_ptr<Subscription>> subscribe(NotificationHandler handler);
  // The host's network adapters (not an HNS call: GetAdaptersAddresses on Windows, the state file's
  // "HostAdapters" in the simulator), for the overlay's host MAC. A backend that cannot list them
  // returns NotImplemented; this default.
  virtual Result<std::vector<policy::HostAdapter>> hostAdapters();
};

}  // namespace hnsproxy::hns

// Declares every Api function in an implementation (the interface above is the documentation):
//   class SimulatedHns final : public Api { public: HNSPROXY_HNS_API_OVERRIDES ... };
#define HNSPROXY_HNS_API_OVERRIDES                                                                                  \
  ::hnsproxy::Result<std::vector<std::string>> enumerate(::hnsproxy::hns::ObjectKind kind, const std::string& query) \
      override;                                                                                                     \
  ::hnsproxy::Result<::hnsproxy::hns::Handle> open(::hnsproxy::hns::ObjectKind kind, const std::string& id)         \
      override;                                                                                                     \
  ::hnsproxy::Result<std::string> query(::hnsproxy::hns::Handle h, const std::string& query) override;              \
  ::hnsproxy::Result<::hnsproxy::hns::Handle> create(::hnsproxy::hns::ObjectKind kind, const std::string& id,       \
                                                     const std::string& settings, ::hnsproxy::hns::Handle network)  \
      override;                                                                                                     \
  ::hnsproxy::Status modify(::hnsproxy::hns::Handle h, const std::string& settings) override;                       \
  ::hnsproxy::Status remove(::hnsproxy::hns::ObjectKind kind, const std::string& id) override;                      \
  void close(::hnsproxy::hns::Handle h) override;                                                                   \
  ::hnsproxy::Result<::hnsproxy::policy::HnsVersion> version() override;

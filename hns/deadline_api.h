// Every HNS call with a deadline (HNS calls can hang, e.g. kubernetes/kubernetes#109162 — an HNS service stuck
// on a VFP port, an RPC that never returns). A call past its deadline returns a Transient error
// (HRESULT ERROR_TIMEOUT) naming the function and the object, so the sync loop, and the shutdown,
// never wait on HNS longer than the deadline.
//
// The call itself cannot be cancelled: it goes on on a worker thread. While any call is late, the
// next calls fail at once (HNS is hung; piling more calls onto it helps nothing, and an answer to a
// new call could overtake the late one). When a late call does return, its handle (if it opened or
// created one) is closed and `onLateResult` is told: the caller then re-reads HNS (the reconciler's
// verification), so a create that succeeded late is adopted rather than created twice, and nothing
// it did is lost.
//
// Thread-safe. The inner Api is shared with the workers, so a late call that returns after this
// wrapper is gone still has an Api to close its handle on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hns/api.h"

namespace hnsproxy::hns {

class DeadlineApi final : public Api {
 public:
  // function ("HcnCreateLoadBalancer"), object ("LoadBalancer 5111A7ED-…"), how long it took, and
  // whether HNS reported success.
  using LateHandler = std::function<void(const std::string& function, const std::string& object,
                                         std::chrono::milliseconds took, bool succeeded)>;

  // A call passed its deadline (called on the caller's thread, as the call returns its error).
  using TimeoutHandler = std::function<void(const std::string& function, const std::string& object)>;

  // `deadline` 0: none (calls still run on a worker, so that a stop abandons a hung one).
  DeadlineApi(std::shared_ptr<Api> inner, std::chrono::milliseconds deadline);
  ~DeadlineApi() override;

  HNSPROXY_HNS_API_OVERRIDES
  Result<std::unique_ptr<Subscription>> subscribe(NotificationHandler handler) override;
  Result<std::vector<policy::HostAdapter>> hostAdapters() override;

  // Replaces the late-result handler (empty: none), and returns once no call of the old one is
  // running. The handler runs on the worker thread that saw the late return and must not call
  // back into this Api or setLateHandler.
  void setLateHandler(LateHandler h);
  void setTimeoutHandler(TimeoutHandler h);
  // Shutdown: once `stop` returns true (it is polled every 50 ms while a call waits), the call in
  // flight is abandoned as a late one is — its thread goes on, what it made is re-read by whoever
  // reads HNS next — and new calls fail at once, so a stop during a hung HNS call is honoured
  // within a fraction of a second, not at the deadline.
  void setStop(std::function<bool()> stop);
  std::uint64_t timedOut() const;  // calls that passed their deadline
  int outstanding() const;         // late calls not yet returned

  struct Shared;

 private:
  template <typename T, typename Call>
  // `attempted`: set when the call was handed to a worker (not refused because HNS is not
  // answering or kube-proxy is stopping).
  Result<T> call(const std::string& function, const std::string& object, Call&& c, bool* attempted = nullptr);
  std::string objectOf(Handle h) const;

  std::shared_ptr<Shared> shared_;
};

}  // namespace hnsproxy::hns

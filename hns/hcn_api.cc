// Contract of computenetwork.dll as hcsshim's hcn/zsyscall_windows.go and hcnerrors.go use it: strings are UTF-16; every string HNS returns (result and
// error record) is freed with CoTaskMemFree; a call fails when the HRESULT is negative or the
// error record is non-empty; every handle opened is closed by close().
#ifdef _WIN32

#include "hns/hcn_api.h"
#include "hns/hcn_json.h"
#include "hns/utf16.h"

#include <winsock2.h>  // before windows.h, as iphlpapi.h needs
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <objbase.h>

#include <cstdio>
#include <map>
#include <optional>
#include <vector>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace hnsproxy::hns {

namespace {

using HcnHandle = void*;
using EnumerateFn = HRESULT(WINAPI*)(PCWSTR query, PWSTR* result, PWSTR* errorRecord);
using OpenFn = HRESULT(WINAPI*)(const GUID& id, HcnHandle* handle, PWSTR* errorRecord);
using QueryFn = HRESULT(WINAPI*)(HcnHandle handle, PCWSTR query, PWSTR* properties, PWSTR* errorRecord);
using CreateFn = HRESULT(WINAPI*)(const GUID& id, PCWSTR settings, HcnHandle* handle, PWSTR* errorRecord);
using CreateEndpointFn = HRESULT(WINAPI*)(HcnHandle network, const GUID& id, PCWSTR settings, HcnHandle* handle,
                                          PWSTR* errorRecord);
using ModifyFn = HRESULT(WINAPI*)(HcnHandle handle, PCWSTR settings, PWSTR* errorRecord);
using DeleteFn = HRESULT(WINAPI*)(const GUID& id, PWSTR* errorRecord);
using CloseFn = HRESULT(WINAPI*)(HcnHandle handle);
using HnsCallFn = HRESULT(WINAPI*)(PCWSTR method, PCWSTR path, PCWSTR object, PWSTR* response);
using NotificationCallback = void(CALLBACK*)(DWORD type, void* context, HRESULT status, PCWSTR data);
using RegisterCallbackFn = HRESULT(WINAPI*)(NotificationCallback callback, void* context, HcnHandle* registration);
using UnregisterCallbackFn = HRESULT(WINAPI*)(HcnHandle registration);

// Takes ownership of a string HNS allocated: converts it and frees it.
std::string take(PWSTR& w) {
  std::string s = narrow(w);
  if (w) CoTaskMemFree(w);
  w = nullptr;
  return s;
}

std::optional<GUID> parseGuid(const std::string& text) {
  std::string s = normalizeGuid(text);
  GUID g{};
  unsigned long d1 = 0;
  unsigned int d2 = 0, d3 = 0, b[8] = {};
  if (std::sscanf(s.c_str(), "%8lx-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x", &d1, &d2, &d3, &b[0], &b[1], &b[2], &b[3],
                  &b[4], &b[5], &b[6], &b[7]) != 11)
    return std::nullopt;
  g.Data1 = d1;
  g.Data2 = static_cast<unsigned short>(d2);
  g.Data3 = static_cast<unsigned short>(d3);
  for (int i = 0; i < 8; ++i) g.Data4[i] = static_cast<unsigned char>(b[i]);
  return g;
}

class HcnApi final : public Api {
 public:
  struct Table {
    EnumerateFn enumerate[3];
    OpenFn open[3];
    QueryFn query[3];
    CreateFn createNetwork, createLoadBalancer;
    CreateEndpointFn createEndpoint;
    ModifyFn modify[3];
    DeleteFn remove[3];
    CloseFn close[3];
    HnsCallFn hnsCall;
    // Optional: without them (an HNS that lacks notifications) subscribe() reports an error.
    RegisterCallbackFn registerCallback;
    UnregisterCallbackFn unregisterCallback;
  };
  explicit HcnApi(const Table& t) : t_(t) {}

  Result<std::vector<std::string>> enumerate(ObjectKind kind, const std::string& query) override {
    PWSTR out = nullptr, err = nullptr;
    std::wstring q = widen(query);
    HRESULT hr = t_.enumerate[idx(kind)](q.c_str(), &out, &err);
    std::string result = take(out), record = take(err);
    if (auto e = failure(name("HcnEnumerate", kind, "s"), hr, record)) return *e;
    auto ids = parseIdList(result);
    if (!ids) return Error(ErrorCode::Transient, name("HcnEnumerate", kind, "s") + " returned a non-list: " + result.substr(0, 200));
    return ids;
  }

  Result<Handle> open(ObjectKind kind, const std::string& id) override {
    auto g = parseGuid(id);
    if (!g) return Error(ErrorCode::InvalidArgument, "not a GUID: " + id);
    HcnHandle h = nullptr;
    PWSTR err = nullptr;
    HRESULT hr = t_.open[idx(kind)](*g, &h, &err);
    if (auto e = failure(name("HcnOpen", kind), hr, take(err))) {
      if (h) t_.close[idx(kind)](h);  // S_OK with an error record: the handle is still ours to close
      return *e;
    }
    return remember(kind, h);
  }

  Result<std::string> query(Handle h, const std::string& query) override {
    auto it = handles(h);
    if (!it) return Error(ErrorCode::InvalidArgument, "unknown handle");
    PWSTR out = nullptr, err = nullptr;
    std::wstring q = widen(query);
    HRESULT hr = t_.query[idx(it->first)](it->second, q.c_str(), &out, &err);
    std::string result = take(out), record = take(err);
    if (auto e = failure(name("HcnQuery", it->first, "Properties"), hr, record)) return *e;
    return result;
  }

  Result<Handle> create(ObjectKind kind, const std::string& id, const std::string& settings, Handle network) override {
    auto g = parseGuid(id.empty() ? kZeroGuid : id);
    if (!g) return Error(ErrorCode::InvalidArgument, "not a GUID: " + id);
    std::wstring s = widen(settings);
    HcnHandle h = nullptr;
    PWSTR err = nullptr;
    HRESULT hr = E_FAIL;
    switch (kind) {
      case ObjectKind::Network: hr = t_.createNetwork(*g, s.c_str(), &h, &err); break;
      case ObjectKind::LoadBalancer: hr = t_.createLoadBalancer(*g, s.c_str(), &h, &err); break;
      case ObjectKind::Endpoint: {
        auto net = handles(network);
        if (!net || net->first != ObjectKind::Network) return Error(ErrorCode::InvalidArgument, "no network handle");
        hr = t_.createEndpoint(net->second, *g, s.c_str(), &h, &err);
        break;
      }
    }
    if (auto e = failure(name("HcnCreate", kind), hr, take(err))) {
      if (h) t_.close[idx(kind)](h);
      return *e;
    }
    return remember(kind, h);
  }

  Status modify(Handle h, const std::string& settings) override {
    auto it = handles(h);
    if (!it) return Error(ErrorCode::InvalidArgument, "unknown handle");
    std::wstring s = widen(settings);
    PWSTR err = nullptr;
    HRESULT hr = t_.modify[idx(it->first)](it->second, s.c_str(), &err);
    if (auto e = failure(name("HcnModify", it->first), hr, take(err))) return *e;
    return Ok{};
  }

  Status remove(ObjectKind kind, const std::string& id) override {
    auto g = parseGuid(id);
    if (!g) return Error(ErrorCode::InvalidArgument, "not a GUID: " + id);
    PWSTR err = nullptr;
    HRESULT hr = t_.remove[idx(kind)](*g, &err);
    if (auto e = failure(name("HcnDelete", kind), hr, take(err))) return *e;
    return Ok{};
  }

  // The handle leaves the table under the lock; the HNS call is made outside it, so a slow or
  // hung close never serialises other threads' calls.
  void close(Handle h) override {
    std::pair<ObjectKind, HcnHandle> entry;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = open_.find(h);
      if (it == open_.end()) return;
      entry = it->second;
      open_.erase(it);
    }
    t_.close[idx(entry.first)](entry.second);
  }

  Result<policy::HnsVersion> version() override {
    PWSTR out = nullptr;
    HRESULT hr = t_.hnsCall(L"GET", L"/globals/version", L"", &out);
    std::string response = take(out);
    if (FAILED(hr)) return hcnError("HNSCall GET /globals/version", static_cast<std::uint32_t>(hr), response);
    // {"Success":true,"Error":"","Output":{"Major":M,"Minor":m}}; hcsshim tolerates null Error and
    // Output (a null Output reads as version 0.0: no V2 API, which start-up then reports).
    auto j = nlohmann::json::parse(response, nullptr, false);
    const auto* ok = member(j, "Success");
    if (!j.is_object() || !ok || !ok->is_boolean() || !ok->get<bool>()) {
      const auto* e = member(j, "Error");
      return Error(ErrorCode::Transient,
                   "HNS failed with error : " + (e && e->is_string() ? e->get<std::string>() : response));
    }
    policy::HnsVersion v;
    if (const auto* o = member(j, "Output"); o && o->is_object()) {
      if (const auto* m = member(*o, "Major"); m && m->is_number_unsigned()) v.major = m->get<std::uint32_t>();
      if (const auto* m = member(*o, "Minor"); m && m->is_number_unsigned()) v.minor = m->get<std::uint32_t>();
    }
    return v;
  }

  // GetAdaptersAddresses: each adapter's MAC (HNS's dash form) and unicast addresses, as upstream
  // reads them from Go's net.Interfaces to find the NIC that owns the node IP.
  Result<std::vector<policy::HostAdapter>> hostAdapters() override {
    const ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
    ULONG size = 16 * 1024;
    std::vector<unsigned char> buf;
    ULONG rc = ERROR_BUFFER_OVERFLOW;
    for (int attempt = 0; attempt < 4 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {  // it can grow between calls
      buf.assign(size, 0);
      rc = GetAdaptersAddresses(AF_UNSPEC, flags, nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()), &size);
    }
    if (rc != NO_ERROR)
      return Error(ErrorCode::Transient, "GetAdaptersAddresses failed: error " + std::to_string(rc), rc);
    std::vector<policy::HostAdapter> out;
    for (auto* a = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()); a; a = a->Next) {
      if (a->PhysicalAddressLength != 6) continue;  // loopback, tunnels: no MAC to give an endpoint
      policy::HostAdapter ad;
      ad.name = a->FriendlyName ? narrow(a->FriendlyName) : std::string();
      char mac[18];
      std::snprintf(mac, sizeof mac, "%02X-%02X-%02X-%02X-%02X-%02X", a->PhysicalAddress[0], a->PhysicalAddress[1],
                    a->PhysicalAddress[2], a->PhysicalAddress[3], a->PhysicalAddress[4], a->PhysicalAddress[5]);
      ad.mac = mac;
      for (auto* u = a->FirstUnicastAddress; u; u = u->Next) {
        const sockaddr* sa = u->Address.lpSockaddr;
        if (!sa) continue;
        if (sa->sa_family == AF_INET)
          ad.ips.push_back(policy::IpAddress::fromBytes(
              policy::IpFamily::V4, reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)));
        else if (sa->sa_family == AF_INET6)
          ad.ips.push_back(policy::IpAddress::fromBytes(
              policy::IpFamily::V6, reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr)));
      }
      out.push_back(std::move(ad));
    }
    return out;
  }

  // HcnRegisterServiceCallback. The context is a heap object the registration owns; HNS calls back
  // on its own thread, and HcnUnregisterServiceCallback returns once no callback is running.
  Result<std::unique_ptr<Subscription>> subscribe(NotificationHandler handler) override {
    if (!t_.registerCallback || !t_.unregisterCallback)
      return Error(ErrorCode::InvalidInput, "computenetwork.dll has no HcnRegisterServiceCallback");
    struct Registration final : Subscription {
      NotificationHandler handler;
      UnregisterCallbackFn unregister = nullptr;
      HcnHandle handle = nullptr;
      ~Registration() override {
        if (handle) unregister(handle);
      }
      static void CALLBACK onNotification(DWORD type, void* context, HRESULT, PCWSTR data) {
        static_cast<Registration*>(context)->handler(ServiceNotification{static_cast<std::uint32_t>(type), narrow(data)});
      }
    };
    auto r = std::make_unique<Registration>();
    r->handler = std::move(handler);
    r->unregister = t_.unregisterCallback;
    HRESULT hr = t_.registerCallback(&Registration::onNotification, r.get(), &r->handle);
    if (FAILED(hr)) {
      r->handle = nullptr;
      return hcnError("HcnRegisterServiceCallback", static_cast<std::uint32_t>(hr), "");
    }
    return std::unique_ptr<Subscription>(std::move(r));
  }

  ~HcnApi() override {
    for (auto& [h, obj] : open_) t_.close[idx(obj.first)](obj.second);
  }

 private:
  static int idx(ObjectKind k) { return static_cast<int>(k); }
  // "HcnOpenLoadBalancer", "HcnEnumerateEndpoints", "HcnQueryNetworkProperties": the function's
  // name in errors, as the simulator names them.
  static std::string name(const char* verb, ObjectKind k, const char* suffix = "") {
    return std::string(verb) + toString(k) + suffix;
  }
  static std::optional<Error> failure(const std::string& fn, HRESULT hr, const std::string& record) {
    if (!FAILED(hr) && record.empty()) return std::nullopt;
    std::uint32_t code = FAILED(hr) ? static_cast<std::uint32_t>(hr) : hcn::kEFail;  // only a record: E_FAIL
    return hcnError(fn, code, errorRecordText(record));
  }
  Handle remember(ObjectKind kind, HcnHandle h) {
    std::lock_guard<std::mutex> lock(mu_);
    Handle id = next_++;
    open_[id] = {kind, h};
    return id;
  }
  std::optional<std::pair<ObjectKind, HcnHandle>> handles(Handle h) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(h);
    if (it == open_.end()) return std::nullopt;
    return it->second;
  }

  Table t_;
  std::mutex mu_;
  std::map<Handle, std::pair<ObjectKind, HcnHandle>> open_;
  Handle next_ = 1;
};

template <typename F>
bool resolve(HMODULE dll, const char* name, F& out, std::string& missing) {
  out = reinterpret_cast<F>(reinterpret_cast<void*>(GetProcAddress(dll, name)));
  if (!out) missing += (missing.empty() ? "" : ", ") + std::string(name);
  return out != nullptr;
}

}  // namespace

Result<std::unique_ptr<Api>> makeHcnApi() {
  HMODULE hcn = LoadLibraryExW(L"computenetwork.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!hcn) return Error(ErrorCode::Internal, "cannot load computenetwork.dll (is the Containers feature installed?)");
  HMODULE vmc = LoadLibraryExW(L"vmcompute.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!vmc) return Error(ErrorCode::Internal, "cannot load vmcompute.dll");
  HcnApi::Table t{};
  std::string missing;
  const char* kinds[3] = {"Network", "Endpoint", "LoadBalancer"};
  for (int k = 0; k < 3; ++k) {
    std::string plural = std::string(kinds[k]) + "s";
    resolve(hcn, ("HcnEnumerate" + plural).c_str(), t.enumerate[k], missing);
    resolve(hcn, ("HcnOpen" + std::string(kinds[k])).c_str(), t.open[k], missing);
    resolve(hcn, ("HcnQuery" + std::string(kinds[k]) + "Properties").c_str(), t.query[k], missing);
    resolve(hcn, ("HcnModify" + std::string(kinds[k])).c_str(), t.modify[k], missing);
    resolve(hcn, ("HcnDelete" + std::string(kinds[k])).c_str(), t.remove[k], missing);
    resolve(hcn, ("HcnClose" + std::string(kinds[k])).c_str(), t.close[k], missing);
  }
  resolve(hcn, "HcnCreateNetwork", t.createNetwork, missing);
  resolve(hcn, "HcnCreateEndpoint", t.createEndpoint, missing);
  resolve(hcn, "HcnCreateLoadBalancer", t.createLoadBalancer, missing);
  resolve(vmc, "HNSCall", t.hnsCall, missing);
  std::string optional;  // notifications are a bonus: their absence is not an error
  resolve(hcn, "HcnRegisterServiceCallback", t.registerCallback, optional);
  resolve(hcn, "HcnUnregisterServiceCallback", t.unregisterCallback, optional);
  if (!missing.empty()) return Error(ErrorCode::Internal, "HNS exports missing: " + missing);
  return std::unique_ptr<Api>(new HcnApi(t));
}

}  // namespace hnsproxy::hns

#endif  // _WIN32

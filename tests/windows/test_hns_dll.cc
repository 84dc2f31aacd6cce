// Test builds of computenetwork.dll and vmcompute.dll: the project's simulator behind the real
// HCN C API, so that kube-proxy.exe's production HcnApi (LoadLibraryExW from System32, UTF-16
// JSON, CoTaskMem strings, error records, HRESULTs, handles) runs unchanged under wine.
//
// Built twice from this file: -DHNSTEST_COMPUTENETWORK (the Hcn* functions) and -DHNSTEST_VMCOMPUTE
// (HNSCall). Configured by the environment of the process that loads it:
// (each also read from System32\hnsproxy-test-hns.conf when the environment lacks it):
//   HNSPROXY_TEST_HNS_STATE   the simulator state file (a Windows path); read when it changes,
//                             written after every change. Shared by every process (a named mutex).
//   HNSPROXY_TEST_HNS_FAULTS  "HcnCreateLoadBalancer=803B0001x2;HcnOpenNetwork=800706BAx1": the next N
//                             calls of a function (in this process) fail with that HRESULT;
//                             "HcnCreateLoadBalancer=sleep3000x1": the next one hangs 3 s, then runs.
//   HNSPROXY_TEST_HNS_REPORT  a file to which every departure from hcsshim's conventions is
//                             appended (a query without SchemaVersion, an endpoint filter key
//                             hcsshim does not use, an unknown or double-closed handle, a handle
//                             still open at exit). The tests require it to stay empty.
//   HNSPROXY_TEST_HNS_EVENTS  a file the tests append lines to ("restart"): each new line is an HNS
//                             service restart — registered service callbacks get
//                             HcnNotificationServiceDisconnect, and handles opened before it fail.
#include <windows.h>
#include <objbase.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "hns/hcn_codes.h"
#include "hns/hcn_json.h"
#include "hns/query_all.h"
#include "hns/sim/simulated_hns.h"
#include "hns/utf16.h"

using nlohmann::json;
using namespace hnsproxy;
using namespace hnsproxy::hns;

namespace {

// A string for the caller, allocated as HNS does: CoTaskMemAlloc, freed by the caller's CoTaskMemFree.
PWSTR give(const std::string& s) {
  std::wstring w = widen(s);
  auto* out = static_cast<PWSTR>(CoTaskMemAlloc((w.size() + 1) * sizeof(wchar_t)));
  if (!out) return nullptr;
  std::wmemcpy(out, w.c_str(), w.size() + 1);
  return out;
}

// A setting: the process environment, else System32\hnsproxy-test-hns.conf (KEY=VALUE lines), which
// is how a process the service manager starts (no test environment) is configured.
std::string env(const char* name) {
  if (const char* v = std::getenv(name); v && *v) return v;
  wchar_t dir[MAX_PATH];
  UINT n = GetSystemDirectoryW(dir, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return "";
  std::ifstream in(std::filesystem::path(std::wstring(dir, n)) / "hnsproxy-test-hns.conf");
  std::string line, key = std::string(name) + "=";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

std::string guidText(const GUID& g) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", static_cast<unsigned long>(g.Data1),
                g.Data2, g.Data3, g.Data4[0], g.Data4[1], g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6],
                g.Data4[7]);
  return buf;
}

void report(const std::string& line) {
  std::string path = env("HNSPROXY_TEST_HNS_REPORT");
  if (path.empty()) return;
  std::ofstream(path, std::ios::app) << line << "\n";
}

// A handle as the caller sees it: the object it names, and the service generation it was opened in.
struct TestHandle {
  std::uint32_t magic = 0x484e5354;  // "HNST"
  ObjectKind kind;
  std::string id;
  std::uint64_t generation;
};

class Node {
 public:
  Node() : statePath_(env("HNSPROXY_TEST_HNS_STATE")), mutex_(CreateMutexW(nullptr, FALSE, L"Local\\hnsproxy-test-hns")) {
    parseFaults(env("HNSPROXY_TEST_HNS_FAULTS"));
  }

  // Runs `f` on the node's simulator, with the state file loaded if another process changed it,
  // and saved afterwards if `mutating`.
  template <typename F>
  auto with(const char* function, bool mutating, F&& f) -> decltype(f(std::declval<SimulatedHns&>())) {
    std::lock_guard<std::mutex> local(mu_);
    WaitForSingleObject(mutex_, INFINITE);
    struct Release {
      HANDLE m;
      ~Release() { ReleaseMutex(m); }
    } release{mutex_};
    reloadIfChanged();
    if (auto fault = takeFault(function)) {
      if (fault->sleepMs > 0) {
        Sleep(fault->sleepMs);  // a hung HNS: the call returns, late, with its real result
      } else {
        return Error(classifyHresult(fault->hr), std::string(function) + " failed: Injected failure. ", fault->hr);
      }
    }
    auto result = f(*sim_);
    if (mutating) save();
    return result;
  }

  std::uint64_t generation() {
    std::lock_guard<std::mutex> local(mu_);
    return generation_;
  }
  void restarted() {
    std::lock_guard<std::mutex> local(mu_);
    ++generation_;
  }

 private:
  void reloadIfChanged() {
    std::string stamp = fileStamp();
    if (sim_ && stamp == stamp_) return;
    HnsSnapshot snap;
    if (!stamp.empty()) {
      auto loaded = loadSnapshot(statePath_);
      if (!loaded) {
        report("state file unreadable: " + loaded.error().message);
      } else {
        snap = std::move(*loaded);
      }
    }
    sim_ = std::make_unique<SimulatedHns>(snap);
    stamp_ = stamp;
  }
  void save() {
    if (statePath_.empty()) return;
    if (auto st = saveSnapshot(sim_->snapshot(), statePath_); !st) report("state file not written: " + st.error().message);
    stamp_ = fileStamp();
  }
  // The state file's last write time and size ("" when there is none): what tells this process
  // that another one changed it.
  std::string fileStamp() const {
    WIN32_FILE_ATTRIBUTE_DATA a{};
    if (statePath_.empty() || !GetFileAttributesExW(widen(statePath_).c_str(), GetFileExInfoStandard, &a)) return "";
    return std::to_string(a.ftLastWriteTime.dwHighDateTime) + ":" + std::to_string(a.ftLastWriteTime.dwLowDateTime) +
           ":" + std::to_string(a.nFileSizeLow);
  }
  struct Fault {
    std::uint32_t hr = 0;
    DWORD sleepMs = 0;  // "sleep<ms>": the call hangs that long, then runs
    int left = 0;
  };
  void parseFaults(const std::string& spec) {
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ';')) {
      auto eq = item.find('='), x = item.rfind('x');
      if (eq == std::string::npos || x == std::string::npos || x < eq) continue;
      std::string what = item.substr(eq + 1, x - eq - 1);
      Fault f;
      f.left = std::stoi(item.substr(x + 1));
      if (what.rfind("sleep", 0) == 0) f.sleepMs = static_cast<DWORD>(std::stoul(what.substr(5)));
      else f.hr = static_cast<std::uint32_t>(std::stoul(what, nullptr, 16));
      faults_[item.substr(0, eq)].push_back(f);
    }
  }
  std::optional<Fault> takeFault(const std::string& function) {
    auto it = faults_.find(function);
    if (it == faults_.end()) return std::nullopt;
    for (auto& f : it->second)
      if (f.left > 0) {
        --f.left;
        return f;
      }
    return std::nullopt;
  }

  std::string statePath_;
  HANDLE mutex_;
  std::mutex mu_;
  std::unique_ptr<SimulatedHns> sim_;
  std::string stamp_;
  std::map<std::string, std::vector<Fault>> faults_;
  std::uint64_t generation_ = 0;
};

Node& node() {
  static Node n;
  return n;
}

// Open handles, to catch leaks, double closes and stale handles.
std::mutex handlesMu;
std::set<TestHandle*> liveHandles;

TestHandle* newHandle(ObjectKind kind, const std::string& id) {
  auto* h = new TestHandle{0x484e5354, kind, normalizeGuid(id), node().generation()};
  std::lock_guard<std::mutex> lock(handlesMu);
  liveHandles.insert(h);
  return h;
}

const char* kindName(ObjectKind k) { return toString(k); }

// An HNS failure as HNS reports it: the HRESULT, and the error record document.
HRESULT fail(const Error& e, PWSTR* errorRecord) {
  std::uint32_t hr = e.hresult ? e.hresult : hcn::kEFail;
  // The simulator's message is "<function> failed: <text>"; the record holds the text.
  std::string text = e.message;
  if (auto p = text.find(" failed: "); p != std::string::npos) text = text.substr(p + 9);
  if (errorRecord) *errorRecord = give(json{{"Error", text}, {"ErrorCode", hr}, {"Success", false}}.dump());
  return static_cast<HRESULT>(hr);
}

HRESULT invalidHandle(const std::string& function, PWSTR* errorRecord) {
  return fail(Error(ErrorCode::InvalidArgument, function + " failed: The handle is invalid. ", hcn::kEInvalidArg), errorRecord);
}

// `op` on the simulator's own handle to object `id`, opened and closed around it.
template <typename Op>
auto onObject(SimulatedHns& s, ObjectKind kind, const std::string& id, Op op) -> decltype(op(Handle{})) {
  auto sh = s.open(kind, id);
  if (!sh) return sh.error();
  auto r = op(*sh);
  s.close(*sh);
  return r;
}

HRESULT convention(const std::string& function, const std::string& what, PWSTR* errorRecord) {
  report(function + ": " + what);
  return fail(Error(ErrorCode::InvalidArgument, function + " failed: " + what, hcn::kEInvalidArg), errorRecord);
}

// hcsshim sends {"SchemaVersion":{"Major":2,"Minor":0}} (and a Filter) with every enumerate and
// query; HNS picks the output schema from it. Anything else is a convention failure.
std::optional<std::string> checkQuery(ObjectKind kind, const std::string& query) {
  json q = json::parse(query, nullptr, false);
  if (q.is_discarded() || !q.is_object()) return "the query is not a JSON document: \"" + query + "\"";
  const json* v = q.contains("SchemaVersion") ? &q["SchemaVersion"] : nullptr;
  if (!v || !v->is_object() || v->value("Major", 0) != 2) return "the query has no SchemaVersion 2.x: " + query;
  if (q.contains("Filter") && q["Filter"].is_string() && !q["Filter"].get<std::string>().empty()) {
    json f = json::parse(q["Filter"].get<std::string>(), nullptr, false);
    if (!f.is_object()) return "the Filter is not a JSON object: " + query;
    for (const auto& [key, value] : f.items()) {
      bool known = key == "ID" || key == "Name" || (kind == ObjectKind::Endpoint && key == "VirtualNetwork");
      if (!known) return "filter key \"" + key + "\" is not one hcsshim uses for " + kindName(kind) + "s: " + query;
    }
  }
  return std::nullopt;
}

TestHandle* checked(HANDLE raw, ObjectKind kind, const char* function) {
  auto* h = static_cast<TestHandle*>(raw);
  std::lock_guard<std::mutex> lock(handlesMu);
  if (!h || !liveHandles.count(h) || h->kind != kind) {
    report(std::string(function) + ": an unknown, closed or mistyped handle");
    return nullptr;
  }
  return h;
}

std::string functionName(const char* verb, ObjectKind k, const char* suffix = "") {
  return std::string(verb) + kindName(k) + suffix;
}

HRESULT enumerateObjects(ObjectKind kind, PCWSTR query, PWSTR* result, PWSTR* errorRecord) {
  std::string f = functionName("HcnEnumerate", kind, "s");
  if (result) *result = nullptr;
  if (errorRecord) *errorRecord = nullptr;
  std::string q = narrow(query);
  if (auto bad = checkQuery(kind, q)) return convention(f, *bad, errorRecord);
  auto ids = node().with(f.c_str(), false, [&](SimulatedHns& s) { return s.enumerate(kind, q); });
  if (!ids) return fail(ids.error(), errorRecord);
  *result = give(json(*ids).dump());
  return S_OK;
}

HRESULT openObject(ObjectKind kind, const GUID& id, HANDLE* handle, PWSTR* errorRecord) {
  std::string f = functionName("HcnOpen", kind);
  if (errorRecord) *errorRecord = nullptr;
  *handle = nullptr;
  std::string text = guidText(id);
  auto opened = node().with(f.c_str(), false, [&](SimulatedHns& s) {
    return onObject(s, kind, text, [](Handle) -> Status { return Ok{}; });
  });
  if (!opened) return fail(opened.error(), errorRecord);
  *handle = newHandle(kind, text);
  return S_OK;
}

HRESULT queryObject(ObjectKind kind, HANDLE handle, PCWSTR query, PWSTR* properties, PWSTR* errorRecord) {
  std::string f = functionName("HcnQuery", kind, "Properties");
  if (errorRecord) *errorRecord = nullptr;
  *properties = nullptr;
  auto* h = checked(handle, kind, f.c_str());
  if (!h) return invalidHandle(f, errorRecord);
  if (h->generation != node().generation())
    return fail(Error(ErrorCode::Transient, f + " failed: The RPC server is unavailable. ", hcn::kRpcServerUnavailable),
                errorRecord);
  std::string q = narrow(query);
  if (auto bad = checkQuery(kind, q)) return convention(f, *bad, errorRecord);
  auto doc = node().with(f.c_str(), false, [&](SimulatedHns& s) {
    return onObject(s, kind, h->id, [&](Handle sh) { return s.query(sh, q); });
  });
  if (!doc) return fail(doc.error(), errorRecord);
  *properties = give(*doc);
  return S_OK;
}

HRESULT createObject(ObjectKind kind, HANDLE network, const GUID& id, PCWSTR settings, HANDLE* handle,
                     PWSTR* errorRecord) {
  std::string f = functionName("HcnCreate", kind);
  if (errorRecord) *errorRecord = nullptr;
  *handle = nullptr;
  std::string doc = narrow(settings);
  json parsed = json::parse(doc, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("SchemaVersion"))
    return convention(f, "the settings are not a schema-versioned HCN document: " + doc, errorRecord);
  std::string networkId;
  if (kind == ObjectKind::Endpoint) {
    auto* n = checked(network, ObjectKind::Network, f.c_str());
    if (!n) return invalidHandle(f, errorRecord);
    networkId = n->id;
  }
  auto created = node().with(f.c_str(), true, [&](SimulatedHns& s) -> Result<std::string> {
    Handle nh = 0;
    if (kind == ObjectKind::Endpoint) {
      auto o = s.open(ObjectKind::Network, networkId);
      if (!o) return o.error();
      nh = *o;
    }
    auto c = s.create(kind, guidText(id), doc, nh);
    if (nh) s.close(nh);
    if (!c) return c.error();
    auto props = s.query(*c, defaultQuery());
    s.close(*c);
    if (!props) return props.error();
    return json::parse(*props).value("ID", "");
  });
  if (!created) return fail(created.error(), errorRecord);
  *handle = newHandle(kind, *created);
  return S_OK;
}

HRESULT modifyObject(ObjectKind kind, HANDLE handle, PCWSTR settings, PWSTR* errorRecord) {
  std::string f = functionName("HcnModify", kind);
  if (errorRecord) *errorRecord = nullptr;
  auto* h = checked(handle, kind, f.c_str());
  if (!h) return invalidHandle(f, errorRecord);
  std::string doc = narrow(settings);
  auto done = node().with(f.c_str(), true, [&](SimulatedHns& s) {
    return onObject(s, kind, h->id, [&](Handle sh) { return s.modify(sh, doc); });
  });
  if (!done) return fail(done.error(), errorRecord);
  return S_OK;
}

HRESULT deleteObject(ObjectKind kind, const GUID& id, PWSTR* errorRecord) {
  std::string f = functionName("HcnDelete", kind);
  if (errorRecord) *errorRecord = nullptr;
  auto done = node().with(f.c_str(), true, [&](SimulatedHns& s) { return s.remove(kind, guidText(id)); });
  if (!done) return fail(done.error(), errorRecord);
  return S_OK;
}

HRESULT closeObject(ObjectKind kind, HANDLE handle) {
  std::string f = functionName("HcnClose", kind);
  auto* h = static_cast<TestHandle*>(handle);
  std::lock_guard<std::mutex> lock(handlesMu);
  if (!h || !liveHandles.count(h) || h->kind != kind) {
    report(f + ": an unknown, closed or mistyped handle");
    return static_cast<HRESULT>(hcn::kEInvalidArg);
  }
  liveHandles.erase(h);
  delete h;
  return S_OK;
}

// --- Service notifications ---
using NotificationCallback = void(CALLBACK*)(DWORD type, void* context, HRESULT status, PCWSTR data);
struct Registration {
  NotificationCallback callback;
  void* context;
};
std::mutex callbacksMu;
std::set<Registration*> callbacks;
std::atomic<bool> watching{false};

// Watches HNSPROXY_TEST_HNS_EVENTS: every new "restart" line is an HNS service restart.
void watchEvents() {
  std::string path = env("HNSPROXY_TEST_HNS_EVENTS");
  if (path.empty()) return;
  std::size_t seen = 0;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) ++seen;
  }
  for (;;) {
    Sleep(50);
    std::ifstream in(path);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      if (++n <= seen) continue;
      seen = n;
      if (line != "restart") continue;
      node().restarted();
      std::lock_guard<std::mutex> lock(callbacksMu);
      for (auto* r : callbacks) r->callback(hcn::kNotificationServiceDisconnect, r->context, S_OK, nullptr);
    }
  }
}

}  // namespace

#define HNSTEST_EXPORT extern "C" __declspec(dllexport)

#ifdef HNSTEST_COMPUTENETWORK

#define HNSTEST_FAMILY(Kind, Plural)                                                                              \
  HNSTEST_EXPORT HRESULT WINAPI HcnEnumerate##Plural(PCWSTR query, PWSTR* result, PWSTR* errorRecord) {           \
    return enumerateObjects(ObjectKind::Kind, query, result, errorRecord);                                          \
  }                                                                                                                 \
  HNSTEST_EXPORT HRESULT WINAPI HcnOpen##Kind(const GUID& id, HANDLE* handle, PWSTR* errorRecord) {                 \
    return openObject(ObjectKind::Kind, id, handle, errorRecord);                                                   \
  }                                                                                                                 \
  HNSTEST_EXPORT HRESULT WINAPI HcnQuery##Kind##Properties(HANDLE handle, PCWSTR query, PWSTR* properties,          \
                                                          PWSTR* errorRecord) {                                    \
    return queryObject(ObjectKind::Kind, handle, query, properties, errorRecord);                                   \
  }                                                                                                                 \
  HNSTEST_EXPORT HRESULT WINAPI HcnModify##Kind(HANDLE handle, PCWSTR settings, PWSTR* errorRecord) {              \
    return modifyObject(ObjectKind::Kind, handle, settings, errorRecord);                                           \
  }                                                                                                                 \
  HNSTEST_EXPORT HRESULT WINAPI HcnDelete##Kind(const GUID& id, PWSTR* errorRecord) {                               \
    return deleteObject(ObjectKind::Kind, id, errorRecord);                                                         \
  }                                                                                                                 \
  HNSTEST_EXPORT HRESULT WINAPI HcnClose##Kind(HANDLE handle) { return closeObject(ObjectKind::Kind, handle); }

HNSTEST_FAMILY(Network, Networks)
HNSTEST_FAMILY(Endpoint, Endpoints)
HNSTEST_FAMILY(LoadBalancer, LoadBalancers)

HNSTEST_EXPORT HRESULT WINAPI HcnCreateNetwork(const GUID& id, PCWSTR settings, HANDLE* handle, PWSTR* errorRecord) {
  return createObject(ObjectKind::Network, nullptr, id, settings, handle, errorRecord);
}
HNSTEST_EXPORT HRESULT WINAPI HcnCreateLoadBalancer(const GUID& id, PCWSTR settings, HANDLE* handle, PWSTR* errorRecord) {
  return createObject(ObjectKind::LoadBalancer, nullptr, id, settings, handle, errorRecord);
}
HNSTEST_EXPORT HRESULT WINAPI HcnCreateEndpoint(HANDLE network, const GUID& id, PCWSTR settings, HANDLE* handle,
                                                PWSTR* errorRecord) {
  return createObject(ObjectKind::Endpoint, network, id, settings, handle, errorRecord);
}

HNSTEST_EXPORT HRESULT WINAPI HcnRegisterServiceCallback(NotificationCallback callback, void* context, HANDLE* handle) {
  if (!callback || !handle) return E_INVALIDARG;
  auto* r = new Registration{callback, context};
  {
    std::lock_guard<std::mutex> lock(callbacksMu);
    callbacks.insert(r);
  }
  if (!watching.exchange(true)) std::thread(watchEvents).detach();
  *handle = r;
  return S_OK;
}

HNSTEST_EXPORT HRESULT WINAPI HcnUnregisterServiceCallback(HANDLE handle) {
  std::lock_guard<std::mutex> lock(callbacksMu);
  auto* r = static_cast<Registration*>(handle);
  if (!callbacks.erase(r)) {
    report("HcnUnregisterServiceCallback: an unknown callback handle");
    return E_INVALIDARG;
  }
  delete r;
  return S_OK;
}

BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID reserved) {
  // At process exit (reserved != null) every handle should have been closed: HNS keeps an RPC
  // context per open handle. An unload by FreeLibrary is checked the same way.
  if (reason == DLL_PROCESS_DETACH) {
    (void)reserved;
    std::lock_guard<std::mutex> lock(handlesMu);
    for (auto* h : liveHandles) report(std::string("handle left open at exit: ") + kindName(h->kind) + " " + h->id);
  }
  return TRUE;
}

#endif  // HNSTEST_COMPUTENETWORK

#ifdef HNSTEST_VMCOMPUTE

// The v1 HNS RPC (vmcompute.dll HNSCall), read-only as kube-proxy and hcsshim use it on this path:
// GET /globals/version (hcsshim's version check), GET /policylists/ (upstream's kernel
// compatibility check, HNSListPolicyListRequest: no v1 policy lists here, so an empty list), and
// the v1 listings of networks and endpoints (HNSListNetworkRequest, HNSListEndpointRequest, and
// one by ID). Anything else, and any write, is a departure from what kube-proxy does and reported.
namespace {

json v1Network(const HcnNetwork& n) {
  return json{{"ID", n.id}, {"Name", n.name}, {"Type", n.type}};
}

json v1Endpoint(const HcnEndpoint& e, const std::vector<HcnNetwork>& networks) {
  json j{{"ID", e.id}, {"Name", e.name}, {"VirtualNetwork", e.network}, {"MacAddress", e.macAddress},
         {"IsRemoteEndpoint", e.isRemote()}};
  for (const auto& n : networks)
    if (n.id == e.network) j["VirtualNetworkName"] = n.name;
  if (!e.ipConfigurations.empty()) {
    j["IPAddress"] = e.ipConfigurations[0].ipAddress;
    j["PrefixLength"] = e.ipConfigurations[0].prefixLength;
  }
  return j;
}

// The answer to a v1 GET: Output on success, Error otherwise (hcsshim reads Success first).
std::optional<json> v1Get(const std::string& path) {
  auto ok = [](json output) { return json{{"Success", true}, {"Error", ""}, {"Output", std::move(output)}}; };
  auto notFound = [](const std::string& what) {
    return json{{"Success", false}, {"Error", what + " not found"}};
  };
  if (path == "/globals/version") {
    auto v = node().with("HNSCall", false, [](SimulatedHns& s) { return s.version(); });
    if (!v) return json{{"Success", false}, {"Error", v.error().message}};
    return ok(json{{"Major", v->major}, {"Minor", v->minor}});
  }
  if (path == "/policylists/" || path == "/policylists") return ok(json::array());
  if (path.rfind("/policylists/", 0) == 0) return notFound("Policy list " + path.substr(13));
  const bool networks = path.rfind("/networks/", 0) == 0, endpoints = path.rfind("/endpoints/", 0) == 0;
  if (!networks && !endpoints) return std::nullopt;
  auto snap = node().with("HNSCall", false, [](SimulatedHns& s) -> Result<HnsSnapshot> { return s.snapshot(); });
  if (!snap) return json{{"Success", false}, {"Error", snap.error().message}};
  const std::string id = path.substr(networks ? 10 : 11);
  json list = json::array();
  if (networks) {
    for (const auto& n : snap->networks)
      if (id.empty() || normalizeGuid(id) == normalizeGuid(n.id)) list.push_back(v1Network(n));
  } else {
    for (const auto& e : snap->endpoints)
      if (id.empty() || normalizeGuid(id) == normalizeGuid(e.id)) list.push_back(v1Endpoint(e, snap->networks));
  }
  if (id.empty()) return ok(list);
  if (list.empty()) return notFound((networks ? "Network " : "Endpoint ") + id);
  return ok(list[0]);
}

}  // namespace

HNSTEST_EXPORT HRESULT WINAPI HNSCall(PCWSTR method, PCWSTR path, PCWSTR object, PWSTR* response) {
  (void)object;
  if (!method || !path || !response) return E_POINTER;
  std::string m = narrow(method), p = narrow(path);
  std::optional<json> answer;
  if (m == "GET") answer = v1Get(p);
  if (!answer) {
    report("HNSCall " + m + " " + p + ": not a call kube-proxy or hcsshim makes on this path");
    answer = json{{"Success", false}, {"Error", "Not implemented"}};
  }
  *response = give(answer->dump());
  return S_OK;
}

#endif  // HNSTEST_VMCOMPUTE

// hcn_probe.exe: calls the test computenetwork.dll the way a regressed HcnApi would — a query
// without SchemaVersion, an endpoint filter on the v2 key hcsshim avoids, a handle never closed —
// so the wine tests can prove the DLL catches each (and so that kube-proxy.exe passing them means
// something). Prints the HRESULTs of the three enumerate calls and the open; then calls
// vmcompute.dll's v1 HNSCall as upstream's kernel compatibility check (GET /policylists/) and
// hcsshim's v1 network listing do, and once as neither does (a POST), printing each response.
#include <windows.h>
#include <objbase.h>

#include <cstdio>
#include <utility>

using EnumerateFn = HRESULT(WINAPI*)(PCWSTR query, PWSTR* result, PWSTR* errorRecord);
using OpenFn = HRESULT(WINAPI*)(const GUID& id, void** handle, PWSTR* errorRecord);
using HnsCallFn = HRESULT(WINAPI*)(PCWSTR method, PCWSTR path, PCWSTR object, PWSTR* response);

int main() {
  HMODULE dll = LoadLibraryExW(L"computenetwork.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!dll) return 3;
  auto networks = reinterpret_cast<EnumerateFn>(reinterpret_cast<void*>(GetProcAddress(dll, "HcnEnumerateNetworks")));
  auto endpoints = reinterpret_cast<EnumerateFn>(reinterpret_cast<void*>(GetProcAddress(dll, "HcnEnumerateEndpoints")));
  auto open = reinterpret_cast<OpenFn>(reinterpret_cast<void*>(GetProcAddress(dll, "HcnOpenNetwork")));
  if (!networks || !endpoints || !open) return 4;
  auto call = [](EnumerateFn f, PCWSTR q, PWSTR* out) {
    PWSTR err = nullptr;
    *out = nullptr;
    HRESULT hr = f(q, out, &err);
    if (err) CoTaskMemFree(err);
    return hr;
  };
  PWSTR out = nullptr;
  HRESULT noSchema = call(networks, L"", &out);
  if (out) CoTaskMemFree(out);
  HRESULT v2Filter = call(endpoints,
                          L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},"
                          L"\"Filter\":\"{\\\"HostComputeNetwork\\\":\\\"8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01\\\"}\"}",
                          &out);
  if (out) CoTaskMemFree(out);
  HRESULT good = call(networks, L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0}}", &out);
  if (out) CoTaskMemFree(out);
  // 8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01, the example node's network: opened, never closed.
  GUID id{0x8E4E8C5A, 0x3F1B, 0x4C8A, {0x9D, 0x34, 0x1F, 0x2A, 0x0B, 0x6C, 0x7D, 0x01}};
  void* leaked = nullptr;
  PWSTR err = nullptr;
  HRESULT opened = open(id, &leaked, &err);
  if (err) CoTaskMemFree(err);
  std::printf("%08lX %08lX %08lX %08lX\n", static_cast<unsigned long>(noSchema), static_cast<unsigned long>(v2Filter),
              static_cast<unsigned long>(good), static_cast<unsigned long>(opened));

  HMODULE vmcompute = LoadLibraryExW(L"vmcompute.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!vmcompute) return 5;
  auto hnsCall = reinterpret_cast<HnsCallFn>(reinterpret_cast<void*>(GetProcAddress(vmcompute, "HNSCall")));
  if (!hnsCall) return 6;
  for (auto [method, path] : {std::pair{L"GET", L"/policylists/"}, std::pair{L"GET", L"/networks/"},
                              std::pair{L"POST", L"/endpoints/"}}) {
    PWSTR response = nullptr;
    HRESULT hr = hnsCall(method, path, L"", &response);
    std::printf("%08lX %ls\n", static_cast<unsigned long>(hr), response ? response : L"(null)");
    if (response) CoTaskMemFree(response);
  }
  return 0;
}

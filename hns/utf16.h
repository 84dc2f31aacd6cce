// UTF-8 ↔ UTF-16 for the Windows APIs (HCN takes and returns UTF-16; paths are wide). Windows only.
#pragma once
#ifdef _WIN32

#include <windows.h>

#include <cwchar>
#include <string>

namespace hnsproxy::hns {

inline std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

inline std::string narrow(const wchar_t* w) {
  if (!w || !*w) return {};
  int len = static_cast<int>(std::wcslen(w));
  int n = WideCharToMultiByte(CP_UTF8, 0, w, len, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, len, out.data(), n, nullptr, nullptr);
  return out;
}

}  // namespace hnsproxy::hns

#endif  // _WIN32

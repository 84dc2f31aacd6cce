// Where the checkout and the build are, for tests that read repository files or run the binaries.
// CTest passes them in the environment (tests/CMakeLists.txt) rather than compiling them in, so a
// test object is the same in every checkout and CI's compiler cache serves it. Run by hand, a test
// binary finds them from its own location: <build>/tests/<suite>_tests, and the build's
// CMakeCache.txt names the checkout.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace hnsproxy::test {

// A whole file as text ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string buildFromExecutable() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("HNSPROXY_BINARY_DIR is not set and /proc/self/exe is unreadable");
  return exe.parent_path().parent_path().string();
}

inline std::string binaryDir() {
  if (const char* v = std::getenv("HNSPROXY_BINARY_DIR"); v && *v) return v;
  return buildFromExecutable();
}

inline std::string sourceDir() {
  if (const char* v = std::getenv("HNSPROXY_SOURCE_DIR"); v && *v) return v;
  std::ifstream cache(binaryDir() + "/CMakeCache.txt");
  const std::string key = "hnsproxy_SOURCE_DIR:STATIC=";
  for (std::string line; std::getline(cache, line);)
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  throw std::runtime_error("HNSPROXY_SOURCE_DIR is not set and the build's CMakeCache.txt does not name the checkout");
}

}  // namespace hnsproxy::test

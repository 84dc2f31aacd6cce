// Helpers shared by the libFuzzer targets: the input as text, and a private file to hand to the
// parsers that read files (kubeconfig, --config), as the product reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include <unistd.h>

namespace hnsproxy::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// One file per fuzzing process, rewritten for every input (in /dev/shm when there is one).
inline const std::string& scratchFile(const char* name) {
  static const std::string path = [name] {
    std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return dir + "/hnsproxy-fuzz-" + std::to_string(::getpid()) + "-" + name;
  }();
  return path;
}

inline const std::string& writeScratch(const char* name, const std::uint8_t* data, std::size_t size) {
  const std::string& p = scratchFile(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                              static_cast<std::streamsize>(size));
  return p;
}

}  // namespace hnsproxy::fuzz

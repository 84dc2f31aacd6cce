// Polls a condition until it holds or a timeout passes: for what another thread or process does
// (never to prove that something does not happen).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace hnsproxy::test {

inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace hnsproxy::test

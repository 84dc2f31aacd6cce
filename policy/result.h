// One error type for the project, and a Result<T> that carries either a value or an Error, so
// that exceptions never cross library boundaries (Boost 1.74 on Debian 12 predates
// boost::system::result, and GCC 12's <expected> needs C++23).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace hnsproxy {

// What the caller should do about an error.
enum class ErrorCode : std::uint8_t {
  InvalidInput,    // bad user or API input: report it, keep previous state
  NotFound,        // the object does not exist
  NetworkNotFound, // HNS: the network an operation needs is gone (re-read the host, re-plan)
  AlreadyExists,   // the object (or one with the same identity) exists: look it up, adopt or replace
  PortInUse,       // HNS: the frontend port is taken
  NotImplemented,  // HNS: the call is not supported on this build
  InvalidArgument, // HNS rejected the document: re-plan, do not retry as is
  Transient,       // retry with backoff
  Internal,        // a bug or an unexpected state
};

const char* toString(ErrorCode c);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  std::uint32_t hresult = 0;  // set when HNS produced the error

  Error() = default;
  Error(ErrorCode c, std::string m, std::uint32_t hr = 0) : code(c), message(std::move(m)), hresult(hr) {}
  bool retryable() const { return code == ErrorCode::Transient; }
  std::string str() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace hnsproxy

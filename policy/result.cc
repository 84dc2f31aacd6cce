#include "policy/result.h"

#include <cstdio>

namespace hnsproxy {

const char* toString(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidInput: return "InvalidInput";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::NetworkNotFound: return "NetworkNotFound";
    case ErrorCode::AlreadyExists: return "AlreadyExists";
    case ErrorCode::PortInUse: return "PortInUse";
    case ErrorCode::NotImplemented: return "NotImplemented";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::Transient: return "Transient";
    case ErrorCode::Internal: return "Internal";
  }
  return "?";
}

std::string Error::str() const {
  if (hresult == 0) return message;
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, " (HRESULT 0x%08X)", hresult);
  return message + buf;
}

}  // namespace hnsproxy

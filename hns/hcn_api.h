// The Windows implementation of hns::Api over computenetwork.dll (and vmcompute.dll's HNSCall
// for the version). Compiled only on Windows; CI compiles it with MinGW-w64.
#pragma once

#ifdef _WIN32

#include <memory>

#include "hns/api.h"

namespace hnsproxy::hns {

// Loads the DLLs and resolves every function; an error names the DLL or the missing export.
Result<std::unique_ptr<Api>> makeHcnApi();

}  // namespace hnsproxy::hns

#endif

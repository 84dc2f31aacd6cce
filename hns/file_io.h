// Files kube-proxy writes and reads itself (the simulator's state, --write-config-to, the listing
// cache), on Linux and Windows:
//  - written atomically: a temporary file of its own beside the target, then renamed over it, so
//    a crash never leaves half a file, and nothing planted in a shared folder is written through;
//  - read only when it is a regular file (a FIFO or device put in its place is refused without
//    blocking), within a size bound, with a stop honoured between pieces.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "policy/result.h"

namespace hnsproxy::hns {

// Written atomically: a temporary file of our own beside it (a fresh name, O_EXCL|O_NOFOLLOW, mode
// 0600), flushed, then renamed over the path. Also --write-config-to's writer.
Status writeFileAtomically(const std::string& path, const std::string& content);

// Appends to an existing file (O_APPEND, never following a link); a missing file stays missing.
Status appendToFile(const std::string& path, std::string_view text);

// The same as writeFileAtomically, written piece by piece (a large file need not be held in memory): write() as often as
// needed, then commit() renames it into place; destroyed uncommitted, the temporary file goes.
// The first failure is kept and returned by commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(std::string_view data);
  Status commit();

 private:
  void discard();
  std::string path_, tmp_;
  std::optional<Error> error_;
#ifdef _WIN32
  void* handle_ = nullptr;  // HANDLE
#else
  int fd_ = -1;
#endif
};

// Calls onLine for each line of a regular file (without its newline), reading it piece by piece.
// NotFound when it does not exist; InvalidInput, naming the file, when it is not a regular file
// (opened without blocking: a FIFO never stalls the caller) or passes maxBytes (checked as it is
// read, so a file that grows, or a link to an endless device, ends at the bound); Transient when
// stop() turned true. An error from onLine ends the read and is returned.
Status readLines(const std::string& path, std::uint64_t maxBytes, const std::function<bool()>& stop,
                 const std::function<Status(std::string_view line)>& onLine);

}  // namespace hnsproxy::hns

#include "hns/file_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <system_error>

#include <fmt/format.h>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <windows.h>

#include "hns/utf16.h"
#endif

namespace hnsproxy::hns {

// POSIX: a temporary file of our own in the same folder — a fresh name, O_EXCL|O_NOFOLLOW and mode
// 0600 — so that in a shared folder nobody can plant a link or a file under it for us to write
// through; flushed before the rename, which must not publish a file the disk does not hold.
// Windows: CREATE_NEW is O_EXCL there (it never opens an existing file or a link planted under the
// name); the file inherits its folder's ACL (C:\k is writable by administrators only).
AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  std::random_device rd;
#ifndef _WIN32
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    tmp_ = fmt::format("{}.tmp.{}.{:08x}", path_, ::getpid(), rd());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0)
    error_ = Error(ErrorCode::Transient,
                   "cannot create a temporary file beside " + path_ + ": " + std::generic_category().message(errno));
#else
  HANDLE file = INVALID_HANDLE_VALUE;
  for (int attempt = 0; attempt < 16 && file == INVALID_HANDLE_VALUE; ++attempt) {
    tmp_ = fmt::format("{}.tmp.{}.{:08x}", path_, GetCurrentProcessId(), rd());
    file = CreateFileW(widen(tmp_).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE && GetLastError() != ERROR_FILE_EXISTS) break;
  }
  if (file == INVALID_HANDLE_VALUE)
    error_ = Error(ErrorCode::Transient, fmt::format("cannot create a temporary file beside {}: Windows error {}", path_, GetLastError()));
  else
    handle_ = file;
#endif
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
#ifndef _WIN32
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
  }
#else
  if (handle_) {
    CloseHandle(static_cast<HANDLE>(handle_));
    DeleteFileW(widen(tmp_).c_str());
    handle_ = nullptr;
  }
#endif
}

namespace {

// Writes all of `data` to an open file; the error's text when it cannot.
#ifndef _WIN32
std::optional<std::string> writeAll(int fd, std::string_view data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::generic_category().message(errno);
    off += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}
#else
std::optional<std::string> writeAll(HANDLE file, std::string_view data) {
  std::size_t off = 0;
  while (off < data.size()) {
    DWORD n = 0;
    DWORD want = static_cast<DWORD>(std::min<std::size_t>(data.size() - off, 1u << 30));
    if (!WriteFile(file, data.data() + off, want, &n, nullptr) || n == 0) return fmt::format("Windows error {}", GetLastError());
    off += n;
  }
  return std::nullopt;
}
#endif

}  // namespace

void AtomicFile::write(std::string_view data) {
  if (error_) return;
#ifndef _WIN32
  auto failed = writeAll(fd_, data);
#else
  auto failed = writeAll(static_cast<HANDLE>(handle_), data);
#endif
  if (failed) {
    error_ = Error(ErrorCode::Transient, "cannot write " + tmp_ + ": " + *failed);
    discard();
  }
}

Status appendToFile(const std::string& path, std::string_view text) {
#ifndef _WIN32
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Ok{};
    return Error(ErrorCode::Transient, "cannot open " + path + " to append: " + std::generic_category().message(errno));
  }
  auto failed = writeAll(fd, text);
  ::close(fd);
#else
  HANDLE f = CreateFileW(widen(path).c_str(), FILE_APPEND_DATA, 0, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) {
    if (GetLastError() == ERROR_FILE_NOT_FOUND) return Ok{};
    return Error(ErrorCode::Transient, fmt::format("cannot open {} to append: Windows error {}", path, GetLastError()));
  }
  auto failed = writeAll(f, text);
  CloseHandle(f);
#endif
  if (failed) return Error(ErrorCode::Transient, "cannot append to " + path + ": " + *failed);
  return Ok{};
}

Status AtomicFile::commit() {
  if (error_) return *error_;
#ifndef _WIN32
  if (::fsync(fd_) != 0) {
    Error e(ErrorCode::Transient, "cannot flush " + tmp_ + ": " + std::generic_category().message(errno));
    discard();
    return e;
  }
  ::close(fd_);
  fd_ = -1;
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    (void)std::remove(tmp_.c_str());
    return Error(ErrorCode::Transient, "cannot rename " + tmp_ + " to " + path_);
  }
#else
  HANDLE file = static_cast<HANDLE>(handle_);
  FlushFileBuffers(file);
  CloseHandle(file);
  handle_ = nullptr;
  if (!MoveFileExW(widen(tmp_).c_str(), widen(path_).c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    std::string why = fmt::format("Windows error {}", GetLastError());
    DeleteFileW(widen(tmp_).c_str());
    return Error(ErrorCode::Transient, "cannot replace " + path_ + " with " + tmp_ + ": " + why);
  }
#endif
  return Ok{};
}

Status writeFileAtomically(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content);
  return f.commit();
}

namespace {

// The lines of `buffer` before its last newline go to onLine; the rest stays for the next piece.
Status emitLines(std::string& buffer, const std::function<Status(std::string_view)>& onLine) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(buffer.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto st = onLine(line); !st) return st;
  }
  buffer.erase(0, start);
  return Ok{};
}

}  // namespace

Status readLines(const std::string& path, std::uint64_t maxBytes, const std::function<bool()>& stop,
                 const std::function<Status(std::string_view)>& onLine) {
  auto tooLarge = [&] {
    return Error(ErrorCode::InvalidInput, fmt::format("{}: larger than {} MiB; not read", path, maxBytes >> 20));
  };
  std::string buffer, piece(std::size_t{1} << 16, '\0');
  std::uint64_t total = 0;
#ifndef _WIN32
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return Error(ErrorCode::NotFound, path + ": no such file");
    return Error(ErrorCode::InvalidInput, path + ": cannot open: " + std::generic_category().message(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error(ErrorCode::InvalidInput, path + ": not a regular file; not read");
  if (static_cast<std::uint64_t>(st.st_size) > maxBytes) return tooLarge();
  for (;;) {
    if (stop && stop()) return Error(ErrorCode::Transient, path + ": reading stopped");
    ssize_t n = ::read(fd, piece.data(), piece.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorCode::InvalidInput, path + ": cannot read: " + std::generic_category().message(errno));
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > maxBytes) return tooLarge();
    buffer.append(piece.data(), static_cast<std::size_t>(n));
    if (auto s = emitLines(buffer, onLine); !s) return s;
  }
#else
  HANDLE f = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return Error(ErrorCode::NotFound, path + ": no such file");
    return Error(ErrorCode::InvalidInput, fmt::format("{}: cannot open: Windows error {}", path, e));
  }
  struct Closer {
    HANDLE h;
    ~Closer() { CloseHandle(h); }
  } closer{f};
  BY_HANDLE_FILE_INFORMATION info{};
  if (GetFileType(f) != FILE_TYPE_DISK || !GetFileInformationByHandle(f, &info) ||
      (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)) != 0)
    return Error(ErrorCode::InvalidInput, path + ": not a regular file; not read");
  if ((static_cast<std::uint64_t>(info.nFileSizeHigh) << 32 | info.nFileSizeLow) > maxBytes) return tooLarge();
  for (;;) {
    if (stop && stop()) return Error(ErrorCode::Transient, path + ": reading stopped");
    DWORD n = 0;
    if (!ReadFile(f, piece.data(), static_cast<DWORD>(piece.size()), &n, nullptr))
      return Error(ErrorCode::InvalidInput, fmt::format("{}: cannot read: Windows error {}", path, GetLastError()));
    if (n == 0) break;
    total += n;
    if (total > maxBytes) return tooLarge();
    buffer.append(piece.data(), n);
    if (auto s = emitLines(buffer, onLine); !s) return s;
  }
#endif
  if (!buffer.empty()) return onLine(buffer);
  return Ok{};
}

}  // namespace hnsproxy::hns

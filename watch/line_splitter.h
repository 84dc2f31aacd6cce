// Splits a byte stream into lines however it arrives in pieces (a watch stream's chunks), with a
// bound on the length of one line: a broken or hostile server must not exhaust memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hnsproxy::watch {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t maxLine) : maxLine_(maxLine) {}

  enum class Result { More, Stopped, TooLong };
  // Calls onLine(std::string_view) -> bool for each complete non-empty line in `piece` (false
  // stops). TooLong when a line passes the bound: the stream must be dropped.
  template <typename F>
  Result feed(std::string_view piece, F&& onLine) {
    while (!piece.empty()) {
      auto nl = piece.find('\n');
      std::string_view part = piece.substr(0, nl);
      if (line_.size() + part.size() > maxLine_) return Result::TooLong;
      line_.append(part);
      if (nl == std::string_view::npos) break;
      piece.remove_prefix(nl + 1);
      if (!line_.empty()) {
        bool more = onLine(std::string_view(line_));
        line_.clear();
        if (!more) return Result::Stopped;
      }
    }
    return Result::More;
  }
  // The last line, when the stream ended without a newline.
  template <typename F>
  void finish(F&& onLine) {
    if (!line_.empty()) onLine(std::string_view(line_));
    line_.clear();
  }

 private:
  std::size_t maxLine_;
  std::string line_;
};

}  // namespace hnsproxy::watch

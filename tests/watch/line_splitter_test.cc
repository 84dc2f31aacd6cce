#include "catch.h"

#include <string>
#include <vector>

#include "watch/line_splitter.h"

using hnsproxy::watch::LineSplitter;

TEST_CASE("line splitter: the same lines however the stream is cut; empty lines skipped; the tail on finish") {
  const std::string stream = "{\"a\":1}\n\n{\"b\":22}\n{\"c\":333}";
  for (std::size_t cut = 1; cut <= stream.size(); ++cut) {
    LineSplitter s(64);
    std::vector<std::string> got;
    auto keep = [&](std::string_view l) {
      got.emplace_back(l);
      return true;
    };
    for (std::size_t at = 0; at < stream.size(); at += cut)
      REQUIRE(s.feed(std::string_view(stream).substr(at, cut), keep) == LineSplitter::Result::More);
    CHECK(got == std::vector<std::string>{"{\"a\":1}", "{\"b\":22}"});
    s.finish(keep);
    CHECK(got.back() == "{\"c\":333}");
  }
}

TEST_CASE("line splitter: a line past the bound ends the stream; the callback can stop it") {
  LineSplitter s(8);
  auto ignore = [](std::string_view) { return true; };
  CHECK(s.feed("12345678\n", ignore) == LineSplitter::Result::More);  // exactly the bound
  CHECK(s.feed("12345", ignore) == LineSplitter::Result::More);
  CHECK(s.feed("6789", ignore) == LineSplitter::Result::TooLong);  // 9 bytes before any newline
  LineSplitter t(100);
  int seen = 0;
  CHECK(t.feed("a\nb\nc\n", [&](std::string_view) { return ++seen < 2; }) == LineSplitter::Result::Stopped);
  CHECK(seen == 2);
}

// The rooms' boundaries, as includes: the HCN client (hns/) includes no other room and no
// Boost.Asio; the reconcile loop (hns/reconcile/) never includes the simulator or the tools;
// policy/ includes nothing of the tree but itself; watch/ and hns/ never include each other.
#include "catch.h"
#include "test_paths.h"

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using hnsproxy::test::slurp;
using hnsproxy::test::sourceDir;

namespace {

struct Include {
  std::string file, target;
};

// Every #include "..." or <...> of the sources directly in `folder` (not its subfolders).
std::vector<Include> includesOf(const std::string& folder) {
  std::vector<Include> out;
  static const std::regex inc(R"(#\s*include\s*[<"]([^>"]+)[>"])");
  for (const auto& e : fs::directory_iterator(fs::path(sourceDir()) / folder)) {
    const auto ext = e.path().extension();
    if (ext != ".h" && ext != ".cc") continue;
    const std::string text = slurp(e.path());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), inc); it != std::sregex_iterator(); ++it)
      out.push_back({folder + "/" + e.path().filename().string(), (*it)[1].str()});
  }
  return out;
}

std::string offending(const std::vector<Include>& incs, const std::regex& forbidden) {
  std::string s;
  for (const auto& i : incs)
    if (std::regex_search(i.target, forbidden)) s += i.file + " includes " + i.target + "\n";
  return s;
}

}  // namespace

TEST_CASE("layering: the HCN client includes no other room of hns/ and no Boost.Asio") {
  const auto incs = includesOf("hns");
  REQUIRE(incs.size() > 20);
  CHECK(offending(incs, std::regex(R"(^hns/(reconcile|sim|tools)/|^boost/|^proxy/|^watch/)")) == "");
}

TEST_CASE("layering: the reconcile loop never includes the simulator, the tools or Boost.Asio") {
  const auto incs = includesOf("hns/reconcile");
  REQUIRE(incs.size() > 20);
  CHECK(offending(incs, std::regex(R"(^hns/(sim|tools)/|^boost/|^proxy/|^watch/)")) == "");
}

TEST_CASE("layering: the simulator does not include the tools or the reconcile loop") {
  const auto incs = includesOf("hns/sim");
  REQUIRE(incs.size() > 10);
  CHECK(offending(incs, std::regex(R"(^hns/(reconcile|tools)/|^proxy/|^watch/)")) == "");
}

TEST_CASE("layering: policy/ is pure; watch/ and hns/ never include each other") {
  // Of Boost, policy/ uses only Boost.Pool (header-only, no I/O: the endpoint maps' node allocator).
  CHECK(offending(includesOf("policy"), std::regex(R"(^(hns|watch|proxy)/|^boost/(?!pool/))")) == "");
  CHECK(offending(includesOf("policy"), std::regex(R"(^boost/pool/)")) == "policy/node_pool.h includes boost/pool/singleton_pool.hpp\n");
  CHECK(offending(includesOf("watch"), std::regex(R"(^(hns|proxy)/)")) == "");
  for (const char* room : {"hns", "hns/reconcile", "hns/sim", "hns/tools"})
    CHECK(offending(includesOf(room), std::regex(R"(^(watch|proxy)/)")) == "");
}

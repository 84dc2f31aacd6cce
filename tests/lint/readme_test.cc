// The README against the tree: every file, folder and flag it names in `code` exists, and its list
// of fuzz targets is the list in tests/fuzz — so the README cannot drift silently again.
#include "catch.h"
#include "test_paths.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using hnsproxy::test::slurp;
using hnsproxy::test::sourceDir;

namespace {

const fs::path& root() {
  static const fs::path r = sourceDir();
  return r;
}

// The words of every `code span` in the README.
std::vector<std::string> codeWords() {
  const std::string readme = slurp(root() / "README.md");
  REQUIRE(!readme.empty());
  std::vector<std::string> words;
  static const std::regex span("`([^`\n]+)`");
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), span); it != std::sregex_iterator(); ++it) {
    std::string text = (*it)[1].str();
    static const std::regex word(R"([^\s"'(),;]+)");
    for (auto w = std::sregex_iterator(text.begin(), text.end(), word); w != std::sregex_iterator(); ++w) {
      std::string s = w->str();
      while (!s.empty() && (s.back() == '.' || s.back() == ':')) s.pop_back();
      if (!s.empty()) words.push_back(s);
    }
  }
  return words;
}

// The project's own files: the folders of the tree (not build output, not .git).
const std::vector<fs::path>& projectFiles() {
  static const std::vector<fs::path> files = [] {
    std::vector<fs::path> out;
    for (const char* dir : {"proxy", "hns", "watch", "policy", "tests", "bench", "packaging", "examples", ".ci"})
      for (const auto& e : fs::recursive_directory_iterator(root() / dir))
        if (e.is_regular_file()) out.push_back(e.path());
    for (const char* f : {"CMakeLists.txt", "README.md", "LICENSE", "CMakePresets.json", "vcpkg.json", ".clang-tidy"})
      if (fs::exists(root() / f)) out.push_back(root() / f);
    return out;
  }();
  return files;
}

std::string joined(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += n + " ";
  return s;
}

bool isTopFolder(const std::string& first) {
  static const std::set<std::string> top = {"proxy", "hns",      "watch",    "policy", "tests",
                                            "bench", "packaging", "examples", ".ci"};
  return top.count(first) > 0;
}

// Files of other projects the README names as such (upstream's sources, scripts it replaces).
const std::set<std::string>& foreignNames() {
  static const std::set<std::string> names = {"register-svc.ps1", "kube-proxy.yml", "proxier.go", "loadbalancer.go",
                                              "hcnloadbalancer.go", "hns.go", "computenetwork.h", "bounded_frequency_runner.go"};
  return names;
}

}  // namespace

TEST_CASE("README: every repository path it names exists") {
  std::set<std::string> missing, checked;
  for (const std::string& w : codeWords()) {
    if (w.find_first_of("<>*{}$\\") != std::string::npos) continue;  // patterns and placeholders
    const auto slash = w.find('/');
    if (slash == std::string::npos || slash == 0) continue;
    if (!isTopFolder(w.substr(0, slash))) continue;
    std::string path = w;
    while (!path.empty() && path.back() == '/') path.pop_back();
    checked.insert(path);
    if (!fs::exists(root() / path)) missing.insert(path);
  }
  INFO("named in README.md but absent: " << joined(missing));
  CHECK(missing.empty());
  CHECK(checked.size() >= 30);  // the README names many; finding few means the scan broke
}

TEST_CASE("README: every source file it names by itself exists somewhere in the tree") {
  static const std::regex sourceName(R"([A-Za-z0-9_.-]+\.(h|cc|sh|ps1|yaml|yml|cmake|go))");
  std::set<std::string> names;
  for (const auto& p : projectFiles()) names.insert(p.filename().string());
  std::set<std::string> missing;
  int checked = 0;
  for (const std::string& w : codeWords()) {
    if (w.find('/') != std::string::npos || !std::regex_match(w, sourceName) || foreignNames().count(w)) continue;
    ++checked;
    if (!names.count(w)) missing.insert(w);
  }
  INFO("named in README.md but absent: " << joined(missing));
  CHECK(missing.empty());
  CHECK(checked >= 20);
}

TEST_CASE("README: every flag it names is one a program or script of the project takes") {
  // The text of every source and script: a flag exists when some program declares it ("name" in
  // an option table or parser) or a script or program matches it ("--name").
  std::string sources;
  for (const auto& p : projectFiles()) {
    const auto ext = p.extension().string();
    if (ext == ".cc" || ext == ".h" || ext == ".sh" || ext == ".ps1" || ext == ".yaml" || p.filename() == "run")
      sources += slurp(p);
  }
  REQUIRE(sources.size() > 100000);
  static const std::regex flag(R"(--([a-z][a-z0-9]*(-[a-z0-9]+)*)(=.*)?)");
  std::set<std::string> missing;
  int checked = 0;
  for (const std::string& w : codeWords()) {
    std::smatch m;
    if (!std::regex_match(w, m, flag)) continue;
    const std::string name = m[1].str();
    ++checked;
    if (sources.find("--" + name) == std::string::npos && sources.find('"' + name + '"') == std::string::npos)
      missing.insert("--" + name);
  }
  INFO("flags in README.md that nothing takes: " << joined(missing));
  CHECK(missing.empty());
  CHECK(checked >= 40);
}

TEST_CASE("README: the fuzz targets it lists are the targets in tests/fuzz") {
  std::set<std::string> inTree, inReadme;
  for (const auto& e : fs::directory_iterator(root() / "tests" / "fuzz")) {
    const std::string stem = e.path().stem().string();
    if (e.path().extension() == ".cc" && stem.size() > 5 && stem.compare(stem.size() - 5, 5, "_fuzz") == 0)
      inTree.insert(stem);
  }
  static const std::regex target(R"([a-z_]+_fuzz)");
  for (const std::string& w : codeWords())
    if (std::regex_match(w, target)) inReadme.insert(w);
  CHECK(inTree.size() >= 9);
  CHECK(inReadme == inTree);
}

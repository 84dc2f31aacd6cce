#include "catch.h"

#include "hns/cli.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;

namespace {
CommandLine tool() {
  CommandLine cl("tool");
  cl.flag("remote", 0, "a flag").value("output", 'o', "table or json", "table").value("name", 0, "a name").list("node-ip", "an address");
  return cl;
}
}  // namespace

TEST_CASE("tools' command line: forms, defaults, repeats and positional words") {
  auto cl = tool();
  REQUIRE(cl.parse({"list", "--name=a b", "-o", "json", "--node-ip", "10.0.0.1", "--remote", "--node-ip=10.0.0.2",
                    "loadbalancers", "--", "--not-an-option"}));
  CHECK(cl.get("name") == "a b");
  CHECK(cl.get("output") == "json");
  CHECK(cl.has("remote"));
  CHECK(cl.all("node-ip") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(cl.words() == std::vector<std::string>{"list", "loadbalancers", "--not-an-option"});

  REQUIRE(cl.parse({"show"}));  // a second parse starts afresh
  CHECK_FALSE(cl.has("remote"));
  CHECK(cl.get("output") == "table");  // the default
  CHECK(cl.get("name").empty());
  CHECK(cl.optionsHelp().find("-o, --output value") != std::string::npos);
  CHECK(cl.optionsHelp().find("(default \"table\")") != std::string::npos);
}

TEST_CASE("tools' command line: every mistake names the option") {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  for (const auto& c : std::vector<Case>{{{"--bogus"}, "tool: unknown option --bogus"},
                                         {{"-x"}, "tool: unknown option -x"},
                                         {{"--name"}, "tool: option --name needs a value"},
                                         {{"-o"}, "tool: option -o needs a value"},
                                         {{"--remote=yes"}, "tool: option --remote takes no value"}}) {
    auto cl = tool();
    auto st = cl.parse(c.args);
    REQUIRE_FALSE(st);
    CHECK(st.error().message == c.message);
    CHECK(st.error().code == ErrorCode::InvalidInput);
  }
}

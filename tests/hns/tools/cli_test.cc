#include "catch.h"

#include "hns/tools/cli.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;

namespace {
po::options_description tool() {
  po::options_description o("options");
  o.add_options()  //
      ("remote", po::bool_switch(), "a flag")
      ("output,o", po::value<std::string>()->default_value("table"), "table or json")
      ("name", po::value<std::string>(), "a name")
      ("count", po::value<int>(), "a number")
      ("node-ip", po::value<std::vector<std::string>>(), "an address (repeatable)");
  return o;
}
}  // namespace

TEST_CASE("tools' command line: forms, defaults, repeats and positional words") {
  const auto options = tool();
  auto cl = parseCommandLine("tool", options,
                             {"list", "--name=a b", "-o", "json", "--node-ip", "10.0.0.1", "--remote", "--node-ip=10.0.0.2",
                              "loadbalancers", "--count", "-3", "--", "--not-an-option"});
  REQUIRE(cl);
  CHECK(cl->get<std::string>("name") == "a b");
  CHECK(cl->get<std::string>("output") == "json");
  CHECK(cl->has("output"));
  CHECK(cl->get<bool>("remote"));
  CHECK(cl->get<int>("count") == -3);
  CHECK(cl->get<std::vector<std::string>>("node-ip") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(cl->words == std::vector<std::string>{"list", "loadbalancers", "--not-an-option"});

  auto plain = parseCommandLine("tool", options, {"show"});
  REQUIRE(plain);
  CHECK_FALSE(plain->get<bool>("remote"));
  CHECK(plain->get<std::string>("output") == "table");  // the default, not given
  CHECK_FALSE(plain->has("output"));
  CHECK(plain->get<std::string>("name").empty());
  CHECK(plain->get<std::vector<std::string>>("node-ip").empty());
  const std::string help = optionsHelp(options);
  CHECK(help.find("-o [ --output ] arg (=table)") != std::string::npos);
  CHECK(help.find("--node-ip arg") != std::string::npos);

  const char* argv[] = {"tool", "--name", "x", "word"};
  auto fromMain = parseCommandLine("tool", options, 4, argv, 1);
  REQUIRE(fromMain);
  CHECK(fromMain->words == std::vector<std::string>{"word"});
}

TEST_CASE("tools' command line: every mistake names the option or the word") {
  struct Case {
    std::vector<std::string> args;
    const char* names;
  };
  for (const auto& c : std::vector<Case>{{{"--bogus"}, "'--bogus'"},
                                         {{"-x"}, "'-x'"},
                                         {{"--name"}, "'--name'"},
                                         {{"-o"}, "output"},
                                         {{"--remote=yes"}, "'--remote'"},
                                         {{"--name=a", "--name=b"}, "'--name'"},
                                         {{"--count", "many"}, "'--count'"},
                                         {{"--nam=x"}, "'--nam=x'"},  // no guessing from a prefix
                                         {{"one", "two"}, "\"two\""}}) {
    INFO(c.args.front());
    auto st = parseCommandLine("tool", tool(), c.args, 1);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == ErrorCode::InvalidInput);
    CHECK(st.error().message.rfind("tool: ", 0) == 0);
    CHECK(st.error().message.find(c.names) != std::string::npos);
  }
}

// The command lines of the hns tools (hnsdiag, hnssim) and the benchmarks, parsed by
// Boost.Program_options: `--name=value`, `--name value`, `-o value`, bare flags (po::bool_switch),
// repeatable options (std::vector values), and positional words anywhere (all of them after `--`).
// Long options are matched exactly (no guessing from a prefix). A mistake — an unknown option, a
// missing or malformed value, a value given to a flag, a single-valued option given twice — is an
// InvalidInput error naming the option, prefixed with the program's name.
//
// kube-proxy itself keeps pflag's semantics (proxy/options.h), which Program_options cannot
// express: `-v=4`, an empty `--flag=`, `_` and `-` as the same character in a name, pflag's bare
// booleans with `--flag=false`, and pflag's error wording that operators' scripts match on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "policy/result.h"

namespace hnsproxy::hns {

namespace po = boost::program_options;

struct ParsedCommandLine {
  po::variables_map values;
  std::vector<std::string> words;  // the positional words, in order

  bool has(const std::string& name) const { return values.count(name) > 0 && !values[name].defaulted(); }
  template <typename T>
  T get(const std::string& name) const {
    return values.count(name) ? values[name].as<T>() : T{};
  }
};

// Parses `args` (argv without the program) against `options`. The first positional words are the
// values of the options `positional` names, in order (`policy_bench 10000 10` for `--services
// 10000 --endpoints 10`); the rest are `words`, of which `maxWords` are allowed (-1: any number;
// one more is an error naming it).
Result<ParsedCommandLine> parseCommandLine(const std::string& program, const po::options_description& options,
                                           const std::vector<std::string>& args, int maxWords = -1,
                                           const std::vector<std::string>& positional = {});
// The same, from main()'s arguments.
Result<ParsedCommandLine> parseCommandLine(const std::string& program, const po::options_description& options,
                                           int argc, const char* const* argv, int maxWords = -1,
                                           const std::vector<std::string>& positional = {});

// One aligned line per option (Program_options' own layout).
std::string optionsHelp(const po::options_description& options);

// A program's command line, for its main(): `options` plus -h/--help. With --help, prints `usage`
// and the options to stdout: exitCode 0, no parse. A mistake prints the error (naming the
// option), `usage` and the options to stderr: exitCode 2, no parse. The program's name is the
// first word of `usage`.
struct ProgramCommandLine {
  std::optional<ParsedCommandLine> parsed;
  int exitCode = 0;
};
ProgramCommandLine parseProgramCommandLine(const std::string& usage, const po::options_description& options, int argc,
                                           const char* const* argv, int maxWords = 0,
                                           const std::vector<std::string>& positional = {});

}  // namespace hnsproxy::hns

// The command line of the hns tools (hnsdiag, hnssim), GNU style: `--name=value`, `--name value`,
// `-x value`, `--flag`, repeatable options, and positional words anywhere (all of them after `--`).
// An unknown option, a missing value or a value given to a flag is an error naming the option.
// kube-proxy itself parses pflag's way (proxy/options.h); the tools need only this much, and
// keeping it here keeps Boost.Program_options (a compiled library) out of the Windows build.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/result.h"

namespace hnsproxy::hns {

class CommandLine {
 public:
  explicit CommandLine(std::string program) : program_(std::move(program)) {}
  CommandLine& flag(const std::string& name, char shorthand, const std::string& help);
  CommandLine& value(const std::string& name, char shorthand, const std::string& help, std::string defaultValue = {});
  CommandLine& list(const std::string& name, const std::string& help);

  Status parse(const std::vector<std::string>& args);

  bool has(const std::string& name) const;               // given on the command line
  std::string get(const std::string& name) const;        // the last value given, else the default
  std::vector<std::string> all(const std::string& name) const;  // every value given, in order
  const std::vector<std::string>& words() const { return words_; }
  std::string optionsHelp() const;                       // one aligned line per option

 private:
  enum class Kind { Flag, Value, List };
  struct Option {
    std::string name;
    char shorthand = 0;
    Kind kind = Kind::Flag;
    std::string help;
    std::string defaultValue;
  };
  CommandLine& add(Option o);
  const Option* find(const std::string& name) const;
  const Option* findShort(char c) const;

  std::string program_;
  std::vector<Option> options_;
  std::map<std::string, std::vector<std::string>> given_;
  std::vector<std::string> words_;
};

}  // namespace hnsproxy::hns

#include "hns/tools/cli.h"

#include <iostream>
#include <sstream>

namespace hnsproxy::hns {

namespace {
constexpr const char* kWords = "positional-words";
}  // namespace

Result<ParsedCommandLine> parseCommandLine(const std::string& program, const po::options_description& options,
                                           const std::vector<std::string>& args, int maxWords,
                                           const std::vector<std::string>& positionalNames) {
  po::options_description hidden;
  hidden.add_options()(kWords, po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  for (const auto& name : positionalNames) positional.add(name.c_str(), 1);
  positional.add(kWords, -1);
  ParsedCommandLine r;
  try {
    po::store(po::command_line_parser(args)
                  .options(all)
                  .positional(positional)
                  .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
                  .run(),
              r.values);
    po::notify(r.values);
  } catch (const po::error& e) {
    return Error(ErrorCode::InvalidInput, program + ": " + e.what());
  }
  if (r.values.count(kWords)) r.words = r.values[kWords].as<std::vector<std::string>>();
  if (maxWords >= 0 && r.words.size() > static_cast<std::size_t>(maxWords))
    return Error(ErrorCode::InvalidInput, program + ": unexpected argument \"" + r.words[maxWords] + "\"");
  return r;
}

Result<ParsedCommandLine> parseCommandLine(const std::string& program, const po::options_description& options,
                                           int argc, const char* const* argv, int maxWords,
                                           const std::vector<std::string>& positional) {
  return parseCommandLine(program, options, std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc),
                          maxWords, positional);
}

std::string optionsHelp(const po::options_description& options) {
  std::ostringstream s;
  s << options;
  return s.str();
}

ProgramCommandLine parseProgramCommandLine(const std::string& usage, const po::options_description& options, int argc,
                                           const char* const* argv, int maxWords,
                                           const std::vector<std::string>& positional) {
  po::options_description all;
  all.add_options()("help,h", "print this help");
  all.add(options);
  const std::string program = usage.substr(0, usage.find(' '));
  auto parsed = parseCommandLine(program, all, argc, argv, maxWords, positional);
  if (!parsed) {
    std::cerr << parsed.error().message << "\nusage: " << usage << "\n" << optionsHelp(all);
    return {std::nullopt, 2};
  }
  if (parsed->has("help")) {
    std::cout << "usage: " << usage << "\n" << optionsHelp(all);
    return {std::nullopt, 0};
  }
  return {std::move(*parsed), 0};
}

}  // namespace hnsproxy::hns

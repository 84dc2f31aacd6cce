#include "hns/cli.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

namespace hnsproxy::hns {

CommandLine& CommandLine::add(Option o) {
  if (find(o.name) || (o.shorthand && findShort(o.shorthand)))
    throw std::logic_error("option declared twice: " + o.name);
  options_.push_back(std::move(o));
  return *this;
}

CommandLine& CommandLine::flag(const std::string& name, char shorthand, const std::string& help) {
  return add({name, shorthand, Kind::Flag, help, {}});
}
CommandLine& CommandLine::value(const std::string& name, char shorthand, const std::string& help,
                                std::string defaultValue) {
  return add({name, shorthand, Kind::Value, help, std::move(defaultValue)});
}
CommandLine& CommandLine::list(const std::string& name, const std::string& help) {
  return add({name, 0, Kind::List, help, {}});
}

const CommandLine::Option* CommandLine::find(const std::string& name) const {
  auto it = std::find_if(options_.begin(), options_.end(), [&](const Option& o) { return o.name == name; });
  return it == options_.end() ? nullptr : &*it;
}
const CommandLine::Option* CommandLine::findShort(char c) const {
  auto it = std::find_if(options_.begin(), options_.end(), [&](const Option& o) { return o.shorthand == c; });
  return it == options_.end() ? nullptr : &*it;
}

Status CommandLine::parse(const std::vector<std::string>& args) {
  given_.clear();
  words_.clear();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      words_.insert(words_.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      words_.push_back(a);
      continue;
    }
    const Option* o = nullptr;
    std::string shown;
    std::optional<std::string> inlineValue;
    if (a[1] == '-') {
      std::string name = a.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inlineValue = name.substr(eq + 1);
        name.resize(eq);
      }
      o = find(name);
      shown = "--" + name;
    } else {
      o = a.size() == 2 ? findShort(a[1]) : nullptr;
      shown = a;
    }
    if (!o) return Error{ErrorCode::InvalidInput, fmt::format("{}: unknown option {}", program_, shown)};
    if (o->kind == Kind::Flag) {
      if (inlineValue)
        return Error{ErrorCode::InvalidInput, fmt::format("{}: option {} takes no value", program_, shown)};
      given_[o->name].emplace_back();
      continue;
    }
    if (!inlineValue) {
      if (i + 1 >= args.size())
        return Error{ErrorCode::InvalidInput, fmt::format("{}: option {} needs a value", program_, shown)};
      inlineValue = args[++i];
    }
    given_[o->name].push_back(*inlineValue);
  }
  return Ok{};
}

bool CommandLine::has(const std::string& name) const { return given_.count(name) > 0; }

std::string CommandLine::get(const std::string& name) const {
  if (auto it = given_.find(name); it != given_.end() && !it->second.empty()) return it->second.back();
  const Option* o = find(name);
  return o ? o->defaultValue : std::string{};
}

std::vector<std::string> CommandLine::all(const std::string& name) const {
  auto it = given_.find(name);
  return it == given_.end() ? std::vector<std::string>{} : it->second;
}

std::string CommandLine::optionsHelp() const {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 0;
  for (const auto& o : options_) {
    std::string left = o.shorthand ? fmt::format("  -{}, --{}", o.shorthand, o.name) : fmt::format("      --{}", o.name);
    if (o.kind != Kind::Flag) left += o.kind == Kind::List ? " value (repeatable)" : " value";
    std::string right = o.help;
    if (!o.defaultValue.empty()) right += fmt::format(" (default \"{}\")", o.defaultValue);
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), std::move(right));
  }
  std::string out;
  for (const auto& [l, r] : rows) out += fmt::format("{:<{}}  {}\n", l, width, r);
  return out;
}

}  // namespace hnsproxy::hns

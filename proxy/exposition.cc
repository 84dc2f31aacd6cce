#include "proxy/exposition.h"

#include <cmath>

#include <fmt/format.h>

namespace hnsproxy::proxy {

namespace {
std::string_view typeName(MetricType t) {
  switch (t) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Histogram: return "histogram";
  }
  return "untyped";
}
}  // namespace

std::string Exposition::number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

namespace {
// The text format's escaping: backslash and newline always, the double quote in label values.
std::string escaped(std::string_view v, bool quotes) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quotes) out += "\\\"";
    else out += c;
  }
  return out;
}
}  // namespace

std::string Exposition::escapeLabelValue(std::string_view v) { return escaped(v, true); }
std::string Exposition::escapeHelp(std::string_view v) { return escaped(v, false); }

void Exposition::family(std::string_view name, MetricType type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escapeHelp(help), name, typeName(type));
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escapeLabelValue(v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += number(value);
  out_ += '\n';
}

void Exposition::histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                           const std::vector<std::uint64_t>& cumulativeCounts, double sum, std::uint64_t count) {
  const std::string bucket = std::string(name) + "_bucket";
  Labels withLe = labels;
  withLe.emplace_back("le", "");
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    const std::string le = number(bounds[i]);
    withLe.back().second = le;
    sample(bucket, withLe, static_cast<double>(cumulativeCounts[i]));
  }
  withLe.back().second = "+Inf";
  sample(bucket, withLe, static_cast<double>(count));
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(count));
}

}  // namespace hnsproxy::proxy

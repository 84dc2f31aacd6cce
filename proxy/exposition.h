// The Prometheus text exposition format (0.0.4), written in one place for every metric kube-proxy
// serves: each family's HELP and TYPE lines once, label values and help text escaped as the format
// requires, numbers as client_golang writes them (integers without a fraction, +Inf/-Inf).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hnsproxy::proxy {

enum class MetricType { Counter, Gauge, Histogram };

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::vector<Label>;

class Exposition {
 public:
  // Starts a family: its HELP and TYPE lines.
  void family(std::string_view name, MetricType type, std::string_view help);
  // One sample line: name{labels} value.
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  // A histogram's samples: cumulative buckets by upper bound (counts[i] observations <= bounds[i]),
  // +Inf, then _sum and _count.
  void histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                 const std::vector<std::uint64_t>& cumulativeCounts, double sum, std::uint64_t count);
  // Text written elsewhere with this writer, appended as is.
  void append(const Exposition& other) { out_ += other.out_; }

  const std::string& text() const { return out_; }

  static std::string number(double v);
  static std::string escapeLabelValue(std::string_view v);  // backslash, double quote, newline
  static std::string escapeHelp(std::string_view v);        // backslash, newline

 private:
  std::string out_;
};

}  // namespace hnsproxy::proxy

#include "policy/ip.h"

#include <charconv>
#include <cstdio>

namespace hnsproxy::policy {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view toString(IpFamily f) { return f == IpFamily::V4 ? "IPv4" : "IPv6"; }

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.family_ = IpFamily::V4;
  ip.bytes_[0] = a;
  ip.bytes_[1] = b;
  ip.bytes_[2] = c;
  ip.bytes_[3] = d;
  return ip;
}

IpAddress IpAddress::fromBytes(IpFamily family, const std::uint8_t* bytes) {
  IpAddress ip;
  ip.family_ = family;
  for (std::size_t i = 0; i < (family == IpFamily::V4 ? 4u : 16u); ++i) ip.bytes_[i] = bytes[i];
  return ip;
}

namespace {

bool parseDottedQuad(std::string_view s, std::uint8_t out[4]) {
  int part = 0;
  std::size_t i = 0;
  while (part < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + static_cast<unsigned>(s[i] - '0');
      if (value > 255 || i - start >= 3) return false;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return false;  // no leading zeros (ambiguous octal)
    out[part++] = static_cast<std::uint8_t>(value);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool parseV6(std::string_view s, std::uint8_t out[16]) {
  std::uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // index in groups where "::" stands
  std::size_t i = 0;
  if (s.size() < 2) return false;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    gap = 0;
    i = 2;
    if (i == s.size()) {
      for (int k = 0; k < 16; ++k) out[k] = 0;
      return true;
    }
  }
  while (i < s.size()) {
    if (count >= 8) return false;
    // An embedded IPv4 tail takes two groups.
    std::size_t end = s.find(':', i);
    std::string_view token = s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (token.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos || count > 6) return false;
      std::uint8_t q[4];
      if (!parseDottedQuad(token, q)) return false;
      groups[count++] = static_cast<std::uint16_t>(q[0] << 8 | q[1]);
      groups[count++] = static_cast<std::uint16_t>(q[2] << 8 | q[3]);
      i = s.size();
      break;
    }
    if (token.empty() || token.size() > 4) return false;
    unsigned value = 0;
    for (char c : token) {
      int h = hexDigit(c);
      if (h < 0) return false;
      value = value * 16 + static_cast<unsigned>(h);
    }
    groups[count++] = static_cast<std::uint16_t>(value);
    if (end == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = end + 1;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;  // only one "::"
      gap = count;
      ++i;
    } else if (i == s.size()) {
      return false;  // trailing single ':'
    }
  }
  if (gap < 0) {
    if (count != 8) return false;
  } else {
    if (count > 7) return false;
    int tail = count - gap;
    for (int k = 0; k < tail; ++k) groups[7 - k] = groups[count - 1 - k];
    for (int k = gap; k < 8 - tail; ++k) groups[k] = 0;
  }
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(groups[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(groups[k] & 0xff);
  }
  return true;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  IpAddress ip;
  if (text.find(':') != std::string_view::npos) {
    if (!parseV6(text, ip.bytes_.data())) return std::nullopt;
    ip.family_ = IpFamily::V6;
    return ip;
  }
  if (!parseDottedQuad(text, ip.bytes_.data())) return std::nullopt;
  ip.family_ = IpFamily::V4;
  return ip;
}

bool IpAddress::isUnspecified() const {
  for (std::size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::string IpAddress::str() const {
  char buf[64];
  if (isV4()) {
    (void)std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    return buf;
  }
  std::uint16_t g[8];
  for (std::size_t k = 0; k < 8; ++k) g[k] = static_cast<std::uint16_t>(bytes_[2 * k] << 8 | bytes_[2 * k + 1]);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  int bestStart = -1, bestLen = 0;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int start = k;
    while (k < 8 && g[k] == 0) ++k;
    if (k - start > bestLen) {
      bestStart = start;
      bestLen = k - start;
    }
  }
  if (bestLen < 2) bestStart = -1;
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == bestStart) {
      out += "::";
      k += bestLen - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    (void)std::snprintf(buf, sizeof buf, "%x", g[k]);
    out += buf;
  }
  return out;
}

// cppcheck-suppress passedByValue ; IpAddress is a 17-byte value type, cheaper to copy than to reference
Cidr::Cidr(IpAddress base, int prefixLength) : base_(base), prefix_(prefixLength) {
  auto bytes = base_.bytes();
  for (std::size_t i = 0; i < base_.size(); ++i) {
    int bitsHere = prefix_ - static_cast<int>(i) * 8;
    if (bitsHere >= 8) continue;
    bytes[i] = bitsHere <= 0 ? 0 : static_cast<std::uint8_t>(bytes[i] & (0xff << (8 - bitsHere)));
  }
  base_ = IpAddress::fromBytes(base_.family(), bytes.data());
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  auto len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : len) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (len.size() > 1 && len[0] == '0') return std::nullopt;
  if (n > static_cast<int>(ip->size() * 8)) return std::nullopt;
  return Cidr(*ip, n);
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.family() != base_.family()) return false;
  const auto& a = ip.bytes();
  const auto& b = base_.bytes();
  int bits = prefix_;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

std::string Cidr::str() const { return base_.str() + "/" + std::to_string(prefix_); }

std::optional<std::int64_t> parseDecimal(std::string_view text, std::int64_t lo, std::int64_t hi) {
  const bool plus = !text.empty() && text.front() == '+';
  if (plus) text.remove_prefix(1);
  if (text.empty() || text.front() == '+' || (plus && text.front() == '-')) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < lo || n > hi) return std::nullopt;
  return n;
}

std::optional<HostPort> HostPort::parse(std::string_view text) {
  HostPort hp;
  std::string_view port;
  bool hasPort = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      hasPort = true;
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos && text.find(':') == colon) {
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    hasPort = true;
  } else {
    hp.host = std::string(text);
  }
  if (hasPort) {
    auto n = parseDecimal(port, 0, 65535);
    if (!n) return std::nullopt;
    hp.port = static_cast<std::uint16_t>(*n);
  }
  return hp;
}

std::string HostPort::str() const {
  if (!port) return host;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(*port);
}

}  // namespace hnsproxy::policy

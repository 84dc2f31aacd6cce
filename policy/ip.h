// IP addresses and prefixes as value types: parsed strictly, compared by value, printed canonically.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hnsproxy::policy {

enum class IpFamily : std::uint8_t { V4, V6 };

std::string_view toString(IpFamily f);

// The value of one hexadecimal digit (either case), or -1: for addresses, MACs and GUIDs.
int hexDigit(char c);

// An IPv4 or IPv6 address. IPv4 is stored in the first 4 bytes. IPv4-mapped IPv6 text
// ("::ffff:1.2.3.4") is an IPv6 address here, as Kubernetes' strict validation treats it.
class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static IpAddress fromBytes(IpFamily family, const std::uint8_t* bytes);

  // Strict parse: dotted quad without leading zeros, or RFC 4291 text (with '::' and an
  // embedded dotted quad). No zone IDs, no surrounding whitespace.
  static std::optional<IpAddress> parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool isV4() const { return family_ == IpFamily::V4; }
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::size_t size() const { return isV4() ? 4 : 16; }
  bool isUnspecified() const;

  // Canonical text: dotted quad, or RFC 5952 for IPv6.
  std::string str() const;

  // The family, then the bytes in order: compared as two 64-bit words, not by a call to memcmp
  // (these are the keys of the maps of 100,000 endpoints, compared at every lookup).
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
    if (a.family_ != b.family_) return a.family_ <=> b.family_;
    if (auto c = a.word(0) <=> b.word(0); c != 0) return c;
    return a.word(1) <=> b.word(1);
  }
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.word(0) == b.word(0) && a.word(1) == b.word(1);
  }

 private:
  // Bytes 8i to 8i+7 as a number whose order is theirs (big-endian).
  std::uint64_t word(std::size_t i) const {
    std::uint64_t w = 0;
    std::memcpy(&w, bytes_.data() + 8 * i, 8);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }
  IpFamily family_ = IpFamily::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

// A prefix such as 10.244.1.0/24. Host bits are cleared on parse.
class Cidr {
 public:
  Cidr() = default;
  Cidr(IpAddress base, int prefixLength);
  static std::optional<Cidr> parse(std::string_view text);

  const IpAddress& base() const { return base_; }
  int prefixLength() const { return prefix_; }
  IpFamily family() const { return base_.family(); }
  bool contains(const IpAddress& ip) const;
  std::string str() const;

  friend auto operator<=>(const Cidr&, const Cidr&) = default;
  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  IpAddress base_;
  int prefix_ = 0;
};

// A whole decimal integer within [lo, hi], as Go's strconv.ParseInt reads it (an optional sign,
// digits, nothing else: no spaces, no trailing text); nullopt otherwise. std::from_chars underneath.
std::optional<std::int64_t> parseDecimal(std::string_view text, std::int64_t lo, std::int64_t hi);

// "host:port", "[v6]:port" or a host alone: every address the product reads (bind addresses, the
// API server's URL, hnsdiag's --src/--dst) is split here, once.
struct HostPort {
  std::string host;  // without brackets; empty for ":10256"
  std::optional<std::uint16_t> port;

  // nullopt when malformed: an unclosed "[", text after "]" that is not ":port", a port that is
  // not a number in 0..65535. Unbracketed text with more than one ':' is an IPv6 address alone
  // (no port), as Go's net.SplitHostPort refuses to split it.
  static std::optional<HostPort> parse(std::string_view text);
  std::string str() const;  // host:port, with brackets around an IPv6 host; the host alone without a port
};

}  // namespace hnsproxy::policy

template <>
struct std::hash<hnsproxy::policy::IpAddress> {
  std::size_t operator()(const hnsproxy::policy::IpAddress& ip) const noexcept {
    std::uint64_t h = 1469598103934665603ull ^ static_cast<std::uint64_t>(ip.family());
    for (std::size_t i = 0; i < ip.size(); ++i) h = (h ^ ip.bytes()[i]) * 1099511628211ull;
    return static_cast<std::size_t>(h);
  }
};

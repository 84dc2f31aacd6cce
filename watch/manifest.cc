#include "watch/manifest.h"
#include "watch/list_reader.h"
#include "policy/ip.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <streambuf>
#include <system_error>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <nlohmann/json.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace hnsproxy::watch {

using nlohmann::json;

std::string ManifestError::str() const {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

namespace {

bool isInteger(const std::string& s) {
  std::size_t i = (s.size() > 1 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size() || s.size() - i > 18) return false;
  if (s.size() - i > 1 && s[i] == '0') return false;  // YAML 1.1 octal look-alike: keep as text
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// A plain scalar that is a finite float; one past double's range stays text (std::stod would throw).
std::optional<double> parseFloat(const std::string& s) {
  if (s.empty() || s.find_first_of("0123456789") == std::string::npos ||
      s.find_first_not_of("0123456789+-.eE") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE) return std::nullopt;
  return v;
}

// Untrusted files (manifests, --config, kubeconfigs) go through here, so the conversion is bounded:
// a YAML alias repeats the node it names, and a few hundred bytes of nested aliases ("billion
// laughs") would expand to gigabytes; deep nesting would exhaust the stack.
constexpr std::size_t kMaxValues = 4u << 20;  // values one file may expand to (4 Mi)
constexpr int kMaxDepth = 128;                // nesting of mappings and sequences

struct TooLarge {
  std::string what;
};

// A plain or quoted scalar as Kubernetes' YAML reader resolves it (quoted: always a string).
json resolveScalar(const std::string& tag, const std::string& s) {
  if (tag == "!") return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (isInteger(s))
    if (auto n = policy::parseDecimal(s, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()))
      return *n;  // at most 18 digits: always in range
  if (auto f = parseFloat(s)) return *f;
  return s;
}

// A YAML document is read twice from yaml-cpp's events, never as a yaml-cpp node tree:
//  1. the scan builds nothing. It counts the values the document expands to (an anchored node's
//     count is recorded when it ends; an alias adds it again), so an alias bomb is refused at
//     once, and it notes the document's kind and, for a `kind: List`, each item's kind;
//  2. the build writes JSON from the events — only for the documents, and List items, of a kind
//     the proxy uses (or without a kind: the decoder names what is wrong with them). A 56 MB
//     ConfigMap costs one scan and no memory; a Service in a List of other things costs its own
//     size.
// An anchor defined in a skipped item and used outside it makes that item built too.
constexpr std::size_t kRootItems = static_cast<std::size_t>(-1);

class YamlScan : public YAML::EventHandler {
 public:
  std::size_t values = 0;
  std::optional<json> rootKind;
  std::vector<std::optional<json>> itemKinds;  // the root's "items" sequence, when it has one
  std::set<std::size_t> neededItems;           // items that define an anchor used elsewhere
  std::size_t itemSequences = 0;               // root "items" sequences (a repeated key: the last wins)

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor, nullptr); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    std::size_t n = it == anchors_.end() ? 1 : it->second.size;
    if (it != anchors_.end() && it->second.item != kRootItems && it->second.item != currentItem())
      neededItems.insert(it->second.item);
    add(n);
    value(nullptr);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor, const std::string& v) override {
    leaf(anchor, &v, tag);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(false, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(true, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    bool map = false;
    bool expectKey = true;     // maps: the next node is a key
    std::string key;           // maps: the key of the value being read (scalar keys)
    std::size_t valuesAtStart = 0;
    YAML::anchor_t anchor = 0;
    bool items = false;        // the root map's "items" sequence
    std::size_t item = kRootItems;
  };
  struct Anchored {
    std::size_t size = 1;
    std::size_t item = kRootItems;
  };

  std::size_t currentItem() const {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
      if (it->item != kRootItems) return it->item;
    return kRootItems;
  }
  void add(std::size_t n) {
    values = n > kMaxValues ? kMaxValues + 1 : values + n;
    if (values > kMaxValues)
      throw TooLarge{"the document expands to more than " + std::to_string(kMaxValues) +
                     " values (YAML aliases repeating large nodes?)"};
  }
  // A child of the innermost frame begins; returns the item index it starts, if any.
  std::size_t childStarts() {
    if (stack_.empty()) return kRootItems;
    Frame& f = stack_.back();
    if (f.items) {
      itemKinds.emplace_back();
      return itemKinds.size() - 1;
    }
    return kRootItems;
  }
  void leaf(YAML::anchor_t anchor, const std::string* text, const std::string& tag = "?") {
    add(1);
    childStarts();
    if (anchor) anchors_[anchor] = Anchored{1, currentItem()};
    if (text) value(text, tag);
    else value(nullptr);
  }
  // A scalar (or null, or alias) completed as the innermost frame's child.
  void value(const std::string* text, const std::string& tag = "?") {
    if (stack_.empty()) return;
    Frame& f = stack_.back();
    if (!f.map) return;
    if (f.expectKey) {
      f.key = text ? *text : std::string();
      f.expectKey = false;
      return;
    }
    if (text && f.key == "kind") {
      if (stack_.size() == 1) rootKind = resolveScalar(tag, *text);
      else if (stack_.size() == 3 && stack_[1].items && f.item != kRootItems) itemKinds[f.item] = resolveScalar(tag, *text);
    }
    f.expectKey = true;
  }
  void open(bool map, YAML::anchor_t anchor) {
    add(1);
    std::size_t item = childStarts();
    bool items = false;
    if (!stack_.empty()) {
      Frame& parent = stack_.back();
      if (parent.map) {
        if (parent.expectKey) throw TooLarge{"a mapping key that is not a scalar is not supported"};
        items = !map && stack_.size() == 1 && parent.key == "items";
        if (items) ++itemSequences;
      }
    }
    if (static_cast<int>(stack_.size()) >= kMaxDepth)
      throw TooLarge{"the document nests deeper than " + std::to_string(kMaxDepth) + " levels"};
    Frame f;
    f.map = map;
    f.valuesAtStart = values;
    f.anchor = anchor;
    f.items = items;
    f.item = item;
    stack_.push_back(std::move(f));
  }
  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) anchors_[f.anchor] = Anchored{values - f.valuesAtStart + 1, f.item != kRootItems ? f.item : currentItem()};
    if (!stack_.empty() && stack_.back().map) stack_.back().expectKey = true;
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
};

class YamlBuild : public YAML::EventHandler {
 public:
  // skipItem(i): whether the root List's item i is left out. onItem: when set, each kept item of
  // the root's "items" is handed over as it ends instead of joining the result (a List of the
  // whole cluster is then never one JSON tree).
  explicit YamlBuild(std::function<bool(std::size_t)> skipItem, std::function<void(json&&)> onItem = {})
      : skipItem_(std::move(skipItem)), onItem_(std::move(onItem)) {}
  json result;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(nullptr, anchor); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    if (skipping()) return;
    auto it = anchors_.find(anchor);
    put(it == anchors_.end() ? json() : it->second);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor, const std::string& v) override {
    if (skipping()) return;
    if (!stack_.empty() && stack_.back().map && stack_.back().expectKey) {  // a key: always text
      stack_.back().key = v;
      stack_.back().expectKey = false;
      return;
    }
    leaf(resolveScalar(tag, v), anchor);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(json::object(), anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {  // NOLINT(bugprone-exception-escape): json members: an allocation failure ends the process anyway
    json value;
    bool map = false;
    bool expectKey = true;
    std::string key;
    YAML::anchor_t anchor = 0;
    bool items = false;
    std::size_t nextItem = 0;
  };
  bool skipping() const { return skipDepth_ > 0; }
  // Whether the node about to start is a root List item to leave out.
  bool skipNext() {
    if (stack_.empty() || !stack_.back().items) return false;
    return skipItem_(stack_.back().nextItem++);
  }
  void leaf(json v, YAML::anchor_t anchor) {
    if (skipping()) return;
    if (skipNext()) return;
    if (anchor) anchors_[anchor] = v;
    put(std::move(v));
  }
  void put(json v) {
    if (stack_.empty()) {
      result = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    if (f.map) {
      f.value[f.key] = std::move(v);  // a repeated key: the last wins
      f.expectKey = true;
    } else if (f.items && onItem_) {
      onItem_(std::move(v));
    } else {
      f.value.push_back(std::move(v));
    }
  }
  void open(json v, YAML::anchor_t anchor) {
    if (skipping()) {
      ++skipDepth_;
      return;
    }
    if (skipNext()) {
      skipDepth_ = 1;
      return;
    }
    Frame f;
    f.map = v.is_object();
    f.items = !f.map && stack_.size() == 1 && stack_[0].map && stack_[0].key == "items";
    f.value = std::move(v);
    f.anchor = anchor;
    stack_.push_back(std::move(f));
  }
  void close() {
    if (skipping()) {
      --skipDepth_;
      return;
    }
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) anchors_[f.anchor] = f.value;
    put(std::move(f.value));
  }

  std::function<bool(std::size_t)> skipItem_;
  std::function<void(json&&)> onItem_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, json> anchors_;
  int skipDepth_ = 0;
};

bool kindWanted(const std::optional<json>& kind, bool listsToo) {
  if (!kind || !kind->is_string()) return true;  // no usable kind: the decoder says what is wrong
  const auto& k = kind->get_ref<const std::string&>();
  return kindUsed(k) || (listsToo && k == "List");
}

// kubectl's `kind: List`, expanded without recursion: a List nested in a List (not valid
// Kubernetes, but seen) is expanded up to kMaxListDepth, deeper ones are an error.
constexpr int kMaxListDepth = 8;

// `listDepth`: how deep in Lists the value is (1: an item of a List handed over alone).
void addObject(ManifestFile& out, const json& doc, const std::string& file, int line, int listDepth = 0) {
  std::vector<std::pair<const json*, int>> stack{{&doc, listDepth}};
  while (!stack.empty()) {
    auto [d, depth] = stack.back();
    stack.pop_back();
    if (d->is_null()) continue;  // empty document ("---" alone)
    if (d->is_object() && d->contains("kind") && (*d)["kind"] == "List") {
      if (!d->contains("items") || !(*d)["items"].is_array()) {
        out.errors.push_back({file, line, "kind List without an items list"});
        continue;
      }
      if (depth >= kMaxListDepth) {
        out.errors.push_back({file, line, "kind List nested deeper than " + std::to_string(kMaxListDepth) + " levels"});
        continue;
      }
      const auto& items = (*d)["items"];
      for (auto it = items.rbegin(); it != items.rend(); ++it) stack.emplace_back(&*it, depth + 1);  // keep file order
      continue;
    }
    auto r = decodeObject(*d);
    if (r) {
      out.objects.push_back({std::move(r).value(), line});
    } else if (r.error().code != ErrorCode::NotFound) {
      out.errors.push_back({file, line, r.error().message});
    }
  }
}

// JSON nesting, counted before nlohmann builds the document (its parser is iterative, but what
// walks the result is not all iterative, and a 12,000-deep document has no business here).
bool nestsTooDeep(const std::string& text, int limit) {
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

struct YamlDocument {
  json value;
  int line = 1;  // 1-based line where the document's content starts
};

struct IgnoreEvents : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The line (0-based, within the document) of the document's first node.
struct FirstLine : IgnoreEvents {
  int line = -1;
  void at(const YAML::Mark& m) {
    if (line < 0) line = m.line;
  }
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { at(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { at(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { at(m); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { at(m); }
};

// Forwards events to two handlers (the scan and the first-line finder).
struct Both : YAML::EventHandler {
  YAML::EventHandler& a;
  YAML::EventHandler& b;
  Both(YAML::EventHandler& x, YAML::EventHandler& y) : a(x), b(y) {}
  void OnDocumentStart(const YAML::Mark& m) override { a.OnDocumentStart(m), b.OnDocumentStart(m); }
  void OnDocumentEnd() override { a.OnDocumentEnd(), b.OnDocumentEnd(); }
  void OnNull(const YAML::Mark& m, YAML::anchor_t n) override { a.OnNull(m, n), b.OnNull(m, n); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t n) override { a.OnAlias(m, n), b.OnAlias(m, n); }
  void OnScalar(const YAML::Mark& m, const std::string& t, YAML::anchor_t n, const std::string& v) override {
    a.OnScalar(m, t, n, v), b.OnScalar(m, t, n, v);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string& t, YAML::anchor_t n, YAML::EmitterStyle::value st) override {
    a.OnSequenceStart(m, t, n, st), b.OnSequenceStart(m, t, n, st);
  }
  void OnSequenceEnd() override { a.OnSequenceEnd(), b.OnSequenceEnd(); }
  void OnMapStart(const YAML::Mark& m, const std::string& t, YAML::anchor_t n, YAML::EmitterStyle::value st) override {
    a.OnMapStart(m, t, n, st), b.OnMapStart(m, t, n, st);
  }
  void OnMapEnd() override { a.OnMapEnd(), b.OnMapEnd(); }
};

// A reading view of text already in memory: yaml-cpp reads a stream, and a std::stringstream would
// copy a 50 MB document once more.
class ViewBuf final : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view v) {
    char* b = const_cast<char*>(v.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast): get area only, never written
    setg(b, b, b + v.size());
  }
};

// The brackets a line opens and does not close (a crude guard: see unusedKindAtAGlance).
int bracketBalance(std::string_view l) {
  int n = 0;
  for (char c : l) n += (c == '{' || c == '[') ? 1 : (c == '}' || c == ']') ? -1 : 0;
  return n;
}

// A document whose root is a plain block mapping with one `kind:` key naming a kind the proxy does
// not use, seen without parsing: a 50 MB ConfigMap then costs one pass over its bytes, not
// yaml-cpp's tokens and events. Only when sure: every line at column 0 is a `key:` with a simple
// key (no flow, sequence, tag, anchor, directive or quoted key at the root), exactly one of them is
// `kind`, its value is one plain or quoted word, and no bracket is left open before a root line
// (a flow collection that could run on at column 0). Anything else is parsed as before.
bool unusedKindAtAGlance(std::string_view doc) {
  std::optional<std::string_view> kind;
  int open = 0;
  std::size_t at = 0;
  while (at < doc.size()) {
    std::size_t nl = doc.find('\n', at);
    if (nl == std::string_view::npos) nl = doc.size();
    std::string_view l = doc.substr(at, nl - at);
    at = nl + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l[0] == '#') continue;
    if (l[0] == ' ' || l[0] == '\t') {
      open += bracketBalance(l);
      continue;
    }
    if (open != 0) return false;
    const std::size_t colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (std::size_t i = 0; i < colon; ++i) {
      const char c = l[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '/') return false;
    }
    if (colon + 1 < l.size() && l[colon + 1] != ' ' && l[colon + 1] != '\t') return false;
    std::string_view value = l.substr(colon + 1);
    open += bracketBalance(value);
    if (l.substr(0, colon) != "kind") continue;
    if (kind) return false;  // a duplicate key: the parser says what is wrong
    if (auto hash = value.find(" #"); hash != std::string_view::npos) value = value.substr(0, hash);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    const bool quoted = value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front();
    if (quoted) value = value.substr(1, value.size() - 2);
    if (value.empty()) return false;
    for (char c : value)
      if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    // A plain value must read as a string: a kind's UpperCamel word, not a number, boolean or null.
    if (!quoted && (value.front() < 'A' || value.front() > 'Z')) return false;
    for (std::string_view special : {"True", "TRUE", "False", "FALSE", "Null", "NULL", "Yes", "YES", "No", "NO", "On", "ON", "Off", "OFF"})
      if (!quoted && value == special) return false;
    if (kindUsed(value) || value == "List") return false;  // to be parsed: no need to look further
    kind = value;
  }
  return kind.has_value();
}

bool documentMarker(std::string_view line) {
  if (line.substr(0, 3) != "---" && line.substr(0, 3) != "...") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// Every document of a YAML stream as JSON, with the line each starts on; with `skipUnused`, the
// documents and List items of kinds the proxy does not use are left out unread (see YamlScan).
// yaml-cpp 0.7's LoadAll never returns on some malformed input — a quoted scalar followed by a
// comma at the top level, 5 bytes, allocates until the process dies (jbeder/yaml-cpp#1040, fixed
// upstream by PR #1319, after Debian 12's 0.7.0; found by tests/fuzz). So the stream is split here
// at its document markers (`---`, `...` at the start of a line) and each document is parsed alone:
// one document is read and the parser asked once more, never in a loop; content after the
// document is an error.
// Each document goes to `sink` as it is built (value, line, List depth 0); with `streamLists`, the
// items of a document of kind List go to it one by one as they end (depth 1), then the List
// without them.
using YamlSink = std::function<void(json&& value, int line, int listDepth)>;
void forEachYamlDocument(const std::string& text, bool skipUnused, bool streamLists, const YamlSink& sink) {
  auto loadOne = [&](std::string_view chunk, int firstLine) {
    if (chunk.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
    if (skipUnused && unusedKindAtAGlance(chunk)) return;
    auto shifted = [&](YAML::Mark m) {
      if (m.line >= 0) m.line += firstLine - 1;
      return m;
    };
    try {
      YamlScan scan;
      FirstLine first;
      {
        ViewBuf buf(chunk);
        std::istream in(&buf);
        YAML::Parser parser(in);
        Both both(scan, first);
        parser.HandleNextDocument(both);
        IgnoreEvents ignore;
        if (parser.HandleNextDocument(ignore))  // bounded: two calls, never a loop
          throw YAML::ParserException(shifted(YAML::Mark{}), "unexpected content after the document (a stray comma or bracket?)");
      }
      const int line = firstLine + std::max(0, first.line);
      if (skipUnused && !kindWanted(scan.rootKind, true)) return;
      const bool list = scan.rootKind && scan.rootKind->is_string() && *scan.rootKind == "List";
      std::function<void(json&&)> onItem;
      if (streamLists && list && scan.itemSequences == 1) onItem = [&](json&& item) { sink(std::move(item), line, 1); };
      YamlBuild build(
          [&](std::size_t i) {
            return skipUnused && list && i < scan.itemKinds.size() && !kindWanted(scan.itemKinds[i], true) &&
                   !scan.neededItems.count(i);
          },
          std::move(onItem));
      ViewBuf buf(chunk);
      std::istream in(&buf);
      YAML::Parser parser(in);
      parser.HandleNextDocument(build);
      sink(std::move(build.result), line, 0);
    } catch (const YAML::ParserException& e) {
      throw YAML::ParserException(shifted(e.mark), e.msg);
    }
  };
  // Each document is a view of `text` (its lines between markers), copied only when it starts on
  // its marker's line (`--- value`).
  std::string prefix;
  std::size_t begin = 0;
  auto finish = [&](std::size_t end, int start) {
    const std::string_view body(text.data() + begin, end - begin);
    if (prefix.empty()) {
      loadOne(body, start);
    } else {
      const std::string joined = prefix + std::string(body);
      loadOne(joined, start);
    }
  };
  int line = 1, chunkStart = 1;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t nl = text.find('\n', at);
    std::string_view l(text.data() + at, (nl == std::string::npos ? text.size() : nl) - at);
    if (documentMarker(l)) {
      finish(at, chunkStart);
      prefix.clear();
      // `--- value` starts a document on the marker's line; the marker itself stays out
      if (l.substr(0, 3) == "---" && l.size() > 4) prefix = std::string(l.substr(4)) + "\n";
      begin = nl == std::string::npos ? text.size() : nl + 1;
      chunkStart = line;
      if (l.substr(0, 3) == "---" && l.size() <= 4) chunkStart = line + 1;
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
    ++line;
  }
  finish(text.size(), chunkStart);
}

std::vector<YamlDocument> loadYamlDocuments(const std::string& text, bool skipUnused) {
  std::vector<YamlDocument> docs;
  forEachYamlDocument(text, skipUnused, false, [&](json&& v, int line, int) { docs.push_back({std::move(v), line}); });
  return docs;
}

int lineOfOffset(const std::string& text, std::size_t offset) {
  int line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return line;
}

bool looksLikeJson(const std::string& text, const std::string& fileName) {
  if (fileName.size() >= 5 && fileName.compare(fileName.size() - 5, 5, ".json") == 0) return true;
  auto p = text.find_first_not_of(" \t\r\n");
  return p != std::string::npos && (text[p] == '{' || text[p] == '[');
}

}  // namespace

namespace {

// The JSON counterpart of YamlScan: one SAX pass that builds nothing and notes the kinds — of the
// root object, and of each element of the root array or of a root object's "items" array.
class JsonScan : public nlohmann::json_sax<json> {
 public:
  std::optional<json> rootKind;
  std::vector<std::optional<json>> itemKinds;

  bool null() override { return leaf(nullptr); }
  bool boolean(bool v) override { return leaf(v); }
  bool number_integer(number_integer_t v) override { return leaf(v); }
  bool number_unsigned(number_unsigned_t v) override { return leaf(v); }
  bool number_float(number_float_t v, const string_t&) override { return leaf(v); }
  bool string(string_t& v) override { return leaf(v); }
  bool binary(binary_t&) override { return leaf(nullptr); }
  bool start_object(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    stack_.back().key = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool object = false;
    bool items = false;  // the container whose elements are the file's objects
    std::size_t item = static_cast<std::size_t>(-1);
    std::string key;
  };
  void element() {  // a value starts inside the innermost frame
    if (!stack_.empty() && stack_.back().items) itemKinds.emplace_back();
  }
  bool leaf(const json& v) {
    element();
    if (!stack_.empty() && stack_.back().object && stack_.back().key == "kind") {
      if (stack_.size() == 1) rootKind = v;
      else if (stack_[stack_.size() - 2].items) itemKinds[stack_.back().item] = v;
    }
    return true;
  }
  bool open(bool object) {
    element();
    Frame f;
    f.object = object;
    if (!stack_.empty() && stack_.back().items) f.item = itemKinds.size() - 1;
    f.items = !object && (stack_.empty() || (stack_.size() == 1 && stack_[0].object && stack_[0].key == "items"));
    stack_.push_back(std::move(f));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  std::vector<Frame> stack_;
};

// A JSON manifest, leaving out unread what the proxy does not use (a root object of another kind;
// elements of the root array or of a List's items of another kind). Each object element is decoded
// into `out` as soon as it is parsed and dropped from the document: a List of 10,000 EndpointSlices
// is never one document (it was 10 times the file's size). What is returned is the rest: the root
// object when it is not a list, or the elements that are not objects.
json parseJsonManifest(const std::string& text, const std::string& fileName, ManifestFile& out, bool* skipped) {
  JsonScan scan;
  if (!json::sax_parse(text, &scan)) return json::parse(text);  // throws the parse error, with its position
  *skipped = !kindWanted(scan.rootKind, true);
  if (*skipped) return json();
  const bool list = scan.rootKind && *scan.rootKind == "List";
  if (list) {
    // A List's EndpointSlices that say so before their endpoints (as kubectl writes them) are
    // decoded from the parser's events; what that cannot decode exactly is read again below.
    const std::size_t objects = out.objects.size(), errors = out.errors.size();
    std::size_t i = 0;
    auto rest = readListItems(text, "", [&](json& item, std::vector<policy::Endpoint>* endpoints) {
      const std::size_t at = i++;
      if (at < scan.itemKinds.size() && !kindWanted(scan.itemKinds[at], true)) return true;
      if (!endpoints) {
        addObject(out, item, fileName, 1);
        return true;
      }
      auto r = decodeEndpointSliceStreamed(item, *endpoints);
      if (!r) return false;
      if (*r) out.objects.push_back({Object(std::move(*r).value()), 1});
      else out.errors.push_back({fileName, 1, r->error().message});
      return true;
    });
    if (rest) return std::move(*rest);
    out.objects.erase(out.objects.begin() + static_cast<std::ptrdiff_t>(objects), out.objects.end());
    out.errors.erase(out.errors.begin() + static_cast<std::ptrdiff_t>(errors), out.errors.end());
  }
  std::size_t item = 0;
  bool inItems = false;
  std::string rootKey;
  return json::parse(text, [&](int depth, json::parse_event_t e, json& parsed) {
    using E = json::parse_event_t;
    if (e == E::key && depth == 1) rootKey = parsed.get<std::string>();
    const int elementDepth = list ? 2 : 1;
    const bool start = e == E::object_start || e == E::array_start || e == E::value;
    if ((list && depth == 1 && e == E::array_start && rootKey == "items") || (!list && depth == 0 && e == E::array_start)) {
      inItems = true;
      return true;
    }
    if (inItems && depth == elementDepth - 1 && e == E::array_end) inItems = false;
    if (inItems && depth == elementDepth && start) {
      const std::size_t i = item++;
      if (e == E::object_start && i < scan.itemKinds.size() && !kindWanted(scan.itemKinds[i], true)) return false;
    }
    if (inItems && depth == elementDepth && e == E::object_end) {
      addObject(out, parsed, fileName, 1);
      return false;
    }
    return true;
  });
}

}  // namespace

ManifestFile parseManifest(const std::string& text, const std::string& fileName) {
  ManifestFile out;
  if (looksLikeJson(text, fileName)) {
    if (nestsTooDeep(text, kMaxDepth)) {
      out.syntaxError = true;
      out.errors.push_back({fileName, 0, "invalid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels"});
      return out;
    }
    try {
      bool skipped = false;
      json doc = parseJsonManifest(text, fileName, out, &skipped);
      if (skipped) return out;
      if (doc.is_array()) {
        for (const auto& item : doc) addObject(out, item, fileName, 1);
      } else {
        addObject(out, doc, fileName, 1);
      }
    } catch (const json::parse_error& e) {
      out.syntaxError = true;
      out.objects.clear();
      std::string msg = e.what();
      if (auto p = msg.find("parse error"); p != std::string::npos) msg = msg.substr(p);
      out.errors.push_back({fileName, lineOfOffset(text, e.byte > 0 ? e.byte - 1 : 0), "invalid JSON: " + msg});
    } catch (const json::exception& e) {  // e.g. a number past double's range (out_of_range.406)
      out.syntaxError = true;
      out.objects.clear();
      out.errors.push_back({fileName, 0, std::string("invalid JSON: ") + e.what()});
    }
    return out;
  }
  // Each document, and each item of a List, is decoded as soon as it is read and its JSON dropped:
  // a file (or a List) of the whole cluster is never held as one tree. A syntax error anywhere
  // applies nothing of the file, as before: what was decoded until then is dropped with its errors.
  try {
    forEachYamlDocument(text, true, true, [&](json&& v, int line, int depth) { addObject(out, v, fileName, line, depth); });
  } catch (const YAML::Exception& e) {
    out.syntaxError = true;
    out.objects.clear();
    out.errors.clear();
    out.errors.push_back({fileName, e.mark.line >= 0 ? e.mark.line + 1 : 0, "invalid YAML: " + e.msg});
  } catch (const TooLarge& e) {
    out.syntaxError = true;
    out.objects.clear();
    out.errors.clear();
    out.errors.push_back({fileName, 0, "not applied: " + e.what});
  }
  return out;
}

Result<std::vector<json>> parseDocuments(const std::string& text, const std::string& fileName) {
  std::vector<json> out;
  if (looksLikeJson(text, fileName)) {
    auto one = parseDocument(text, fileName);
    if (!one) return one.error();
    out.push_back(std::move(*one));
    return out;
  }
  try {
    for (auto& d : loadYamlDocuments(text, false))
      if (!d.value.is_null()) out.push_back(std::move(d.value));
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::InvalidInput,
                 fileName + ":" + std::to_string(e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": invalid YAML: " + e.msg);
  } catch (const TooLarge& e) {
    return Error(ErrorCode::InvalidInput, fileName + ": " + e.what);
  }
  return out;
}

Result<json> parseDocument(const std::string& text, const std::string& fileName) {
  if (looksLikeJson(text, fileName)) {
    if (nestsTooDeep(text, kMaxDepth))
      return Error(ErrorCode::InvalidInput, fileName + ": invalid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels");
    try {
      return json::parse(text);
    } catch (const json::parse_error& e) {
      return Error(ErrorCode::InvalidInput, fileName + ":" + std::to_string(lineOfOffset(text, e.byte > 0 ? e.byte - 1 : 0)) +
                                                ": invalid JSON: " + e.what());
    } catch (const json::exception& e) {  // e.g. a number past double's range (out_of_range.406)
      return Error(ErrorCode::InvalidInput, fileName + ": invalid JSON: " + e.what());
    }
  }
  try {
    auto docs = loadYamlDocuments(text, false);
    return docs.empty() ? json() : std::move(docs.front().value);
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::InvalidInput,
                 fileName + ":" + std::to_string(e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": invalid YAML: " + e.msg);
  } catch (const TooLarge& e) {
    return Error(ErrorCode::InvalidInput, fileName + ": " + e.what);
  }
}

Status readRegularFile(const std::filesystem::path& path, std::uintmax_t maxBytes, std::string& out) {
  const std::string name = path.string();
#ifdef _WIN32
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Error(ErrorCode::InvalidInput, name + ": not a regular file");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > maxBytes)
    return Error(ErrorCode::InvalidInput, name + ": larger than " + std::to_string(maxBytes >> 20) + " MiB; not read");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::InvalidInput, name + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return Ok{};
#else
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Error(ErrorCode::InvalidInput, name + ": cannot open: " + std::generic_category().message(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::InvalidInput, name + ": not a regular file; not read");
  }
  if (static_cast<std::uintmax_t>(st.st_size) > maxBytes) {
    ::close(fd);
    return Error(ErrorCode::InvalidInput, name + ": larger than " + std::to_string(maxBytes >> 20) + " MiB; not read");
  }
  // Read into one buffer of the file's size: a file that grows while it is read (still being
  // written) is read again from the start with its new size — never by doubling a 50 MB buffer —
  // and only the third time by growing the buffer as it comes.
  for (int attempt = 0;; ++attempt) {
    const auto expect = static_cast<std::size_t>(st.st_size);
    std::string().swap(out);
    out.reserve(expect + 1);
    out.resize(expect + 1);
    std::size_t got = 0;
    bool grew = false;
    for (;;) {
      if (got == out.size()) {
        if (attempt < 2) {
          grew = true;
          break;
        }
        out.resize(std::min<std::size_t>(out.size() + out.size() / 4 + 65536, maxBytes + 1));
        if (got == out.size()) {
          ::close(fd);
          return Error(ErrorCode::InvalidInput, name + ": larger than " + std::to_string(maxBytes >> 20) + " MiB; not read");
        }
      }
      const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int e = errno;
        ::close(fd);
        return Error(ErrorCode::InvalidInput, name + ": cannot read: " + std::generic_category().message(e));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (grew && ::fstat(fd, &st) == 0 && static_cast<std::uintmax_t>(st.st_size) <= maxBytes) continue;
    if (grew) {
      ::close(fd);
      return Error(ErrorCode::InvalidInput, name + ": larger than " + std::to_string(maxBytes >> 20) + " MiB; not read");
    }
    out.resize(got);
    break;
  }
  ::close(fd);
  return Ok{};
#endif
}

ManifestFile loadManifestFile(const std::filesystem::path& path) {
  std::string text;
  if (auto st = readRegularFile(path, kMaxManifestBytes, text); !st) {
    ManifestFile f;
    f.syntaxError = true;
    std::string why = st.error().message;
    if (why.rfind(path.string() + ": ", 0) == 0) why.erase(0, path.string().size() + 2);  // the file is named apart
    f.errors.push_back({path.string(), 0, "cannot read the file: " + why});
    return f;
  }
  return parseManifest(text, path.string());
}

std::vector<std::filesystem::path> manifestFiles(const std::filesystem::path& dir,
                                                 std::vector<std::filesystem::path>* notRegular) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || name.back() == '~') continue;
    std::string ext = entry.path().extension().string();
    if (ext != ".yaml" && ext != ".yml" && ext != ".json") continue;
    if (entry.is_regular_file(ec)) out.push_back(entry.path());
    else if (notRegular) notRegular->push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  if (notRegular) std::sort(notRegular->begin(), notRegular->end());
  return out;
}

}  // namespace hnsproxy::watch

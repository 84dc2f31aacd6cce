#include "watch/manifest.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
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

struct Budget {
  std::size_t values = 0;
};

struct TooLarge {
  std::string what;
};

json toJsonBounded(const YAML::Node& n, Budget& b, int depth);

// YAML → JSON with the scalar resolution Kubernetes' YAML reader applies to plain scalars.
json toJson(const YAML::Node& n) {
  Budget b;
  return toJsonBounded(n, b, 0);
}

json toJsonBounded(const YAML::Node& n, Budget& b, int depth) {
  if (++b.values > kMaxValues)
    throw TooLarge{"the document expands to more than " + std::to_string(kMaxValues) +
                   " values (YAML aliases repeating large nodes?)"};
  if (depth > kMaxDepth) throw TooLarge{"the document nests deeper than " + std::to_string(kMaxDepth) + " levels"};
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: always a string
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
      if (isInteger(s)) return std::stoll(s);
      if (auto f = parseFloat(s)) return *f;
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(toJsonBounded(item, b, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = toJsonBounded(kv.second, b, depth + 1);
      return o;
    }
  }
  return nullptr;
}

// kubectl's `kind: List`, expanded without recursion: a List nested in a List (not valid
// Kubernetes, but seen) is expanded up to kMaxListDepth, deeper ones are an error.
constexpr int kMaxListDepth = 8;

void addObject(ManifestFile& out, const json& doc, const std::string& file, int line) {
  std::vector<std::pair<const json*, int>> stack{{&doc, 0}};
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

// Every document of a YAML stream, with the line each starts on. yaml-cpp 0.7's LoadAll never
// returns on some malformed input — a quoted scalar followed by a comma at the top level, 5 bytes,
// allocates until the process dies (jbeder/yaml-cpp#1040, fixed upstream by PR #1319, after
// Debian 12's 0.7.0; found by tests/fuzz). So the stream is split here at its document markers
// (`---`, `...` at the start of a line) and each document is loaded alone with YAML::Load, which
// reads one document and stops; content after it within the same document is an error.
struct YamlDocument {
  YAML::Node node;
  int firstLine = 1;  // 1-based
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

bool documentMarker(std::string_view line) {
  if (line.substr(0, 3) != "---" && line.substr(0, 3) != "...") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

std::vector<YamlDocument> loadYamlDocuments(const std::string& text) {
  std::vector<YamlDocument> docs;
  auto loadOne = [&](const std::string& chunk, int firstLine) {
    if (chunk.find_first_not_of(" \t\r\n") == std::string::npos) return;
    auto shifted = [&](YAML::Mark m) {
      if (m.line >= 0) m.line += firstLine - 1;
      return m;
    };
    try {
      YAML::Node node = YAML::Load(chunk);
      std::stringstream again(chunk);
      YAML::Parser parser(again);
      IgnoreEvents ignore;
      parser.HandleNextDocument(ignore);
      if (parser.HandleNextDocument(ignore))  // bounded: two calls, never a loop
        throw YAML::ParserException(shifted(YAML::Mark{}), "unexpected content after the document (a stray comma or bracket?)");
      docs.push_back({node, firstLine});
    } catch (const YAML::ParserException& e) {
      throw YAML::ParserException(shifted(e.mark), e.msg);
    }
  };
  std::string chunk;
  int line = 1, chunkStart = 1;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t nl = text.find('\n', at);
    std::string_view l(text.data() + at, (nl == std::string::npos ? text.size() : nl) - at);
    if (documentMarker(l)) {
      loadOne(chunk, chunkStart);
      chunk.clear();
      // `--- value` starts a document on the marker's line; the marker itself stays out
      if (l.substr(0, 3) == "---" && l.size() > 4) chunk.append(l.substr(4)).append("\n");
      chunkStart = line;
      if (l.substr(0, 3) == "---" && l.size() <= 4) chunkStart = line + 1;
    } else {
      chunk.append(l).append("\n");
    }
    if (nl == std::string::npos) break;
    at = nl + 1;
    ++line;
  }
  loadOne(chunk, chunkStart);
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

ManifestFile parseManifest(const std::string& text, const std::string& fileName) {
  ManifestFile out;
  if (looksLikeJson(text, fileName)) {
    if (nestsTooDeep(text, kMaxDepth)) {
      out.syntaxError = true;
      out.errors.push_back({fileName, 0, "invalid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels"});
      return out;
    }
    try {
      json doc = json::parse(text);
      if (doc.is_array()) {
        for (const auto& item : doc) addObject(out, item, fileName, 1);
      } else {
        addObject(out, doc, fileName, 1);
      }
    } catch (const json::parse_error& e) {
      out.syntaxError = true;
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
  try {
    for (const auto& d : loadYamlDocuments(text)) addObject(out, toJson(d.node), fileName, d.firstLine + std::max(0, d.node.Mark().line));
  } catch (const YAML::Exception& e) {
    out.syntaxError = true;
    out.objects.clear();
    out.errors.push_back({fileName, e.mark.line >= 0 ? e.mark.line + 1 : 0, "invalid YAML: " + e.msg});
  } catch (const TooLarge& e) {
    out.syntaxError = true;
    out.objects.clear();
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
    for (const auto& d : loadYamlDocuments(text)) {
      json j = toJson(d.node);
      if (!j.is_null()) out.push_back(std::move(j));
    }
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
    YAML::Node doc = YAML::Load(text);
    return toJson(doc);
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
  out.clear();
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Error(ErrorCode::InvalidInput, name + ": cannot read: " + std::generic_category().message(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > maxBytes) {  // it grew while being read
      ::close(fd);
      return Error(ErrorCode::InvalidInput, name + ": larger than " + std::to_string(maxBytes >> 20) + " MiB; not read");
    }
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

std::vector<std::filesystem::path> manifestFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || name.back() == '~') continue;
    std::string ext = entry.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hnsproxy::watch

#include "watch/manifest.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
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

bool isFloat(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  bool hasDigit = s.find_first_of("0123456789") != std::string::npos;
  return hasDigit && end == s.c_str() + s.size() && s.find_first_not_of("0123456789+-.eE") == std::string::npos;
}

// YAML → JSON with the scalar resolution Kubernetes' YAML reader applies to plain scalars.
json toJson(const YAML::Node& n) {
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
      if (isFloat(s)) return std::stod(s);
      return s;
    }
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(toJson(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = toJson(kv.second);
      return o;
    }
  }
  return nullptr;
}

void addObject(ManifestFile& out, const json& doc, const std::string& file, int line) {
  if (doc.is_null()) return;  // empty document ("---" alone)
  if (doc.is_object() && doc.contains("kind") && doc["kind"] == "List") {
    if (!doc.contains("items") || !doc["items"].is_array()) {
      out.errors.push_back({file, line, "kind List without an items list"});
      return;
    }
    for (const auto& item : doc["items"]) addObject(out, item, file, line);
    return;
  }
  auto r = decodeObject(doc);
  if (r) {
    out.objects.push_back({std::move(r).value(), line});
  } else if (r.error().code != ErrorCode::NotFound) {
    out.errors.push_back({file, line, r.error().message});
  }
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
    }
    return out;
  }
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    for (const auto& d : docs) addObject(out, toJson(d), fileName, d.Mark().line + 1);
  } catch (const YAML::Exception& e) {
    out.syntaxError = true;
    out.objects.clear();
    out.errors.push_back({fileName, e.mark.line >= 0 ? e.mark.line + 1 : 0, "invalid YAML: " + e.msg});
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
    for (const auto& d : YAML::LoadAll(text)) {
      json j = toJson(d);
      if (!j.is_null()) out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::InvalidInput,
                 fileName + ":" + std::to_string(e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": invalid YAML: " + e.msg);
  }
  return out;
}

Result<json> parseDocument(const std::string& text, const std::string& fileName) {
  if (looksLikeJson(text, fileName)) {
    try {
      return json::parse(text);
    } catch (const json::parse_error& e) {
      return Error(ErrorCode::InvalidInput, fileName + ":" + std::to_string(lineOfOffset(text, e.byte > 0 ? e.byte - 1 : 0)) +
                                                ": invalid JSON: " + e.what());
    }
  }
  try {
    YAML::Node doc = YAML::Load(text);
    return toJson(doc);
  } catch (const YAML::Exception& e) {
    return Error(ErrorCode::InvalidInput,
                 fileName + ":" + std::to_string(e.mark.line >= 0 ? e.mark.line + 1 : 0) + ": invalid YAML: " + e.msg);
  }
}

ManifestFile loadManifestFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ManifestFile f;
    f.syntaxError = true;
    f.errors.push_back({path.string(), 0, "cannot read the file"});
    return f;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseManifest(ss.str(), path.string());
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

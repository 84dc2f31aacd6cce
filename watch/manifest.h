// Kubernetes manifests from files: multi-document YAML, JSON, and `kind: List`. Used by
// --manifest-dir. A file that does not parse yields errors (file, line, reason) and no objects;
// one bad object in a file is reported and skipped without affecting the others.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "watch/decoder.h"

namespace hnsproxy::watch {

struct ManifestObject {
  Object object;
  int line = 0;  // 1-based line where the object's document starts
};

struct ManifestError {
  std::string file;
  int line = 0;
  std::string message;
  std::string str() const;
};

struct ManifestFile {
  std::vector<ManifestObject> objects;
  std::vector<ManifestError> errors;
  bool syntaxError = false;  // the file did not parse at all: its previous objects should be kept
};

ManifestFile parseManifest(const std::string& text, const std::string& fileName);

// Every document of a YAML (multi-document) or JSON file, as JSON (`kind: List` not expanded).
Result<std::vector<nlohmann::json>> parseDocuments(const std::string& text, const std::string& fileName);

// One YAML or JSON document as JSON, with Kubernetes' scalar resolution (for config files).
// Errors name the file and line.
Result<nlohmann::json> parseDocument(const std::string& text, const std::string& fileName);
ManifestFile loadManifestFile(const std::filesystem::path& path);

// The largest manifest file read (a 10,000-service cluster is about 14 MB).
inline constexpr std::uintmax_t kMaxManifestBytes = 64u << 20;

// Reads a regular file of at most `maxBytes`. What is not a regular file when opened (a FIFO or a
// device swapped in after the directory was listed) is refused without blocking; a larger file is
// refused before it is read. Errors name the file.
Status readRegularFile(const std::filesystem::path& path, std::uintmax_t maxBytes, std::string& out);

// The manifest files of a directory (*.yaml, *.yml, *.json; not recursive; hidden files and
// editor backups skipped), by file name. Entries with a manifest's name that are not regular files
// (a FIFO, a device, a directory) go to `notRegular` when given: they are never opened.
std::vector<std::filesystem::path> manifestFiles(const std::filesystem::path& dir,
                                                 std::vector<std::filesystem::path>* notRegular = nullptr);

}  // namespace hnsproxy::watch

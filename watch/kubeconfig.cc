#include "watch/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "watch/manifest.h"

namespace hnsproxy::watch {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// obj[key] when obj is an object and the value a string, else "": a kubeconfig is untrusted input.
std::string stringAt(const json& obj, const std::string& key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}
const json& emptyObject() {
  static const json empty = json::object();
  return empty;
}

std::string readFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// base64 (standard alphabet, padding optional), for the *-data fields.
std::optional<std::string> base64Decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    auto pos = chars.find(c);
    if (pos == std::string::npos) return std::nullopt;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

const json* named(const json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const auto& item : list)
    if (item.is_object() && stringAt(item, "name") == name) return &item;
  return nullptr;
}

std::string resolvePath(const fs::path& base, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  return path.is_absolute() ? p : (base / path).lexically_normal().string();
}

}  // namespace

Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& masterOverride) {
  bool ok = false;
  std::string text = readFile(path, &ok);
  if (!ok) return Error(ErrorCode::InvalidInput, "kubeconfig " + path + ": cannot be read");
  auto doc = parseDocument(text, path);
  if (!doc) return doc.error();
  const json& j = *doc;
  auto bad = [&](const std::string& what) { return Error(ErrorCode::InvalidInput, "kubeconfig " + path + ": " + what); };
  if (!j.is_object()) return bad("not a kubeconfig document");
  fs::path base = fs::path(path).parent_path();
  static const json kEmpty = json::array();
  auto listOf = [&](const char* key) -> const json& { return j.contains(key) && j[key].is_array() ? j[key] : kEmpty; };
  std::string ctxName = stringAt(j, "current-context");
  if (ctxName.empty()) return bad("no current-context");
  const json* ctx = named(listOf("contexts"), ctxName);
  if (!ctx || !ctx->contains("context")) return bad("context \"" + ctxName + "\" not found");
  std::string clusterName = stringAt((*ctx)["context"], "cluster");
  std::string userName = stringAt((*ctx)["context"], "user");
  const json* cluster = named(listOf("clusters"), clusterName);
  if (!cluster || !cluster->contains("cluster")) return bad("cluster \"" + clusterName + "\" not found");
  const json& c = (*cluster)["cluster"];
  ClientConfig cfg;
  cfg.server = masterOverride.empty() ? stringAt(c, "server") : masterOverride;
  if (cfg.server.empty()) return bad("cluster \"" + clusterName + "\" has no server");
  cfg.insecureSkipTlsVerify = c.contains("insecure-skip-tls-verify") && c["insecure-skip-tls-verify"] == true;
  cfg.tlsServerName = stringAt(c, "tls-server-name");
  if (c.contains("certificate-authority-data")) {
    auto d = base64Decode(stringAt(c, "certificate-authority-data"));
    if (!d) return bad("cluster \"" + clusterName + "\": certificate-authority-data is not base64");
    cfg.caData = *d;
  } else if (c.contains("certificate-authority")) {
    cfg.caFile = resolvePath(base, stringAt(c, "certificate-authority"));
  }
  if (!userName.empty()) {
    const json* user = named(listOf("users"), userName);
    if (!user) return bad("user \"" + userName + "\" not found");
    const json& u = user->contains("user") && (*user)["user"].is_object() ? (*user)["user"] : emptyObject();
    if (u.contains("exec"))
      return bad("user \"" + userName + "\" uses an exec credential plugin, which hnsproxy does not run; use a token, "
                                        "tokenFile or client certificate");
    if (u.contains("auth-provider"))
      return bad("user \"" + userName + "\" uses an auth-provider plugin, which hnsproxy does not support");
    // "<field>-data" (base64, inline) or "<field>" (a path relative to the kubeconfig).
    auto dataOrFile = [&](const std::string& field, std::string& data, std::string& file) -> bool {
      if (!u.contains(field + "-data")) {
        file = resolvePath(base, stringAt(u, field));
        return true;
      }
      auto d = base64Decode(stringAt(u, field + "-data"));
      if (d) data = *d;
      return d.has_value();
    };
    if (!dataOrFile("client-certificate", cfg.clientCertData, cfg.clientCertFile))
      return bad("client-certificate-data is not base64");
    if (!dataOrFile("client-key", cfg.clientKeyData, cfg.clientKeyFile)) return bad("client-key-data is not base64");
    cfg.token = stringAt(u, "token");
    cfg.tokenFile = resolvePath(base, stringAt(u, "tokenFile"));
  }
  return cfg;
}

Result<ClientConfig> inClusterConfig(const std::string& root) {
  // Read once at start-up, before any thread that could change the environment exists.
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");  // NOLINT(concurrency-mt-unsafe)
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");  // NOLINT(concurrency-mt-unsafe): as above
  if (!host || !port || !*host || !*port)
    return Error(ErrorCode::InvalidInput,
                 "no --kubeconfig or --master, and not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)");
  ClientConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  cfg.server = "https://" + h + ":" + port;
  std::string dir = root + "/var/run/secrets/kubernetes.io/serviceaccount";
  cfg.tokenFile = dir + "/token";
  cfg.caFile = dir + "/ca.crt";
  if (!fs::exists(cfg.tokenFile)) return Error(ErrorCode::InvalidInput, "in-cluster: " + cfg.tokenFile + " is missing");
  return cfg;
}

Result<ClientConfig> resolveClientConfig(const std::string& kubeconfig, const std::string& master) {
  if (!kubeconfig.empty()) return loadKubeconfig(kubeconfig, master);
  if (!master.empty()) {
    ClientConfig cfg;
    cfg.server = master;
    return cfg;
  }
  return inClusterConfig();
}

}  // namespace hnsproxy::watch

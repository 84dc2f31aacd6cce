#include "catch.h"

#include <fstream>
#include <sstream>

#include "watch/kubeconfig.h"
#include "watch_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::watch;
using namespace hnsproxy::watch::test;

TEST_CASE("kubeconfig variants: each credential kind, relative paths, plugins refused, in-cluster") {
  fs::path d = tempDir("kc");
  fs::create_directories(d / "pki");
  std::ofstream(d / "pki" / "ca.crt") << "ca";
  std::ofstream(d / "kubeconfig") << R"(apiVersion: v1
kind: Config
current-context: win
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: pki/ca.crt}
- name: c2
  cluster: {server: "https://10.0.0.2:6443", certificate-authority-data: aGVsbG8=, insecure-skip-tls-verify: false}
users:
- name: tokenfile
  user: {tokenFile: pki/token}
- name: certs
  user: {client-certificate: pki/c.crt, client-key: /abs/c.key}
- name: data
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5, token: abc}
- name: plugin
  user: {exec: {command: aws}}
contexts:
- name: win
  context: {cluster: c1, user: tokenfile}
- name: other
  context: {cluster: c2, user: data}
- name: certs
  context: {cluster: c1, user: certs}
- name: plugin
  context: {cluster: c1, user: plugin}
)";
  auto a = loadKubeconfig((d / "kubeconfig").string());
  INFO((a ? std::string() : a.error().message));
  REQUIRE(a);
  CHECK(a->server == "https://10.0.0.1:6443");
  CHECK(a->caFile == (d / "pki" / "ca.crt").string());
  CHECK(a->tokenFile == (d / "pki" / "token").string());
  auto withMaster = loadKubeconfig((d / "kubeconfig").string(), "https://10.9.9.9:443");
  CHECK(withMaster->server == "https://10.9.9.9:443");
  auto edit = [&](const std::string& ctx) {
    std::ifstream in(d / "kubeconfig");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    t.replace(t.find("current-context: win"), 20, "current-context: " + ctx);
    std::ofstream(d / ("kc-" + ctx)) << t;
    return loadKubeconfig((d / ("kc-" + ctx)).string());
  };
  auto data = edit("other");
  REQUIRE(data);
  CHECK(data->caData == "hello");
  CHECK(data->clientCertData == "cert");
  CHECK(data->clientKeyData == "key");
  CHECK(data->token == "abc");
  auto certs = edit("certs");
  REQUIRE(certs);
  CHECK(certs->clientCertFile == (d / "pki" / "c.crt").string());
  CHECK(certs->clientKeyFile == "/abs/c.key");
  auto plugin = edit("plugin");
  REQUIRE_FALSE(plugin);
  CHECK(plugin.error().message.find("exec credential plugin") != std::string::npos);
  auto missing = edit("nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("context \"nope\" not found") != std::string::npos);

  fs::create_directories(d / "root/var/run/secrets/kubernetes.io/serviceaccount");
  std::ofstream(d / "root/var/run/secrets/kubernetes.io/serviceaccount/token") << "sa-token";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto ic = inClusterConfig((d / "root").string());
  REQUIRE(ic);
  CHECK(ic->server == "https://10.96.0.1:443");
  CHECK(ic->tokenFile.find("serviceaccount/token") != std::string::npos);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_FALSE(inClusterConfig((d / "root").string()));
}

TEST_CASE("kubeconfig: fields of the wrong type are errors naming what is missing, never an exception (fuzzer finding)") {
  fs::path d = tempDir("kc-types");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"current-context: null\n", "no current-context"},
      {"current-context: [a]\n", "no current-context"},
      {"current-context: c\ncontexts: [{name: c, context: {cluster: 7, user: {}}}]\n", "cluster \"\" not found"},
      {"current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {server: [1]}}]\n",
       "has no server"},
      {"current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
       "clusters: [{name: k, cluster: {server: \"https://h:1\", insecure-skip-tls-verify: yes-please}}]\nusers: [{name: u, user: 5}]\n",
       ""},
  };
  for (const auto& [text, expect] : cases) {
    INFO(text);
    std::ofstream(d / "config", std::ios::trunc) << text;
    auto c = loadKubeconfig((d / "config").string());
    if (expect.empty()) {
      REQUIRE(c);
      CHECK_FALSE(c->insecureSkipTlsVerify);  // only a real true turns verification off
    } else {
      REQUIRE_FALSE(c);
      CHECK(c.error().message.find(expect) != std::string::npos);
    }
  }
}

#include "catch.h"

#include <fstream>

#include "watch/api_client.h"
#include "watch_fixture.h"

using namespace hnsproxy;
using namespace hnsproxy::watch;
using namespace hnsproxy::watch::test;

TEST_CASE("api client: token rotation from a token file, TLS verification failures, client certificates") {
  TestApiServer server;
  fs::path d = tempDir("auth");
  std::ofstream(d / "token") << "t0ken-v1\n";
  ClientConfig cfg = configFor(server);
  cfg.token.clear();
  cfg.tokenFile = (d / "token").string();
  auto c = ApiClient::create(cfg, "ua");
  REQUIRE(c);
  auto ok = (*c)->get("/api/v1/services");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  server.setToken("t0ken-v2");
  std::ofstream(d / "token", std::ios::trunc) << "t0ken-v2\n";
  auto rotated = (*c)->get("/api/v1/services");  // 401, the file is re-read, the request repeated
  REQUIRE(rotated);
  CHECK(rotated->status == 200);
  CHECK(server.unauthorized() == 1);

  ClientConfig wrongCa = configFor(server);
  wrongCa.caData = server.pki().otherCa.pem.certPem;
  auto w = ApiClient::create(wrongCa, "ua");
  REQUIRE(w);
  auto failed = (*w)->get("/api/v1/services", std::chrono::seconds(5));
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("TLS handshake with " + server.url() + " failed") != std::string::npos);
  CHECK(failed.error().message.find("certificate") != std::string::npos);

  ClientConfig byCert = configFor(server);
  byCert.token.clear();
  std::ofstream(d / "client.crt") << server.pki().client.pem.certPem;
  std::ofstream(d / "client.key") << server.pki().client.pem.keyPem;
  byCert.clientCertFile = (d / "client.crt").string();
  byCert.clientKeyFile = (d / "client.key").string();
  auto cc = ApiClient::create(byCert, "ua");
  REQUIRE(cc);
  auto certOk = (*cc)->get("/api/v1/nodes");
  REQUIRE(certOk);
  CHECK(certOk->status == 200);

  ClientConfig insecure = wrongCa;
  insecure.insecureSkipTlsVerify = true;
  insecure.token = "t0ken-v2";
  auto ins = ApiClient::create(insecure, "ua");
  REQUIRE(ins);
  CHECK((*ins)->get("/api/v1/nodes")->status == 200);
}


TEST_CASE("api client: a watch stream's lines arrive whole however the server splits them; stop() ends it promptly") {
  TestApiServer server;
  server.setChunkSize(5);
  for (int i = 0; i < 3; ++i)
    server.upsert("services", nlohmann::json{{"kind", "Service"},
                                             {"metadata", {{"name", "s" + std::to_string(i)}, {"namespace", "default"}}},
                                             {"spec", {{"clusterIP", "10.96.0." + std::to_string(i + 1)}}}});
  auto c = ApiClient::create(configFor(server), "kube-proxy/v1.35.0 (linux/amd64) hnsproxy/0.1.0");
  REQUIRE(c);
  std::vector<std::string> lines;
  std::thread stopper;
  auto st = (*c)->stream("/api/v1/services?watch=true&resourceVersion=0&timeoutSeconds=30",
                         [&](std::string_view line) {
                           lines.emplace_back(line);
                           if (lines.size() == 3) stopper = std::thread([&] { (*c)->stop(); });
                           return true;
                         },
                         std::chrono::seconds(30));
  if (stopper.joinable()) stopper.join();
  REQUIRE(lines.size() >= 3);
  for (const auto& l : lines) CHECK(nlohmann::json::parse(l, nullptr, false).is_object());  // each a whole event
  CHECK(server.lastUserAgent() == "kube-proxy/v1.35.0 (linux/amd64) hnsproxy/0.1.0");
  (void)st;
}

TEST_CASE("api client: credentials that cannot work are refused at start, with a clear error and no secret") {
  TestApiServer server;
  ClientConfig noToken = configFor(server);
  noToken.token.clear();
  noToken.tokenFile = "/nonexistent/token";
  auto t = ApiClient::create(noToken, "ua");
  REQUIRE_FALSE(t);  // not "send every request unauthenticated"
  CHECK(t.error().message.find("tokenFile /nonexistent/token: the file cannot be read") != std::string::npos);

  ClientConfig noCa = configFor(server);
  noCa.caData.clear();
  noCa.caFile = "/nonexistent/ca.crt";
  auto c = ApiClient::create(noCa, "ua");
  std::string msg = c ? std::string() : c.error().message;
  if (c) {
    auto r = (*c)->get("/api/v1/services", std::chrono::seconds(5));
    REQUIRE_FALSE(r);
    msg = r.error().message;
  }
  CHECK(msg.find("certificate-authority /nonexistent/ca.crt: the file cannot be read") != std::string::npos);

  ClientConfig basic = configFor(server);
  basic.server = "https://admin:s3cret@127.0.0.1:6443";
  auto b = ApiClient::create(basic, "ua");
  REQUIRE_FALSE(b);
  CHECK(b.error().message.find("basic authentication") != std::string::npos);
  CHECK(b.error().message.find("s3cret") == std::string::npos);
}

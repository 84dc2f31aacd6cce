#include "catch.h"

#include <fstream>
#include <tuple>
#include <vector>

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

TEST_CASE("api client: every request sent is reported with its status (0 when none came), lists timed, watches not") {
  TestApiServer server;
  std::vector<std::tuple<std::string, std::string, int, bool>> seen;
  auto c = ApiClient::create(configFor(server), "ua");
  REQUIRE(c);
  (*c)->setRequestObserver([&](const RequestRecord& r) {
    seen.emplace_back(std::string(r.method), std::string(r.host), r.code, r.seconds.has_value());
  });
  std::string host = server.url().substr(std::string("https://").size());
  REQUIRE((*c)->get("/api/v1/services"));
  REQUIRE((*c)->get("/api/v1/nosuchthing"));
  auto w = (*c)->stream("/api/v1/services?watch=1&timeoutSeconds=1", [](std::string_view) { return false; },
                        std::chrono::seconds(5));
  REQUIRE(w);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == std::make_tuple(std::string("GET"), host, 200, true));
  CHECK(std::get<2>(seen[1]) == 404);
  CHECK(seen[2] == std::make_tuple(std::string("GET"), host, 200, false));

  ClientConfig unreachable = configFor(server);
  unreachable.server = "https://127.0.0.1:1";
  auto u = ApiClient::create(unreachable, "ua");
  REQUIRE(u);
  int code = -1;
  (*u)->setRequestObserver([&](const RequestRecord& r) { code = r.code; });
  CHECK_FALSE((*u)->get("/api/v1/services", std::chrono::seconds(2)));
  CHECK(code == 0);
}

TEST_CASE("api client: a body past maxBody is not read; the reply says so") {
  TestApiServer server;
  for (int i = 0; i < 50; ++i)
    server.upsert("services", nlohmann::json{{"kind", "Service"}, {"metadata", {{"name", "s" + std::to_string(i)}, {"namespace", "d"}}},
                                             {"spec", {{"clusterIP", "10.96.0.1"}}}});
  auto c = ApiClient::create(configFor(server), "ua");
  REQUIRE(c);
  auto small = (*c)->get("/api/v1/services", std::chrono::seconds(5), 512);
  REQUIRE(small);
  CHECK(small->bodyTooLarge);
  CHECK(small->body.empty());
  auto big = (*c)->get("/api/v1/services", std::chrono::seconds(5), 1 << 20);
  REQUIRE(big);
  CHECK_FALSE(big->bodyTooLarge);
  CHECK(big->body.size() > 512);
}

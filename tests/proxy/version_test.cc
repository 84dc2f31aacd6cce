#include "catch.h"

#include <regex>

#include "proxy/version.h"

using namespace hnsproxy::proxy;

TEST_CASE("version: --version, --version=raw and the User-Agent in upstream's formats") {
  // sig-windows-tools' start.ps1 matches v([0-9])\.([0-9]+) on the first line.
  CHECK(std::regex_search(versionText("true"), std::regex("^Kubernetes v1\\.([0-9]+)\\.([0-9]+)\nhnsproxy ")));
  CHECK(versionText("v1.34.2").rfind("Kubernetes v1.34.2\n", 0) == 0);
  CHECK(versionText("raw").find("GitVersion:\"" + std::string(kubernetesVersion()) + "\"") != std::string::npos);
  CHECK(std::regex_match(userAgent(), std::regex(R"(kube-proxy/v1\.\d+\.\d+ \((linux|windows)/amd64\) hnsproxy/\d+\.\d+\.\d+)")));
}

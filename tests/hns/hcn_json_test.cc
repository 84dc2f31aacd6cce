#include "catch.h"
#include <random>

#include "test_paths.h"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "hns/hcn_json.h"
#include "hns/api.h"
#include "hns/translate.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using nlohmann::json;

TEST_CASE("the load balancer document kube-proxy sends round-trips exactly") {
  // As hcsshim's hcn/hcnloadbalancer.go marshals it: zero Flags/DistributionType omitted, numbers for enums.
  json sent = json::parse(R"({"HostComputeEndpoints":["3f1c0000-0000-4000-8000-000000000001","3F1C0000-0000-4000-8000-000000000002"],
    "SourceVIP":"10.244.1.2","FrontendVIPs":["10.96.0.10"],
    "PortMappings":[{"Protocol":17,"InternalPort":53,"ExternalPort":53}],"SchemaVersion":{"Major":2,"Minor":0}})");
  auto lb = loadBalancerFromJson(sent);
  REQUIRE(lb);
  CHECK(lb->endpoints[0] == "3F1C0000-0000-4000-8000-000000000001");  // GUIDs upper-cased
  CHECK(lb->portMappings[0].protocol == 17);
  CHECK(lb->flags == 0);
  json back = toJson(*lb);
  CHECK(back["PortMappings"] == sent["PortMappings"]);
  CHECK_FALSE(back.contains("Flags"));
  CHECK(back["SchemaVersion"] == json({{"Major", 2}, {"Minor", 0}}));
  CHECK(*loadBalancerFromJson(back) == *lb);
}

TEST_CASE("NodePort and DSR documents keep their flags") {
  HcnLoadBalancer lb;
  lb.id = "AAAAAAAA-0000-4000-8000-000000000001";
  lb.endpoints = {"AAAAAAAA-0000-4000-8000-000000000002"};
  lb.portMappings = {{6, 8080, 30080, 2, 2 | 16}};
  lb.flags = 1 | 2;
  json j = toJson(lb);
  CHECK_FALSE(j.contains("FrontendVIPs"));  // empty means node IP and is omitted
  CHECK(j["PortMappings"][0]["Flags"] == 18);
  CHECK(j["PortMappings"][0]["DistributionType"] == 2);
  CHECK(j["Flags"] == 3);
  CHECK(*loadBalancerFromJson(j) == lb);
}

TEST_CASE("input is tolerant: hcsshim's empty objects, unknown fields, numeric types, lower-case GUIDs") {
  auto ep = endpointFromJson(json::parse(R"({"ID":"9d1a0000-0000-4000-8000-00000000000a","Name":"pod_eth0",
      "HostComputeNetwork":"{8e4e8c5a-3f1b-4c8a-9d34-1f2a0b6c7d01}","Dns":{},"Health":{"Extra":{}},
      "IpConfigurations":[{"IpAddress":"10.244.1.10","PrefixLength":24}],"Flags":1,
      "Policies":[{"Type":"ProviderAddress","Settings":{"ProviderAddress":"10.0.0.5"}}],"SomethingNew":42})"));
  REQUIRE(ep);
  CHECK(ep->network == "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01");
  CHECK(ep->isRemote());
  CHECK(ep->policies[0].settings["ProviderAddress"] == "10.0.0.5");
  auto net = networkFromJson(json::parse(R"({"ID":"8e4e8c5a-3f1b-4c8a-9d34-1f2a0b6c7d01","Name":"vxlan0","Type":5,
      "MacPool":{},"Dns":{},"Health":{"Extra":{}}})"));
  REQUIRE(net);
  CHECK(net->type == "Overlay");
  auto nat = networkFromJson(json::parse(R"({"Name":"nat"})"));
  REQUIRE(nat);
  CHECK(nat->type == "NAT");  // HNS omits Type for NAT
  CHECK_FALSE(toJson(*nat).contains("Type"));
}

TEST_CASE("malformed HCN documents are errors naming the field") {
  struct Case {
    const char* doc;
    const char* field;
  };
  const Case cases[] = {
      {R"({"ID":"not-a-guid"})", "ID"},
      {R"({"HostComputeEndpoints":["x"]})", "HostComputeEndpoints"},
      {R"({"PortMappings":[{"Protocol":6,"InternalPort":70000}]})", "InternalPort"},
      {R"({"PortMappings":[{"DistributionType":7}]})", "DistributionType"},
      {R"({"FrontendVIPs":"10.0.0.1"})", "FrontendVIPs"},
      {R"({"Flags":-1})", "Flags"},
  };
  for (const auto& c : cases) {
    auto r = loadBalancerFromJson(json::parse(c.doc));
    INFO(c.doc);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::InvalidArgument);
    CHECK(r.error().message.find(std::string("field ") + c.field) != std::string::npos);
  }
  CHECK_FALSE(loadBalancerFromJson(json::array()));
}

TEST_CASE("state files load, and save atomically with owner-only permissions") {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "state.json").string();
  auto loaded = loadSnapshot(hnsproxy::test::sourceDir() + "/examples/cluster/hns/win-node-1.json");
  REQUIRE(loaded);
  CHECK(loaded->version == policy::HnsVersion{15, 6});
  CHECK(loaded->networks.size() == 1);
  CHECK(loaded->endpoints.size() == 5);
  REQUIRE(saveSnapshot(*loaded, path));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  for (const auto& e : std::filesystem::directory_iterator(dir))  // no temporary file left behind
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  auto again = loadSnapshot(path);
  REQUIRE(again);
  CHECK(again->endpoints == loaded->endpoints);
  CHECK(again->networks == loaded->networks);
  // The host's adapters (the overlay's host MAC) survive the round trip, MACs in HNS's form.
  REQUIRE(loaded->adapters.size() == 1);
  CHECK(loaded->adapters[0].mac == "00-0D-3A-0A-00-04");
  CHECK(loaded->adapters[0].ips.size() == 2);
  CHECK(again->adapters == loaded->adapters);
  auto colon = snapshotFromJson(json::parse(R"({"HostAdapters":[{"MacAddress":"00:0d:3a:0a:00:05","IpAddresses":["10.0.0.5"]}]})"));
  REQUIRE(colon);
  CHECK(colon->adapters[0].mac == "00-0D-3A-0A-00-05");
  auto badIp = snapshotFromJson(json::parse(R"({"HostAdapters":[{"MacAddress":"00-0D-3A-0A-00-05","IpAddresses":["10.0.0"]}]})"));
  REQUIRE_FALSE(badIp);
  CHECK(badIp.error().message.find("HostAdapters[0]") != std::string::npos);
  CHECK_FALSE(snapshotFromJson(json::parse(R"({"HostAdapters":[{"IpAddresses":[]}]})")));  // no MAC

  std::ofstream(dir / "bad.json") << R"({"Version":{"Major":15},"Endpoints":[{"ID":"zz"}]})";
  auto bad = loadSnapshot((dir / "bad.json").string());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("Endpoints[0]") != std::string::npos);
  std::ofstream(dir / "trunc.json") << R"({"Version":{"Major":15)";
  auto trunc = loadSnapshot((dir / "trunc.json").string());
  REQUIRE_FALSE(trunc);
  CHECK(trunc.error().message.find("invalid JSON") != std::string::npos);
  CHECK(loadSnapshot((dir / "missing.json").string()).error().code == ErrorCode::NotFound);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the state file is written through a temporary file nobody else can plant (no symlink followed)") {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-plant-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = (dir / "state.json").string();
  auto victim = dir / "victim.txt";
  std::ofstream(victim) << "precious";
  // Another user plants links at every name the old writer used.
  std::filesystem::create_symlink(victim, path + ".tmp");
  REQUIRE(writeFileAtomically(path, "{}\n"));
  std::ifstream in(victim);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(kept == "precious");
  CHECK(std::filesystem::is_symlink(path + ".tmp"));  // left alone
  std::ifstream written(path);
  std::string body((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  CHECK(body == "{}\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("HNS error records from the field classify and read as their text") {
  // ErrorRecord JSON as HNS returns it (hcsshim hcn/hcnerrors.go), as seen in kube-proxy logs in issues.
  struct Case {
    const char* record;
    std::uint32_t hr;
    const char* text;
    ErrorCode code;
  };
  const Case cases[] = {
      {R"({"ErrorCode":2151350279,"Error":"The switch-port was not found. ","Success":false})", 0x803B0007,
       "The switch-port was not found.", ErrorCode::Transient},
      {R"({"ErrorCode":2147942487,"Error":"The parameter is incorrect. Unable to initialize VFP LB rule: invalid number of destinations.","Success":false})",
       0x80070057, "The parameter is incorrect. Unable to initialize VFP LB rule: invalid number of destinations.",
       ErrorCode::InvalidArgument},
      {R"({"ErrorCode":2151350300,"Error":"The reference is invalid in the JSON document. A Reference is required","Success":false})",
       0x803B001C, "The reference is invalid in the JSON document. A Reference is required", ErrorCode::InvalidArgument},
      {R"({"ErrorCode":2151350319,"Error":"An address provided is invalid or reserved. ","Success":false})", hcn::kHcnAddrInvalidOrReserved,
       "An address provided is invalid or reserved.", ErrorCode::InvalidArgument},
      {"plain text, not JSON ", 0x80070490, "plain text, not JSON", ErrorCode::NotFound},
  };
  for (const auto& c : cases) {
    auto j = json::parse(c.record, nullptr, false);
    if (!j.is_discarded()) CHECK(j["ErrorCode"].get<std::uint32_t>() == c.hr);
    CHECK(errorRecordText(c.record) == c.text);
    auto e = hcnError("HcnCreateLoadBalancer", c.hr, errorRecordText(c.record));
    CHECK(e.code == c.code);
    CHECK(e.str().find(c.text) != std::string::npos);
  }
  CHECK(classifyHresult(0x800700B7) == ErrorCode::AlreadyExists);
  CHECK(classifyHresult(0x803B0013) == ErrorCode::PortInUse);
  CHECK(classifyHresult(0x80004001) == ErrorCode::NotImplemented);
}

TEST_CASE("HNS output is read as hcsshim reads it: keys match whatever their casing") {
  auto ep = endpointFromJson(json::parse(R"({"id":"9d1a0000-0000-4000-8000-00000000000a","NAME":"pod",
      "hostComputeNetwork":"8e4e8c5a-3f1b-4c8a-9d34-1f2a0b6c7d01","ipconfigurations":[{"ipaddress":"10.244.1.10"}],
      "flags":1,"policies":[{"type":"ProviderAddress","settings":{"provideraddress":"10.0.0.5"}}]})"));
  REQUIRE(ep);
  CHECK(ep->id == "9D1A0000-0000-4000-8000-00000000000A");
  CHECK(ep->name == "pod");
  CHECK(ep->network == "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01");
  REQUIRE(ep->ipConfigurations.size() == 1);
  CHECK(ep->ipConfigurations[0].ipAddress == "10.244.1.10");
  CHECK(ep->isRemote());
  CHECK(providerAddressOf(ep->policies) == policy::IpAddress::parse("10.0.0.5"));
  auto lb = loadBalancerFromJson(json::parse(R"({"hostcomputeendpoints":["9d1a0000-0000-4000-8000-00000000000a"],
      "frontendvips":["10.96.0.1"],"sourcevip":"10.0.0.4","portmappings":[{"protocol":6,"internalport":8080,"externalport":80}]})"));
  REQUIRE(lb);
  CHECK(lb->frontendVips == std::vector<std::string>{"10.96.0.1"});
  CHECK(lb->sourceVip == "10.0.0.4");
  REQUIRE(lb->portMappings.size() == 1);
  CHECK(lb->portMappings[0].internalPort == 8080);
  CHECK(errorRecordText(R"({"errorcode":2147942487,"error":"The parameter is incorrect. ","success":false})") ==
        "The parameter is incorrect.");
}

TEST_CASE("ID lists are read without a document: normalized, nulls and blanks empty, the rest errors") {
  auto ids = parseIdList(R"(["{0a1b2c3d-0000-4000-8000-00000000000f}", 7, "0A1B2C3D-0000-4000-8000-000000000010", ["x"]])");
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{"0A1B2C3D-0000-4000-8000-00000000000F", "0A1B2C3D-0000-4000-8000-000000000010"});
  CHECK(parseIdList("null")->empty());
  CHECK(parseIdList(" \n")->empty());
  CHECK(parseIdList("[]")->empty());
  CHECK_FALSE(parseIdList("{\"a\":1}"));
  CHECK_FALSE(parseIdList("\"abc\""));
  CHECK_FALSE(parseIdList("[\"a\""));  // truncated

  // As a member of a reply: the list's strings only, the root's other scalars beside it.
  nlohmann::json rest = nlohmann::json::object();
  auto r = parseIdList(R"({"ok":true,"n":{"result":["no"]},"result":["a-b",{"x":"no"}],"error":"e"})", "result", &rest);
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{"A-B"});
  CHECK(rest == nlohmann::json{{"ok", true}, {"error", "e"}});
  rest = nlohmann::json::object();
  CHECK(parseIdList(R"({"ok":true,"result":null})", "result", &rest)->empty());
  rest = nlohmann::json::object();
  CHECK_FALSE(parseIdList(R"({"ok":false,"hresult":2151350299})", "result", &rest));
  CHECK(rest.value("hresult", 0u) == 0x803B001Bu);
}

TEST_CASE("documents written directly are exactly the dumped ones, whatever the fields hold") {
  std::mt19937 rng(42);
  auto pick = [&](std::initializer_list<const char*> v) { return std::string(*(v.begin() + rng() % v.size())); };
  auto text = [&] {
    return pick({"", "AAAAAAAA-0000-4000-8000-000000000001", "10.244.1.7", "fd00::1", "02-11-0A-F4-03-07", "cbr0", "a\"quote",
                 "back\\slash", "tab\there", "caf\xc3\xa9", "\x7f"});
  };
  for (int i = 0; i < 3000; ++i) {
    HcnEndpoint e;
    e.id = text();
    e.name = text();
    e.network = text();
    e.macAddress = text();
    e.flags = rng() % 3 == 0 ? 0 : static_cast<std::uint32_t>(rng());
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) e.ipConfigurations.push_back({text(), static_cast<std::uint8_t>(rng() % 2 ? 0 : rng() % 129)});
    if (rng() % 4 == 0) e.policies.push_back({"ProviderAddress", nlohmann::json{{"ProviderAddress", text()}}});
    REQUIRE(documentText(e) == toJson(e).dump());

    HcnLoadBalancer lb;
    lb.id = text();
    lb.sourceVip = text();
    lb.network = text();
    lb.flags = rng() % 2 ? 0 : static_cast<std::uint32_t>(rng() % 16);
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) lb.endpoints.push_back(text());
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) lb.frontendVips.push_back(text());
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      HcnPortMapping pm;
      pm.protocol = rng() % 2 ? 0 : 6;
      pm.internalPort = static_cast<std::uint16_t>(rng() % 2 ? 0 : rng());
      pm.externalPort = static_cast<std::uint16_t>(rng() % 2 ? 0 : rng());
      pm.distributionType = rng() % 2 ? 0 : rng() % 3;
      pm.flags = rng() % 2 ? 0 : static_cast<std::uint32_t>(rng() % 32);
      lb.portMappings.push_back(pm);
    }
    REQUIRE(documentText(lb) == toJson(lb).dump());
  }
}

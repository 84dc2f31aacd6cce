#include "catch.h"

#include "hns/reconcile/host_view.h"
#include "hns/reconcile/reader.h"
#include "hns/sim/simulated_hns.h"
#include "policy/node_context.h"

using namespace hnsproxy;
using namespace hnsproxy::hns;
using nlohmann::json;

namespace {

// An overlay node as HNS 9.2 shows it: a provider address, two routes and a broken one, the root
// endpoint, a pod, a remote endpoint, another network's endpoint and the source-VIP endpoint.
HnsSnapshot overlayNode() {
  auto snap = snapshotFromJson(json::parse(R"({
    "Version": {"Major": 9, "Minor": 2},
    "Networks": [{"ID": "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01", "Name": "vxlan0", "Type": "Overlay",
      "Ipams": [{"Type": "Static", "Subnets": [{"IpAddressPrefix": "10.244.1.0/24"}]}],
      "Policies": [
        {"Type": "ProviderAddress", "Settings": {"ProviderAddress": "10.0.0.4"}},
        {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.3.0/24", "ProviderAddress": "10.0.0.6", "IsolationId": 4096}},
        {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "10.244.2.0/24", "ProviderAddress": "10.0.0.5", "IsolationId": 4096}},
        {"Type": "RemoteSubnetRoute", "Settings": {"DestinationPrefix": "garbage"}}]},
      {"ID": "11111111-3F1B-4C8A-9D34-1F2A0B6C7D01", "Name": "other", "Type": "NAT"}],
    "Endpoints": [
      {"ID": "C0A80001-0000-4000-8000-000000000002", "Name": "cbr0", "HostComputeNetwork": "8e4e8c5a-3f1b-4c8a-9d34-1f2a0b6c7d01",
       "IpConfigurations": [{"IpAddress": "10.244.1.2"}], "MacAddress": "00-15-5D-AA-BB-CC"},
      {"ID": "C0A80001-0000-4000-8000-000000000010", "HostComputeNetwork": "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01",
       "IpConfigurations": [{"IpAddress": "10.244.1.10"}]},
      {"ID": "C0A80001-0000-4000-8000-000000000011", "HostComputeNetwork": "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01",
       "IpConfigurations": [{"IpAddress": "10.244.2.10"}], "Flags": 1},
      {"ID": "C0A80001-0000-4000-8000-000000000012", "HostComputeNetwork": "11111111-3F1B-4C8A-9D34-1F2A0B6C7D01",
       "IpConfigurations": [{"IpAddress": "172.20.0.5"}]},
      {"ID": "C0A80001-0000-4000-8000-000000000013", "HostComputeNetwork": "8E4E8C5A-3F1B-4C8A-9D34-1F2A0B6C7D01",
       "IpConfigurations": [{"IpAddress": "10.244.1.250"}]}]
  })"));
  REQUIRE(snap);
  return *snap;
}

}  // namespace

TEST_CASE("the host view comes from one listing: the network, its local endpoints, the capabilities") {
  SimulatedHns sim(overlayNode());
  auto l = HnsReader(sim, "vxlan0").list();
  REQUIRE(l);
  auto host = hostViewFrom(*l);
  const auto& v = host.view;
  CHECK(v.network.type == policy::NetworkType::Overlay);
  REQUIRE(v.network.remoteSubnets.size() == 2);
  CHECK(v.network.remoteSubnets[0].destinationPrefix.str() == "10.244.2.0/24");
  CHECK(v.network.remoteSubnets[0].providerAddress.str() == "10.0.0.5");
  CHECK(v.network.remoteSubnets[0].isolationId == 4096);
  CHECK(v.network.providerAddress == policy::IpAddress::parse("10.0.0.4"));
  REQUIRE(v.network.subnets.size() == 1);
  CHECK(v.network.subnets[0].str() == "10.244.1.0/24");
  REQUIRE(host.problems.size() == 1);  // the garbage route, named
  CHECK(host.problems[0].find("RemoteSubnetRoute policy ignored") != std::string::npos);
  CHECK(v.localEndpoints.size() == 3);  // the root endpoint, the pod, the source VIP; not remote, not other networks'
  CHECK_FALSE(v.caps.dsr);             // HNS 9.2
  CHECK(v.caps.maxBackends == 64);

  // The node context from it: the source VIP is ours (not a pod), the root endpoint by name.
  policy::NodeConfig cfg;
  cfg.nodeName = "win-node-1";
  cfg.rules.sourceVip = policy::IpAddress::parse("10.244.1.250");
  auto c = policy::makeNodeContext(v, std::nullopt, cfg).context;
  CHECK(c.localEndpointIPs.size() == 2);
  CHECK(c.hasLocalEndpoint(*policy::IpAddress::parse("10.244.1.10")));
  CHECK_FALSE(c.hasLocalEndpoint(*policy::IpAddress::parse("10.244.1.250")));
  CHECK_FALSE(c.hasLocalEndpoint(*policy::IpAddress::parse("10.244.2.10")));
  CHECK_FALSE(c.hasLocalEndpoint(*policy::IpAddress::parse("172.20.0.5")));
  CHECK(c.rootEndpointIP == policy::IpAddress::parse("10.244.1.2"));
  CHECK(c.hostMac == "00-15-5D-AA-BB-CC");
  CHECK(c.nodeIPs == std::vector<policy::IpAddress>{*policy::IpAddress::parse("10.0.0.4")});  // the network's PA

  auto missing = HnsReader(sim, "missing").list();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);
  CHECK(missing.error().message.find("(HNS has: ") != std::string::npos);  // what to pick instead
  CHECK(missing.error().message.find("vxlan0") != std::string::npos);
  CHECK(missing.error().message.find("other") != std::string::npos);
}

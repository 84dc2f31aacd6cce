#include "catch.h"

#include "fixtures.h"
#include "policy/node_context.h"

using namespace hnsproxy::policy;
using namespace hnsproxy::policy::test;

namespace {

HostView view() {
  HostView v;
  v.network = {"cbr0", "NET-1", NetworkType::L2Bridge, {}, {}, std::nullopt};
  v.localEndpoints = {{"E1", "cbr0", ips({"10.244.1.2"}), "00-15-5D-00-00-04"},
                      {"E2", "pod-a", ips({"10.244.1.10", "fd00:244:1::10"}), "00-15-5D-00-00-10"},
                      {"E3", "", ips({"10.244.1.250"}), "00-15-5D-00-00-04"}};
  v.caps = Capabilities::fromVersion({15, 6});
  return v;
}

}  // namespace

TEST_CASE("node context: node IPs from --bind-address, else the Node (one per family), else the network's PA, else loopback") {
  NodeConfig cfg;
  cfg.nodeName = "win-node-1";
  Node node;
  node.name = "win-node-1";
  node.internalIPs = ips({"10.0.0.4", "10.0.0.5", "fd00::4"});
  node.externalIPs = ips({"20.0.0.4"});
  node.zone = "zone-a";

  cfg.bindAddress = ip("10.0.0.9");
  CHECK(makeNodeContext(view(), node, cfg).context.nodeIPs == ips({"10.0.0.9"}));
  cfg.bindAddress.reset();
  auto fromNode = makeNodeContext(view(), node, cfg);
  CHECK(fromNode.context.nodeIPs == ips({"10.0.0.4", "fd00::4"}));
  CHECK(fromNode.context.zone == "zone-a");
  CHECK_FALSE(fromNode.assumedLoopback);
  node.internalIPs.clear();
  CHECK(makeNodeContext(view(), node, cfg).context.nodeIPs == ips({"20.0.0.4"}));  // ExternalIP when no InternalIP
  auto v = view();
  v.network.providerAddress = ip("10.0.0.44");
  CHECK(makeNodeContext(v, std::nullopt, cfg).context.nodeIPs == ips({"10.0.0.44"}));
  auto none = makeNodeContext(view(), std::nullopt, cfg);
  CHECK(none.assumedLoopback);
  CHECK(none.context.nodeIPs == ips({"127.0.0.1"}));
}

TEST_CASE("node context: local endpoints are every local IP but the source VIP; the root endpoint and MAC by name") {
  NodeConfig cfg;
  cfg.nodeName = "win-node-1";
  cfg.rules.sourceVip = ip("10.244.1.250");
  auto c = makeNodeContext(view(), std::nullopt, cfg).context;
  CHECK(c.localEndpointIPs == ips({"10.244.1.2", "10.244.1.10", "fd00:244:1::10"}));
  CHECK(c.isSourceVip(ip("10.244.1.250")));
  CHECK(c.rootEndpointIP == ip("10.244.1.2"));
  CHECK(c.hostMac == "00-15-5D-00-00-04");
  CHECK(c.caps == Capabilities::fromVersion({15, 6}));
  cfg.rootEndpointName = "no-such-endpoint";
  auto noRoot = makeNodeContext(view(), std::nullopt, cfg).context;
  CHECK_FALSE(noRoot.rootEndpointIP);
  CHECK(noRoot.hostMac.empty());
  cfg.rules.sourceVip.reset();  // without --source-vip the .250 endpoint is a pod like any other
  CHECK(makeNodeContext(view(), std::nullopt, cfg).context.hasLocalEndpoint(ip("10.244.1.250")));
}

TEST_CASE("node context: the host MAC is the adapter's that owns the node IP, else the root endpoint's, else none") {
  NodeConfig cfg;
  cfg.nodeName = "win-node-1";
  cfg.bindAddress = ip("10.0.0.4");
  auto v = view();
  v.adapters = {{"vEthernet (nat)", "00-15-5D-99-00-01", ips({"172.20.0.1"})},
                {"Ethernet", "00-0D-3A-12-34-56", ips({"fe80::1", "10.0.0.4"})}};
  auto fromNic = makeNodeContext(v, std::nullopt, cfg);
  CHECK(fromNic.context.hostMac == "00-0D-3A-12-34-56");  // not cbr0's, although cbr0 is there
  CHECK(fromNic.hostMacFrom == NodeContextResult::MacSource::Adapter);
  CHECK(fromNic.context.rootEndpointIP == ip("10.244.1.2"));

  cfg.bindAddress = ip("10.0.0.7");  // no adapter has it: the root endpoint's
  auto fromRoot = makeNodeContext(v, std::nullopt, cfg);
  CHECK(fromRoot.context.hostMac == "00-15-5D-00-00-04");
  CHECK(fromRoot.hostMacFrom == NodeContextResult::MacSource::RootEndpoint);

  cfg.rootEndpointName = "no-such-endpoint";  // and no root endpoint either: none
  auto none = makeNodeContext(v, std::nullopt, cfg);
  CHECK(none.context.hostMac.empty());
  CHECK(none.hostMacFrom == NodeContextResult::MacSource::None);

  cfg.bindAddress = ip("10.0.0.4");  // an adapter without a MAC is no answer
  v.adapters[1].mac.clear();
  CHECK(makeNodeContext(v, std::nullopt, cfg).hostMacFrom == NodeContextResult::MacSource::None);
}

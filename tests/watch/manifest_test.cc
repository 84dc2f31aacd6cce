#include "catch.h"

#include <filesystem>
#include <chrono>
#include <fstream>

#include "watch/manifest.h"

using namespace hnsproxy;
using namespace hnsproxy::policy;

namespace {

// `prefix`, then 600 bytes of YAML aliases that would expand to ~10^10 values ("billion laughs").
std::string aliasBomb(const std::string& prefix) {
  std::string bomb = prefix + "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ",*" : "*") + prev;
    bomb += "]\n";
    prev = std::string(1, c);
  }
  return bomb;
}

}  // namespace

TEST_CASE("multi-document YAML with a List, quoted and plain scalars") {
  const char* text = R"(# comment
apiVersion: v1
kind: Service
metadata: {name: a, namespace: ns1}
spec:
  clusterIP: 10.96.0.1
  ports: [{name: p, port: 80, targetPort: "8080"}]
---
apiVersion: v1
kind: List
items:
- kind: Service
  metadata: {name: b}
  spec: {clusterIP: 10.96.0.2, ports: [{port: 81, targetPort: web}]}
- kind: ConfigMap
  metadata: {name: ignored}
---
kind: EndpointSlice
metadata: {name: a-1, namespace: ns1, labels: {kubernetes.io/service-name: a}}
addressType: IPv4
ports: [{name: p, port: 8080}]
endpoints: [{addresses: ["10.244.1.1"], conditions: {ready: true}}]
)";
  auto f = watch::parseManifest(text, "x.yaml");
  CHECK(f.errors.empty());
  CHECK_FALSE(f.syntaxError);
  REQUIRE(f.objects.size() == 3);
  const auto& a = std::get<Service>(f.objects[0].object);
  CHECK(std::get<std::uint16_t>(a.ports[0].targetPort) == 8080);  // quoted digits: a number as Kubernetes reads it
  CHECK(f.objects[0].line == 2);
  const auto& b = std::get<Service>(f.objects[1].object);
  CHECK(std::get<std::string>(b.ports[0].targetPort) == "web");
  CHECK(std::get<EndpointSlice>(f.objects[2].object).endpoints.size() == 1);
  CHECK(f.objects[2].line == 18);
}

TEST_CASE("one bad object is reported with file and line; the others survive") {
  const char* text = R"(kind: Service
metadata: {name: good}
spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}
---
kind: Service
metadata: {name: bad}
spec: {clusterIP: 10.96.0.2, ports: [{port: 99999}]}
)";
  auto f = watch::parseManifest(text, "svc.yaml");
  REQUIRE(f.objects.size() == 1);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].str().rfind("svc.yaml:5: Service default/bad: field spec.ports[0].port", 0) == 0);
  CHECK_FALSE(f.syntaxError);
}

TEST_CASE("a syntax error yields no objects, the line, and marks the file as unparsed") {
  auto f = watch::parseManifest("kind: Service\nmetadata: {name: a\nspec: {}\n", "broken.yaml");
  CHECK(f.syntaxError);
  CHECK(f.objects.empty());
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].line >= 2);
  CHECK(f.errors[0].message.find("invalid YAML") != std::string::npos);

  auto j = watch::parseManifest("{\"kind\": \"Service\",\n \"metadata\": }", "broken.json");
  CHECK(j.syntaxError);
  REQUIRE(j.errors.size() == 1);
  CHECK(j.errors[0].line == 2);
  CHECK(j.errors[0].message.find("invalid JSON") != std::string::npos);
}

TEST_CASE("JSON files and directory listing") {
  auto dir = std::filesystem::temp_directory_path() / ("hnsproxy-manifest-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "b.json") << R"({"kind":"List","items":[{"kind":"Node","metadata":{"name":"n1"}}]})";
  std::ofstream(dir / "a.yaml") << "kind: Node\nmetadata: {name: n0}\n";
  std::ofstream(dir / ".hidden.yaml") << "x";
  std::ofstream(dir / "notes.txt") << "x";
  std::ofstream(dir / "c.yaml~") << "x";
  auto files = watch::manifestFiles(dir);
  REQUIRE(files.size() == 2);
  CHECK(files[0].filename() == "a.yaml");
  auto f = watch::loadManifestFile(files[1]);
  REQUIRE(f.objects.size() == 1);
  CHECK(std::get<Node>(f.objects[0].object).name == "n1");
  auto missing = watch::loadManifestFile(dir / "nope.yaml");
  CHECK(missing.syntaxError);
  CHECK(missing.errors[0].message.rfind("cannot read the file", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("hostile manifests are refused with a clear error: alias bombs, deep nesting, nested Lists") {
  // 600 bytes of YAML aliases that would expand to ~10^10 values ("billion laughs").
  const std::string bomb = aliasBomb("");
  REQUIRE(bomb.size() < 1000);
  // Refused once the expansion budget is spent (about 2 s in a release build; the bench, not this
  // test, is where time is measured), instead of growing to 4 GB.
  auto m = watch::parseManifest(bomb, "bomb.yaml");
  CHECK(m.syntaxError);
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].message.find("expands to more than") != std::string::npos);
  auto cfg = watch::parseDocument(bomb, "kube-proxy.yaml");  // --config and kubeconfig go through here
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().message.find("kube-proxy.yaml") != std::string::npos);

  // 12,000 nested kind: List documents in JSON (312 KB).
  std::string deep;
  for (int i = 0; i < 12000; ++i) deep += "{\"kind\":\"List\",\"items\":[";
  deep += "{}";
  for (int i = 0; i < 12000; ++i) deep += "]}";
  auto d = watch::parseManifest(deep, "n.json");
  CHECK(d.syntaxError);
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].message.find("nested deeper than") != std::string::npos);

  // Lists in Lists within the nesting limit, but deeper than a List may go.
  std::string lists = "kind: List\nitems:\n";
  std::string indent = "";
  for (int i = 0; i < 10; ++i) {
    indent += "  ";
    lists += indent + "- kind: List\n" + indent + "  items:\n";
  }
  lists += indent + "  - {kind: Node, metadata: {name: n1}}\n";
  auto l = watch::parseManifest(lists, "lists.yaml");
  CHECK(l.objects.empty());
  REQUIRE(l.errors.size() == 1);
  CHECK(l.errors[0].message.find("kind List nested deeper than 8") != std::string::npos);
}

TEST_CASE("input that makes yaml-cpp 0.7's LoadAll allocate forever is an error at once (fuzzer finding, yaml-cpp#1040)") {
  for (const char* text : {"\"a\",\n", "\"a\",x\n", "apiVersion: v1\nkind: Service\n---\n\"a\",\n"}) {
    INFO(text);
    auto f = watch::parseManifest(text, "stray.yaml");  // before the fix: never returned
    CHECK(f.syntaxError);
    CHECK(f.objects.empty());
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0].message.find("invalid YAML") != std::string::npos);
    auto docs = watch::parseDocuments(text, "stray.yaml");
    CHECK_FALSE(docs);
  }
  // Document markers: `---` with and without content on its line, `...`, and the line numbers of
  // what follows stay those of the file.
  auto f = watch::parseManifest("# c\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: d}\n"
                                "spec: {clusterIP: 10.96.0.1, ports: [{port: 70000}]}\n...\n--- {kind: Node, metadata: "
                                "{name: n1}}\n",
                                "markers.yaml");
  CHECK_FALSE(f.syntaxError);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].line == 3);
  CHECK(f.objects.size() == 1);
}

TEST_CASE("a JSON number past double's range is a syntax error naming the file, not an exception (fuzzer finding)") {
  auto f = watch::parseManifest("{\"kind\":\"Service\",\"spec\":{\"x\":3333e33333333333333333333}}", "big.json");
  CHECK(f.syntaxError);
  REQUIRE(f.errors.size() == 1);
  CHECK(f.errors[0].message.find("invalid JSON") != std::string::npos);
  auto d = watch::parseDocument("{\"syncPeriod\": 2e0795}", "config.json");
  REQUIRE_FALSE(d);
  CHECK(d.error().message.find("config.json: invalid JSON") != std::string::npos);
}

TEST_CASE("a YAML number past double's range stays text instead of throwing (fuzzer finding)") {
  auto d = watch::parseDocument("a: 033e333\nb: 1.5e3\n", "n.yaml");
  REQUIRE(d);
  CHECK((*d)["a"] == "033e333");
  CHECK((*d)["b"] == 1500.0);
}

TEST_CASE("kinds the proxy does not use are skipped unread; an anchor a used object needs is still resolved") {
  // A large ConfigMap (its values would be most of the memory) and Lists mixing kinds, in YAML and JSON.
  std::string big = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n";
  for (int i = 0; i < 20000; ++i) big += "  k" + std::to_string(i) + ": \"" + std::string(40, 'x') + "\"\n";
  std::string text = big +
                     "---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: d}\n"
                     "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}\n"
                     "---\nkind: List\nitems:\n"
                     "- kind: Secret\n  metadata: {name: s}\n  data: &shared {x: y}\n"
                     "- kind: Service\n  metadata: {name: b, namespace: d, labels: *shared}\n"
                     "  spec: {clusterIP: 10.96.0.2, ports: [{port: 81}]}\n"
                     "- kind: ConfigMap\n  metadata: {name: c}\n"
                     "- {kind: Node, metadata: {name: n1}}\n";
  auto f = watch::parseManifest(text, "mixed.yaml");
  CHECK(f.errors.empty());
  REQUIRE(f.objects.size() == 3);
  CHECK(std::get<Service>(f.objects[0].object).id.name == "a");
  CHECK(f.objects[0].line == 20006);  // line numbers are the file's, whatever was skipped before
  const auto& b = std::get<Service>(f.objects[1].object);
  CHECK(b.id.name == "b");  // its labels came from an anchor in the skipped Secret
  CHECK(std::get<Node>(f.objects[2].object).name == "n1");

  std::string jsonText = R"({"kind":"List","items":[{"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}},)"
                     R"({"kind":"Service","metadata":{"name":"j","namespace":"d"},"spec":{"clusterIP":"10.96.0.3","ports":[{"port":82}]}},)"
                     R"({"kind":"Secret","metadata":{"name":"s"}},7,{"kind":"Node","metadata":{"name":"n2"}}]})";
  auto j = watch::parseManifest(jsonText, "mixed.json");
  CHECK_FALSE(j.syntaxError);
  REQUIRE(j.objects.size() == 2);
  CHECK(std::get<Service>(j.objects[0].object).id.name == "j");
  CHECK(std::get<Node>(j.objects[1].object).name == "n2");
  REQUIRE(j.errors.size() == 1);  // the 7: not an object, named as before
  auto cm = watch::parseManifest(R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"b"}})", "cm.json");
  CHECK(cm.objects.empty());
  CHECK(cm.errors.empty());
  CHECK_FALSE(cm.syntaxError);
  // A kind that is not text is not a kind to skip: the decoder names the problem, as before.
  auto odd = watch::parseManifest("kind: 5\nmetadata: {name: x}\n", "odd.yaml");
  REQUIRE(odd.errors.size() == 1);
}

TEST_CASE("an alias bomb is refused by counting, before anything is built") {
  const std::string bomb = aliasBomb("kind: Service\n");
  const auto t0 = std::chrono::steady_clock::now();
  auto m = watch::parseManifest(bomb, "bomb.yaml");
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(m.syntaxError);
  REQUIRE(m.errors.size() == 1);
  CHECK(m.errors[0].message.find("expands to more than") != std::string::npos);
  // No timing assertion (bench/ measures time); what matters is that nothing was expanded:
  INFO("refused after " << std::chrono::duration<double>(took).count() << " s");
  // a legitimate alias inside the budget still expands.
  auto ok = watch::parseManifest("kind: Service\nmetadata: {name: a, namespace: d, labels: &l {x: y}, annotations: *l}\n"
                                 "spec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}\n",
                                 "ok.yaml");
  CHECK(ok.errors.empty());
  CHECK(ok.objects.size() == 1);
}

TEST_CASE("a document of an unused kind is skipped at a glance, unparsed; anything the glance is unsure of is parsed") {
  // Unparsed: the malformed value below its kind is never read (a 50 MB ConfigMap costs one pass).
  auto skipped = watch::parseManifest("apiVersion: v1\nkind: ConfigMap # a comment\ndata:\n  a: {unclosed\n", "cm.yaml");
  CHECK(skipped.objects.empty());
  CHECK(skipped.errors.empty());
  CHECK_FALSE(skipped.syntaxError);
  auto quoted = watch::parseManifest("kind: 'Secret'\r\ndata:\r\n  a: [\r\n", "s.yaml");
  CHECK(quoted.errors.empty());
  // A root the glance does not read (a flow mapping), a kind that is not a plain word, a root line
  // after an unclosed bracket: parsed, so the error is reported as before.
  for (const char* text : {"{kind: ConfigMap, data: {a: b}\n", "kind: Config-Map\ndata:\n  a: {unclosed\n",
                           "data: [1,\nkind: ConfigMap]\nmore: {unclosed\n"}) {
    INFO(text);
    auto parsed = watch::parseManifest(text, "x.yaml");
    CHECK(parsed.syntaxError);
    CHECK_FALSE(parsed.errors.empty());
  }
  // A used kind next to a skipped one, in one stream: the Service is read, with its line.
  auto mixed = watch::parseManifest("kind: ConfigMap\ndata: {a: b}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: d}\n"
                                    "spec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}\n",
                                    "m.yaml");
  CHECK(mixed.errors.empty());
  REQUIRE(mixed.objects.size() == 1);
  CHECK(mixed.objects[0].line == 4);
}

TEST_CASE("a JSON List is decoded item by item, in file order, with what is not wanted or not valid named") {
  const char* text = R"({"apiVersion":"v1","kind":"List","items":[
    {"kind":"Service","metadata":{"name":"a","namespace":"ns"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}},
    {"kind":"ConfigMap","metadata":{"name":"ignored"},"data":{"k":"v"}},
    "not an object",
    {"kind":"Service","metadata":{"name":"bad","namespace":"ns"},"spec":{"clusterIP":"10.96.0.300","ports":[{"port":80}]}},
    {"kind":"List","items":[{"kind":"Service","metadata":{"name":"inner","namespace":"ns"},"spec":{"clusterIP":"10.96.0.3","ports":[{"port":82}]}}]},
    {"kind":"EndpointSlice","metadata":{"name":"a-1","namespace":"ns","labels":{"kubernetes.io/service-name":"a"}},
     "addressType":"IPv4","ports":[{"port":8080}],"endpoints":[{"addresses":["10.244.1.1"],"nodeName":"n1"}]}
  ]})";
  auto f = watch::parseManifest(text, "list.json");
  CHECK_FALSE(f.syntaxError);
  REQUIRE(f.objects.size() == 3);
  CHECK(std::get<Service>(f.objects[0].object).id.name == "a");
  CHECK(std::get<Service>(f.objects[1].object).id.name == "inner");
  const auto& slice = std::get<EndpointSlice>(f.objects[2].object);
  CHECK(slice.endpoints.at(0).nodeName == "n1");
  REQUIRE(f.errors.size() == 2);  // the invalid cluster IP, and the string
  bool badIp = false;
  for (const auto& e : f.errors) badIp = badIp || e.message.find("10.96.0.300") != std::string::npos;
  CHECK(badIp);

  // Truncated after some items: nothing of the file is taken.
  std::string cut(text);
  cut.resize(cut.find("\"inner\""));
  auto t = watch::parseManifest(cut, "list.json");
  CHECK(t.syntaxError);
  CHECK(t.objects.empty());
}

TEST_CASE("a JSON List's EndpointSlices are decoded as streamed; one the stream leaves to the tree reads the file again, once") {
  auto sliceText = [](const std::string& name, const std::string& endpoints) {
    return R"({"kind":"EndpointSlice","metadata":{"name":")" + name +
           R"(","namespace":"ns","labels":{"kubernetes.io/service-name":"a"}},"addressType":"IPv4","ports":[{"port":8080}],"endpoints":)" +
           endpoints + "}";
  };
  const std::string good = sliceText("a-1", R"([{"addresses":["10.244.1.1"],"nodeName":"n1","hints":{"forZones":[{"name":"z"}]}},{"addresses":["10.244.1.2"],"conditions":{"ready":false}}])");
  const std::string svc = R"({"kind":"Service","metadata":{"name":"a","namespace":"ns"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}})";
  auto f = watch::parseManifest(R"({"kind":"List","items":[)" + good + "," + svc + "]}", "list.json");
  CHECK(f.errors.empty());
  REQUIRE(f.objects.size() == 2);
  const auto& s = std::get<EndpointSlice>(f.objects[0].object);
  REQUIRE(s.endpoints.size() == 2);
  CHECK(s.endpoints[0].hintZones().at(0) == "z");
  CHECK_FALSE(s.endpoints[1].ready);
  CHECK(std::get<Service>(f.objects[1].object).id.name == "a");
  // The same slice decoded alone, as a tree, is the same slice.
  auto alone = watch::parseManifest(good, "one.json");
  REQUIRE(alone.objects.size() == 1);
  CHECK(std::get<EndpointSlice>(alone.objects[0].object) == s);

  // An endpoint of the wrong family after good items: read again as a tree, each object once, and
  // the error names the address as written.
  const std::string wrong = sliceText("a-2", R"([{"addresses":["fd00::0001"]}])");
  auto g = watch::parseManifest(R"({"kind":"List","items":[)" + good + "," + svc + "," + wrong + "]}", "list.json");
  REQUIRE(g.objects.size() == 2);
  CHECK(std::get<EndpointSlice>(g.objects[0].object) == s);
  REQUIRE(g.errors.size() == 1);
  CHECK(g.errors[0].message.find("EndpointSlice ns/a-2: field endpoints[0].addresses[0]: invalid value \"fd00::0001\"") == 0);
}

TEST_CASE("a YAML List is decoded item by item: the same objects, errors and lines as its items one by one") {
  std::string items, docs;
  for (int i = 0; i < 30; ++i) {
    const std::string svc = "kind: Service\n  metadata: {name: s" + std::to_string(i) + ", namespace: ns}\n  spec: {clusterIP: 10.96.0." +
                            std::to_string(i + 1) + ", ports: [{port: " + (i == 7 ? std::string("99999") : "80") + "}]}\n";
    items += "- " + svc + "- kind: ConfigMap\n  metadata: {name: c" + std::to_string(i) + "}\n";
  }
  const auto list = watch::parseManifest("apiVersion: v1\nkind: List\nitems:\n" + items + "metadata: {resourceVersion: \"1\"}\n", "l.yaml");
  CHECK_FALSE(list.syntaxError);
  REQUIRE(list.objects.size() == 29);  // s7's port is out of range
  REQUIRE(list.errors.size() == 1);
  CHECK(list.errors[0].str().rfind("l.yaml:1: Service ns/s7: field spec.ports[0].port", 0) == 0);
  for (std::size_t i = 0; i < list.objects.size(); ++i) {
    const auto& s = std::get<Service>(list.objects[i].object);
    CHECK(s.id.name == "s" + std::to_string(i < 7 ? i : i + 1));  // file order
    CHECK(list.objects[i].line == 1);
  }

  // An anchor in one item used by a later one; a repeated `items` key (the last wins, as in a tree).
  const auto anchored = watch::parseManifest(R"(kind: List
items:
- kind: Service
  metadata: {name: a, namespace: ns}
  spec: &spec {clusterIP: 10.96.0.1, ports: [{port: 80}]}
- kind: Service
  metadata: {name: b, namespace: ns}
  spec: *spec
)", "a.yaml");
  REQUIRE(anchored.objects.size() == 2);
  CHECK(std::get<Service>(anchored.objects[1].object).clusterIPs == std::get<Service>(anchored.objects[0].object).clusterIPs);
  const auto repeated = watch::parseManifest(R"(kind: List
items:
- {kind: Service, metadata: {name: first, namespace: ns}, spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}}
items:
- {kind: Service, metadata: {name: second, namespace: ns}, spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}}
)", "r.yaml");
  CHECK(repeated.errors.empty());
  REQUIRE(repeated.objects.size() == 1);
  CHECK(std::get<Service>(repeated.objects[0].object).id.name == "second");

  // A syntax error after items were decoded: nothing of the file, and only the syntax error.
  const auto broken = watch::parseManifest("kind: List\nitems:\n" + items + "- kind: Service\n  metadata: {name: x\n  spec: {}\n", "b.yaml");
  CHECK(broken.syntaxError);
  CHECK(broken.objects.empty());
  REQUIRE(broken.errors.size() == 1);
  INFO(broken.errors[0].str());
  CHECK(broken.errors[0].message.find("invalid YAML") != std::string::npos);
}

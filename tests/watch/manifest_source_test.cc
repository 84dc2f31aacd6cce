#include "catch.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "watch/manifest.h"
#include "watch/manifest_source.h"

using namespace hnsproxy;
using namespace hnsproxy::policy;
using namespace hnsproxy::watch;

namespace {

struct SourceEvents : EventSink {
  std::vector<std::string> events;
  int syncedCount = 0;
  void upsertService(Service s) override { events.push_back("svc+" + s.id.str() + ":" + std::to_string(s.ports[0].port)); }
  void deleteService(const ServiceName& id) override { events.push_back("svc-" + id.str()); }
  void upsertSlice(EndpointSlice s) override { events.push_back("eps+" + s.ns + "/" + s.name); }
  void deleteSlice(const std::string& ns, const std::string& name) override { events.push_back("eps-" + ns + "/" + name); }
  void upsertNode(Node n) override { events.push_back("node+" + n.name); }
  void deleteNode(const std::string& name) override { events.push_back("node-" + name); }
  void synced(Resource) override { ++syncedCount; }
};

std::string svc(const std::string& name, int port) {
  return "kind: Service\nmetadata: {name: " + name + "}\nspec: {clusterIP: 10.96.0.1, ports: [{port: " +
         std::to_string(port) + "}]}\n";
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
  // Make the change visible even within the file system's timestamp granularity.
  std::filesystem::last_write_time(p, std::filesystem::last_write_time(p) + std::chrono::seconds(1));
}

// An empty directory of its own for a test: hnsproxy-<name>-<pid> under the temp directory.
std::filesystem::path freshDir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("hnsproxy-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A directory of one service file per (name, port), and a source over it with a 2 s removal grace
// on a clock the test moves, polled once (its first events cleared).
struct GracedSource {
  std::filesystem::path dir;
  SourceEvents rec;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ManifestSource src;
  GracedSource(const std::string& name, const std::vector<std::pair<std::string, int>>& services)
      : dir(makeDir(name, services)), src(dir, rec, {std::chrono::seconds(2), [this] { return now; }}) {
    src.poll();
    rec.events.clear();
  }
  static std::filesystem::path makeDir(const std::string& name, const std::vector<std::pair<std::string, int>>& services) {
    auto d = freshDir(name);
    for (const auto& [svcName, port] : services) write(d / (svcName + ".yaml"), svc(svcName, port));
    return d;
  }
};

}  // namespace

TEST_CASE("the manifest source delivers, follows changes, and keeps objects of a broken file") {
  auto dir = freshDir("src");
  write(dir / "a.yaml", svc("a", 80) + "---\n" + svc("b", 81));
  write(dir / "n.yaml", "kind: Node\nmetadata: {name: n1}\n");
  SourceEvents rec;
  ManifestSource src(dir, rec, {std::chrono::milliseconds(0), {}});  // removals take effect at once here
  auto r = src.poll();
  CHECK(r.errors.empty());
  CHECK(rec.syncedCount == 3);
  // Files in order of size (the smaller n.yaml first), each file's objects in order.
  CHECK(rec.events == std::vector<std::string>{"node+n1", "svc+default/a:80", "svc+default/b:81"});

  rec.events.clear();
  CHECK(src.poll().changedFiles == 0);  // nothing changed: no events
  CHECK(rec.events.empty());

  write(dir / "a.yaml", svc("a", 8080));  // b removed, a changed
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc-default/b", "svc+default/a:8080"});

  rec.events.clear();
  write(dir / "a.yaml", "kind: Service\nmetadata: {name: a\nspec: {}\n");  // a typo
  auto broken = src.poll();
  REQUIRE(broken.errors.size() == 1);
  CHECK(broken.errors[0].file.find("a.yaml") != std::string::npos);
  CHECK(broken.errors[0].line > 0);
  CHECK(rec.events.empty());  // the typo deletes nothing
  write(dir / "a.yaml", svc("a", 8080) + "---\n" + "kind: Service\nmetadata: {name: c}\nspec: {ports: [{port: 99999}]}\n");
  auto badObject = src.poll();
  CHECK(badObject.errors.size() == 1);
  CHECK(rec.events.empty());  // a bad object also keeps the file's previous state
  write(dir / "a.yaml", svc("a", 9090));
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc+default/a:9090"});

  rec.events.clear();
  std::filesystem::remove(dir / "a.yaml");
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc-default/a"});

  rec.events.clear();
  std::filesystem::remove_all(dir);
  auto gone = src.poll();
  CHECK(gone.dirMissing);
  CHECK(rec.events.empty());  // a vanished directory is reported, and deletes nothing
}

TEST_CASE("an object in two files survives the removal of one of them") {
  auto dir = freshDir("dup");
  write(dir / "1.yaml", svc("a", 80));
  write(dir / "2.yaml", svc("a", 81));
  SourceEvents rec;
  ManifestSource src(dir, rec, {std::chrono::milliseconds(0), {}});
  src.poll();
  rec.events.clear();
  std::filesystem::remove(dir / "2.yaml");
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc+default/a:80"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a directory replaced and refilled, emptied or removed deletes nothing; a file gone past the grace does") {
  GracedSource g("grace", {{"a", 80}, {"b", 81}, {"c", 82}});
  auto& [dir, rec, now, src] = g;

  // mv m m.bak; mkdir m; cp m.bak/* m/ — polled at every step.
  auto bak = dir.string() + ".bak";
  std::filesystem::remove_all(bak);
  std::filesystem::rename(dir, bak);
  auto missing = src.poll();
  CHECK(missing.dirMissing);
  CHECK(missing.errors.size() == 1);  // reported once...
  CHECK(src.poll().errors.empty());   // ...not at every poll
  std::filesystem::create_directories(dir);
  auto empty = src.poll();
  REQUIRE(empty.errors.size() == 1);
  CHECK(empty.errors[0].message.find("no manifest files") != std::string::npos);
  for (const char* f : {"a.yaml", "b.yaml", "c.yaml"}) {
    std::filesystem::copy_file(std::filesystem::path(bak) / f, dir / f);
    now += std::chrono::milliseconds(250);
    src.poll();
  }
  CHECK(rec.events.empty());  // nothing deleted on the way, nothing changed at the end

  // A file really removed: kept through the grace, then deleted.
  std::filesystem::remove(dir / "c.yaml");
  src.poll();
  now += std::chrono::milliseconds(1500);
  src.poll();
  CHECK(rec.events.empty());
  now += std::chrono::milliseconds(600);
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc-default/c"});
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(bak);
}

TEST_CASE("a manifest swapped for a FIFO or grown past the limit is refused without blocking") {
  auto dir = freshDir("fifo");
  write(dir / "a.yaml", svc("a", 80));
  std::string text;
  CHECK(readRegularFile(dir / "a.yaml", 1 << 20, text));
  CHECK(text.find("name: a") != std::string::npos);
  REQUIRE(::mkfifo((dir / "pipe.yaml").c_str(), 0600) == 0);
  auto fifo = readRegularFile(dir / "pipe.yaml", 1 << 20, text);  // returns at once: nobody writes
  REQUIRE_FALSE(fifo);
  CHECK(fifo.error().message.find("not a regular file") != std::string::npos);
  auto big = readRegularFile(dir / "a.yaml", 10, text);
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("larger than") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a FIFO in the manifest directory is reported once and never opened; the larger of two changed files is read last") {
  auto dir = freshDir("fifodir");
  write(dir / "a.yaml", svc("a", 80));
  REQUIRE(::mkfifo((dir / "pipe.yaml").c_str(), 0600) == 0);
  SourceEvents rec;
  ManifestSource src(dir, rec);
  auto first = src.poll();  // returns: the FIFO is not opened
  REQUIRE(first.errors.size() == 1);
  CHECK(first.errors[0].file == (dir / "pipe.yaml").string());
  CHECK(first.errors[0].message.find("not a regular file") != std::string::npos);
  CHECK(src.poll().errors.empty());  // once, not at every poll
  std::filesystem::remove(dir / "pipe.yaml");
  REQUIRE(::mkfifo((dir / "pipe.yaml").c_str(), 0600) == 0);
  src.poll();
  rec.events.clear();
  // Two files change in one poll: the small one's objects are delivered first.
  std::string large;
  for (int i = 0; i < 200; ++i) large += svc("z" + std::to_string(i), 80) + "---\n";
  write(dir / "0-large.yaml", large);
  write(dir / "b.yaml", svc("b", 81));
  auto second = src.poll();
  CHECK(second.bytesParsed > large.size());
  auto evs = rec.events;
  REQUIRE(evs.size() == 201);
  CHECK(evs.front().find("b:81") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file cut short that still parses: what it drops is deleted and named in the poll's report") {
  auto dir = freshDir("trunc");
  write(dir / "s.yaml", svc("a", 80) + "---\n" + svc("b", 81) + "---\n" + svc("c", 82));
  write(dir / "gone.yaml", svc("z", 90));
  SourceEvents rec;
  ManifestSource src(dir, rec, {std::chrono::milliseconds(0), {}});
  CHECK(src.poll().removed.empty());
  write(dir / "s.yaml", svc("a", 80) + "---\n");  // truncated mid-write: valid YAML, two services fewer
  std::filesystem::remove(dir / "gone.yaml");
  auto r = src.poll();
  CHECK(r.errors.empty());
  std::sort(r.removed.begin(), r.removed.end());
  const std::string s = (dir / "s.yaml").string(), gone = (dir / "gone.yaml").string();
  CHECK(r.removed == std::vector<std::string>{"Service default/b (no longer in " + s + ")",
                                              "Service default/c (no longer in " + s + ")",
                                              "Service default/z (its file " + gone + " was removed)"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file emptied and then rewritten with a typo (an editor's save) deletes nothing; one left empty past the grace does") {
  GracedSource g("emptied", {{"a", 80}, {"b", 81}});
  auto& [dir, rec, now, src] = g;

  write(dir / "a.yaml", "");  // truncated: the poll lands between the truncate and the write
  now += std::chrono::milliseconds(250);
  src.poll();
  CHECK(rec.events.empty());
  write(dir / "a.yaml", svc("a", 80) + "\n  bad: [indent\n");  // then the write, with a typo
  now += std::chrono::milliseconds(250);
  auto broken = src.poll();
  CHECK_FALSE(broken.errors.empty());
  CHECK(rec.events.empty());  // the typo changes nothing: a is kept
  now += std::chrono::seconds(5);
  src.poll();
  CHECK(rec.events.empty());

  // Emptied for good: kept through the grace, then its objects go.
  write(dir / "b.yaml", "");
  src.poll();
  now += std::chrono::milliseconds(1500);
  src.poll();
  CHECK(rec.events.empty());
  now += std::chrono::milliseconds(600);
  src.poll();
  CHECK(rec.events == std::vector<std::string>{"svc-default/b"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a one-shot source (--sync-once, --dry-run) hands every object over as a keeping source does, and keeps none") {
  auto dir = freshDir("oneshot");
  write(dir / "a.yaml", svc("a", 80) + "---\n" + svc("b", 81));
  write(dir / "n.yaml", "kind: Node\nmetadata: {name: n1}\n");
  write(dir / "s.json", R"({"kind":"List","items":[{"kind":"EndpointSlice","metadata":{"name":"a-1","labels":{"kubernetes.io/service-name":"a"}},)"
                        R"("addressType":"IPv4","endpoints":[{"addresses":["10.244.1.5"]}]}]})");
  SourceEvents keeping, oneShot;
  ManifestSource keep(dir, keeping, {std::chrono::milliseconds(0), {}});
  ManifestSourceOptions o{std::chrono::milliseconds(0), {}};
  o.keepObjects = false;
  ManifestSource once(dir, oneShot, o);
  CHECK(keep.poll().errors.empty());
  CHECK(once.poll().errors.empty());
  CHECK(oneShot.events == keeping.events);
  CHECK(oneShot.events.size() == 4);
  CHECK(oneShot.syncedCount == 3);
  oneShot.events.clear();
  CHECK(once.poll().changedFiles == 0);  // nothing changed, nothing again
  CHECK(oneShot.events.empty());
  std::filesystem::remove_all(dir);
}

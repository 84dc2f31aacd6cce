#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"

#include "policy/model.h"

using namespace hnsproxy::policy;

TEST_CASE("a shared name is one handle per text, kept while a handle names it") {
  const auto before = SharedName::tableSize();
  {
    SharedName a = std::string("aks-nodepool1-12345678-vmss000001");
    SharedName b("aks-nodepool1-12345678-vmss000001");
    SharedName c("zone-a");
    CHECK(a == b);
    CHECK_FALSE(a == c);
    CHECK(a == std::string("aks-nodepool1-12345678-vmss000001"));
    CHECK(a.str() == b.str());
    CHECK(SharedName::tableSize() == before + 2);
    SharedName d = a;
    a = c;  // b and d still name the node
    CHECK(d == b);
    CHECK(a == "zone-a");
    b = SharedName();
    d = std::move(a);
    CHECK(a.empty());
    CHECK(SharedName::tableSize() == before + 1);  // only "zone-a" (c, d) is named now
  }
  CHECK(SharedName::tableSize() == before);
  SharedName empty("");
  CHECK(empty.empty());
  CHECK(empty.str().empty());
  CHECK(empty == SharedName());
}

TEST_CASE("shared names are taken and dropped from many threads at once") {
  const auto before = SharedName::tableSize();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 20000; ++i) {
        SharedName n("node-" + std::to_string((i + t) % 7));
        SharedName copy = n;
        if (copy.str() != "node-" + std::to_string((i + t) % 7) || !(copy == n)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(SharedName::tableSize() == before);
}

TEST_CASE("endpoints without hints carry none, and compare by their names' text") {
  Endpoint a, b;
  a.nodeName = "n1";
  b.nodeName = std::string("n") + "1";
  CHECK(a == b);
  CHECK(a.hintZones().empty());
  b.hints.edit().zones = {"zone-a"};
  CHECK_FALSE(a == b);
  a.hints.edit().zones.emplace_back("zone-a");
  CHECK(a == b);
}

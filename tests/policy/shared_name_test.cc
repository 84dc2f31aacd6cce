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

TEST_CASE("a MAC is held as its bytes and reads back in HNS's form; other text is kept whole") {
  const MacText dashes("02-11-0a-f4-03-07"), colons("02:11:0A:F4:03:07"), upper("02-11-0A-F4-03-07");
  CHECK(dashes.isMac());
  CHECK(dashes == colons);
  CHECK(dashes == upper);
  CHECK(colons.str() == "02-11-0A-F4-03-07");
  CHECK_FALSE(dashes == MacText("02-11-0a-f4-03-08"));
  CHECK(MacText("FF-FF-FF-FF-FF-FF").str() == "FF-FF-FF-FF-FF-FF");
  CHECK(MacText("00-00-00-00-00-00").str() == "00-00-00-00-00-00");
  CHECK_FALSE(MacText("00-00-00-00-00-00").empty());  // a zero MAC is not "no MAC"
  CHECK(MacText().empty());
  CHECK(MacText("").empty());
  CHECK(MacText() == MacText(""));

  // Not a MAC: a bad digit, a bad separator, a length that is not 17, a long text.
  for (const char* text : {"02-11-0a-f4-03-0g", "02.11.0a.f4.03.07", "02-11-0a-f4-03", "unknown",
                           "02-11-0A-F4-03-07-00-00-00-00-00-00-extra-text-beyond-22"}) {
    const MacText m(text);
    CHECK_FALSE(m.isMac());
    CHECK_FALSE(m.empty());
    CHECK(m.str() == text);  // exactly as given, however long
    CHECK(m == MacText(std::string(text)));
    CHECK_FALSE(m == dashes);
  }
  // Texts that share a prefix stay distinct, and equal only themselves.
  const MacText a("02-11-0A-F4-03-07-00-00-00-00-00-00-aaaa"), b("02-11-0A-F4-03-07-00-00-00-00-00-00-bbbb");
  CHECK_FALSE(a == b);
  CHECK(a.str() != b.str());
  CHECK(sizeof(MacText) == 7);
}

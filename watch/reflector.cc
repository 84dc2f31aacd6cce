#include "watch/reflector.h"

#include <thread>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "watch/decoder.h"
#include "watch/list_reader.h"

namespace hnsproxy::watch {

using nlohmann::json;
using namespace hnsproxy::policy;

ResourceSpec servicesSpec() {
  return {Resource::Services, "/api/v1/services", "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless",
          "spec.clusterIP!=None"};
}
ResourceSpec endpointSlicesSpec() {
  return {Resource::EndpointSlices, "/apis/discovery.k8s.io/v1/endpointslices",
          "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless", ""};
}
ResourceSpec nodeSpec(const std::string& nodeName) {
  return {Resource::Nodes, "/api/v1/nodes", "", "metadata.name=" + nodeName};
}

Reflector::Reflector(std::unique_ptr<ApiClient> client, ResourceSpec spec, EventSink& sink, LogFn log,
                     ReflectorOptions opts)
    : client_(std::move(client)), spec_(std::move(spec)), sink_(sink), log_(std::move(log)), opts_(opts) {}

void Reflector::stop() {
  stop_ = true;
  client_->stop();
}

std::string Reflector::resourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

std::string Reflector::query(bool watch) const {
  std::string q;
  auto add = [&](const std::string& k, const std::string& v) { q += (q.empty() ? "?" : "&") + k + "=" + urlEncode(v); };
  if (!spec_.labelSelector.empty()) add("labelSelector", spec_.labelSelector);
  if (!spec_.fieldSelector.empty()) add("fieldSelector", spec_.fieldSelector);
  if (watch) {
    add("watch", "1");
    add("allowWatchBookmarks", "true");
    add("resourceVersion", resourceVersion());
    // Spread reconnects: 1× to 2× the configured timeout, as client-go does.
    auto t = opts_.watchTimeout.count();
    add("timeoutSeconds", std::to_string(t + (t > 1 ? static_cast<long>(std::hash<std::string>{}(spec_.path) % static_cast<unsigned long>(t)) : 0)));
  }
  return q;
}

void Reflector::sleepFor(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (!stop_ && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

namespace {

const char* kindOf(Resource r) {
  switch (r) {
    case Resource::Services: return "Service";
    case Resource::EndpointSlices: return "EndpointSlice";
    case Resource::Nodes: return "Node";
  }
  return "?";
}

// metadata.<key> when it is a string, else "": objects from the API server are untrusted input.
std::string metaString(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return "";
  auto it = md->find(key);
  return it != md->end() && it->is_string() ? it->get<std::string>() : "";
}

std::pair<std::string, std::string> keyOf(const json& obj) { return {metaString(obj, "namespace"), metaString(obj, "name")}; }

}  // namespace

// Decodes and delivers one object; false when it was malformed (logged, skipped).
bool Reflector::applyObject(const std::string& type, nlohmann::json obj) {
  if (obj.is_discarded() || !obj.is_object()) {
    if (log_) log_('E', std::string("Skipping a malformed ") + kindOf(spec_.resource) + " in the watch stream");
    return false;
  }
  auto key = keyOf(obj);
  if (type == "DELETED") {
    deliverDeleted(key);
    return true;
  }
  std::string rv = metaString(obj, "resourceVersion");
  if (unchanged(key, rv)) return true;
  auto decoded = decode(obj);
  if (!decoded) return false;
  deliver(key, rv, std::move(*decoded));
  return true;
}

bool Reflector::unchanged(const Key& key, const std::string& rv) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  return it != cache_.end() && !rv.empty() && it->second == rv;
}

std::optional<Object> Reflector::decode(nlohmann::json& obj, std::vector<std::string>* errors) {
  obj["kind"] = kindOf(spec_.resource);  // list items and some events omit it
  auto decoded = decodeObject(obj);
  if (!decoded) {
    if (errors) errors->push_back(decoded.error().message);
    else if (log_) log_('E', "Skipping an invalid object: " + decoded.error().message);
    return std::nullopt;
  }
  return std::move(*decoded);
}

void Reflector::deliverDeleted(const Key& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_.erase(key);
  }
  switch (spec_.resource) {
    case Resource::Services: sink_.deleteService({key.first, key.second}); break;
    case Resource::EndpointSlices: sink_.deleteSlice(key.first, key.second); break;
    case Resource::Nodes: sink_.deleteNode(key.second); break;
  }
}

void Reflector::deliver(const Key& key, const std::string& rv, Object obj) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cache_[key] = rv;
  }
  upsert(sink_, std::move(obj));
}

Status Reflector::list() {
  ++lists_;
  // Every listed key, with its object decoded as its page arrives (the page's JSON is dropped
  // then): an object already delivered at that version, or one that does not decode, has none.
  struct Listed {
    std::string rv;
    std::optional<Object> obj;
  };
  std::map<Key, Listed> items;
  std::string cont, rv;
  std::size_t pageSize = std::max<std::size_t>(1, opts_.pageSize);
  // `continue` restarts the list from its first page (an expired continue token, a page too large).
  while (!stop_) {
    std::string q = query(false);
    q += (q.empty() ? "?" : "&") + std::string("limit=") + std::to_string(pageSize);
    if (!cont.empty()) q += "&continue=" + urlEncode(cont);
    auto r = client_->get(spec_.path + q, std::chrono::seconds(60), opts_.maxPageBytes);
    if (!r) return r.error();
    if (r->bodyTooLarge) {
      if (pageSize == 1)
        return Error(ErrorCode::InvalidInput, "list " + spec_.path + ": one object is larger than " +
                                                  std::to_string(opts_.maxPageBytes >> 10) + " KiB");
      pageSize = std::max<std::size_t>(1, pageSize / 2);
      if (log_) log_('W', "A list page of " + spec_.path + " passed " + std::to_string(opts_.maxPageBytes >> 10) +
                              " KiB; listing again with " + std::to_string(pageSize) + " objects per page");
      items.clear();
      cont.clear();
      continue;
    }
    if (r->status == 410 && !cont.empty()) {  // the continue token expired: start the list over
      items.clear();
      cont.clear();
      continue;
    }
    if (r->status != 200)
      return Error(ErrorCode::Transient, "list " + spec_.path + ": HTTP " + std::to_string(r->status) + ": " +
                                             r->body.substr(0, 200));
    // Each item is decoded as soon as the parser has it, and dropped: the page is never one
    // document of 500 objects (what is left of it is the list's own metadata), and an
    // EndpointSlice's endpoints are decoded from the parser's events, never a tree.
    // Invalid objects are logged once the page is read this way (a page read again as a tree
    // logs them then).
    std::vector<std::string> invalid;
    // An item's entry, its version noted; null when it was delivered at that version already.
    auto entry = [&](const json& item) -> Listed* {
      auto key = keyOf(item);
      Listed& l = items[key];
      l.rv = metaString(item, "resourceVersion");
      l.obj.reset();
      return unchanged(key, l.rv) ? nullptr : &l;
    };
    auto streamedItem = [&](json& item, std::vector<Endpoint>* endpoints) {
      Listed* l = entry(item);
      if (!l) return true;
      if (!endpoints) {
        l->obj = decode(item, &invalid);
        return true;
      }
      auto decoded = decodeEndpointSliceStreamed(item, *endpoints);
      if (!decoded) return false;  // read the page as a tree: it names the error
      if (!*decoded) {
        invalid.push_back(decoded->error().message);
        return true;
      }
      l->obj = Object(std::move(*decoded).value());
      return true;
    };
    json page;
    if (auto rest = readListItems(r->body, kindOf(spec_.resource), streamedItem)) {
      page = std::move(*rest);
      if (log_)
        for (const auto& m : invalid) log_('E', "Skipping an invalid object: " + m);
    } else {
      // What the streamed read leaves to the tree (an item that is not an object, an endpoint
      // with a wrong type or an invalid address, a page that is not JSON): the page again,
      // each item as a tree.
      std::string rootKey;
      bool inItems = false;
      page = json::parse(
          r->body,
          [&](int depth, json::parse_event_t e, json& parsed) {
            using E = json::parse_event_t;
            if (depth == 1 && e == E::key) rootKey = parsed.get<std::string>();
            if (depth == 1 && e == E::array_start) inItems = rootKey == "items";
            if (depth == 1 && e == E::array_end) inItems = false;
            if (!inItems || depth != 2 || !(e == E::object_end || e == E::array_end || e == E::value)) return true;
            if (e != E::object_end) {
              if (log_) log_('E', std::string("Skipping a malformed ") + kindOf(spec_.resource) + " in a list");
              return false;
            }
            if (Listed* l = entry(parsed)) l->obj = decode(parsed);
            return false;
          },
          false);
    }
    if (page.is_discarded() || !page.is_object())
      return Error(ErrorCode::Transient, "list " + spec_.path + ": the response is not JSON");
    if (auto v = metaString(page, "resourceVersion"); !v.empty()) rv = v;
    cont = metaString(page, "continue");
    if (cont.empty()) break;
  }
  if (stop_) return Error(ErrorCode::Transient, "stopped");
  // The relist as the minimal set of changes against what was delivered before.
  std::vector<std::pair<std::string, std::string>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, oldRv] : cache_)
      if (!items.count(key)) gone.push_back(key);
  }
  for (const auto& key : gone) deliverDeleted(key);
  for (auto& [key, l] : items)
    if (l.obj) deliver(key, l.rv, std::move(*l.obj));
  {
    std::lock_guard<std::mutex> lock(mu_);
    rv_ = rv;
  }
  if (!synced_) {
    synced_ = true;
    sink_.synced(spec_.resource);
  }
  return Ok{};
}

Reflector::LineResult Reflector::handleWatchLine(std::string_view line) {
  json ev = json::parse(line, nullptr, false);
  if (ev.is_discarded() || !ev.is_object() || !ev.contains("type") || !ev.contains("object")) {
    if (log_) log_('E', std::string("Skipping a malformed watch event for ") + kindOf(spec_.resource) + "s");
    return LineResult::Continue;
  }
  ++events_;
  std::string type = ev["type"].is_string() ? ev["type"].get<std::string>() : "";
  const json& obj = ev["object"];
  if (type == "ERROR") {
    const json* code = obj.is_object() ? &obj : nullptr;
    if (code && code->contains("code") && (*code)["code"].is_number_integer() && (*code)["code"] == 410)
      return LineResult::Gone;
    if (log_) log_('W', "Watch error event: " + obj.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 1024));
    return LineResult::Error;
  }
  std::string rv = metaString(obj, "resourceVersion");
  if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") applyObject(type, obj);
  else if (type != "BOOKMARK" && log_) log_('W', "Unknown watch event type " + type.substr(0, 64));
  if (!rv.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    rv_ = rv;
  }
  return stop_ ? LineResult::Stopped : LineResult::Continue;
}

Reflector::WatchEnd Reflector::watchOnce() {
  ++watches_;
  WatchEnd end = WatchEnd::Timeout;
  std::string errorBody;
  auto r = client_->stream(
      spec_.path + query(true),
      [&](std::string_view line) {
        switch (handleWatchLine(line)) {
          case LineResult::Continue: return true;
          case LineResult::Gone: end = WatchEnd::Gone; return false;
          case LineResult::Error: end = WatchEnd::Error; return false;
          case LineResult::Stopped: return false;
        }
        return false;
      },
      opts_.watchTimeout * 2 + std::chrono::seconds(30), &errorBody);
  if (stop_) return WatchEnd::Stopped;
  if (!r) {
    if (log_) log_('W', std::string("Watch of ") + spec_.path + " ended: " + r.error().message);
    return WatchEnd::Error;
  }
  if (*r == 410) return WatchEnd::Gone;
  if (*r != 200) {
    if (log_) log_('W', "Watch of " + spec_.path + ": HTTP " + std::to_string(*r) + ": " + errorBody.substr(0, 200));
    return WatchEnd::Error;
  }
  return end;
}

std::chrono::milliseconds Reflector::nextBackoff(std::chrono::milliseconds* step) {
  const auto now = std::chrono::steady_clock::now();
  if (backoffStep_.count() == 0 || now - lastBackoff_ > opts_.backoffReset) backoffStep_ = opts_.backoffInitial;
  else backoffStep_ = std::min(backoffStep_ * 2, opts_.backoffMax);
  *step = backoffStep_;
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  auto wait = backoffStep_ + std::chrono::milliseconds(static_cast<long>(static_cast<double>(backoffStep_.count()) * jitter(rng_)));
  lastBackoff_ = now + wait;  // the reset counts from the end of the wait
  return wait;
}

namespace {
std::string seconds(std::chrono::milliseconds d) { return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0); }
}  // namespace

void Reflector::run() {
  bool needList = true;
  std::chrono::milliseconds wait{0};  // before the next list or watch
  while (!stop_) {
    if (wait.count() > 0) {
      sleepFor(wait);
      wait = std::chrono::milliseconds{0};
      if (stop_) break;
    }
    if (needList) {
      auto st = list();
      if (!st) {
        if (stop_) break;
        std::chrono::milliseconds step;
        wait = nextBackoff(&step);
        if (log_) log_('W', "Failed to list " + spec_.path + "; retrying in " + seconds(step) + ": " + st.error().message);
        continue;
      }
      needList = false;
    }
    switch (watchOnce()) {
      case WatchEnd::Timeout: break;  // the normal end: watch again
      case WatchEnd::Gone: {
        needList = true;
        std::chrono::milliseconds step;
        wait = nextBackoff(&step);
        if (log_) log_('I', "The watch of " + spec_.path + " expired (410 Gone); relisting in " + seconds(step));
        break;
      }
      case WatchEnd::Stopped: return;
      case WatchEnd::Error: {
        std::chrono::milliseconds step;
        wait = nextBackoff(&step);
        break;
      }
    }
  }
}

}  // namespace hnsproxy::watch

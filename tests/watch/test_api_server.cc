#include "test_api_server.h"

#include <algorithm>
#include <ranges>

#include <set>
#include <sstream>
#include <sys/socket.h>

#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/ssl.h>

namespace hnsproxy::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct TestApiServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  ssl::context ctx{ssl::context::tls_server};
  // The descriptors of open connections, so that the destructor can wake their blocking reads
  // with shutdown(2) without touching asio's socket objects from another thread. A connection
  // removes its descriptor (under the lock) before it closes, so a reused number is never hit.
  std::mutex socketsMu;
  std::set<int> openFds;
};

namespace {

std::map<std::string, std::string> queryOf(const std::string& target) {
  std::map<std::string, std::string> q;
  auto pos = target.find('?');
  if (pos == std::string::npos) return q;
  std::stringstream ss(target.substr(pos + 1));
  std::string kv;
  auto decode = [](const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else if (s[i] == '+') {
        out += ' ';
      } else {
        out += s[i];
      }
    }
    return out;
  };
  while (std::getline(ss, kv, '&')) {
    auto eq = kv.find('=');
    q[decode(kv.substr(0, eq))] = eq == std::string::npos ? "" : decode(kv.substr(eq + 1));
  }
  return q;
}

std::string resourceOf(const std::string& path) {
  if (path == "/api/v1/services") return "services";
  if (path == "/apis/discovery.k8s.io/v1/endpointslices") return "endpointslices";
  if (path == "/api/v1/nodes") return "nodes";
  return "";
}

bool matches(const json& obj, const std::string& labelSel, const std::string& fieldSel) {
  const json& md = obj.value("metadata", json::object());
  const json& labels = md.value("labels", json::object());
  std::stringstream ls(labelSel);
  std::string term;
  while (std::getline(ls, term, ',')) {
    if (term.empty()) continue;
    if (term[0] == '!') {
      if (labels.contains(term.substr(1))) return false;
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      if (labels.value(term.substr(0, eq), "") != term.substr(eq + 1)) return false;
    } else if (!labels.contains(term)) {
      return false;
    }
  }
  std::stringstream fs(fieldSel);
  while (std::getline(fs, term, ',')) {
    if (term.empty()) continue;
    bool neg = term.find("!=") != std::string::npos;
    auto op = term.find(neg ? "!=" : "=");
    std::string field = term.substr(0, op), want = term.substr(op + (neg ? 2 : 1));
    std::string have;
    if (field == "metadata.name") have = md.value("name", "");
    else if (field == "metadata.namespace") have = md.value("namespace", "");
    else if (field == "spec.clusterIP") have = obj.value("spec", json::object()).value("clusterIP", "");
    if ((have == want) == neg) return false;
  }
  return true;
}

template <typename Stream>
bool writeAll(Stream& s, const std::string& data) {
  beast::error_code ec;
  asio::write(s, asio::buffer(data), ec);
  return !ec;
}

}  // namespace

TestApiServer::TestApiServer(Options o) : opts_(std::move(o)), impl_(std::make_unique<Impl>()) {
  auto& ctx = impl_->ctx;
  ctx.use_certificate_chain(asio::buffer(pki_.server.pem.certPem));
  ctx.use_private_key(asio::buffer(pki_.server.pem.keyPem), ssl::context::pem);
  ctx.add_certificate_authority(asio::buffer(pki_.ca.pem.certPem));
  ctx.set_verify_mode(ssl::verify_peer);  // a client certificate is asked for, not required
  ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  listenFd_ = impl_->acceptor.native_handle();
  port_ = impl_->acceptor.local_endpoint().port();  // read here, never from the accept thread's acceptor
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

TestApiServer::~TestApiServer() {
  stop_ = true;
  cv_.notify_all();
  ::shutdown(listenFd_, SHUT_RDWR);  // wakes the blocking accept(); the acceptor is closed by its thread
  if (acceptThread_.joinable()) acceptThread_.join();
  {
    std::lock_guard<std::mutex> lock(impl_->socketsMu);
    for (int fd : impl_->openFds) ::shutdown(fd, SHUT_RDWR);  // wakes blocking reads and writes
  }
  for (auto& t : connThreads_)
    if (t.joinable()) t.join();
}

std::string TestApiServer::url() const {
  return std::string(opts_.tls ? "https" : "http") + "://127.0.0.1:" +
         std::to_string(port_);
}

std::string TestApiServer::upsert(const std::string& resource, json obj) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& md = obj["metadata"];
  std::pair<std::string, std::string> key{md.value("namespace", ""), md.value("name", "")};
  md["resourceVersion"] = std::to_string(++rv_);
  bool existed = store_[resource].count(key) > 0;
  store_[resource][key] = obj;
  history_.push_back({rv_, resource, existed ? "MODIFIED" : "ADDED", obj});
  cv_.notify_all();
  return std::to_string(rv_);
}

void TestApiServer::remove(const std::string& resource, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_[resource].find({ns, name});
  if (it == store_[resource].end()) return;
  json obj = it->second;
  store_[resource].erase(it);
  obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
  history_.push_back({rv_, resource, "DELETED", obj});
  cv_.notify_all();
}

void TestApiServer::compact() {
  std::lock_guard<std::mutex> lock(mu_);
  compactedBefore_ = rv_;
  history_.clear();
}

void TestApiServer::setDown(bool down) {
  down_ = down;
  if (down) dropWatches();
}

void TestApiServer::dropWatches(bool midObject) {
  std::lock_guard<std::mutex> lock(mu_);
  ++dropGeneration_;
  dropMidObject_ = midObject;
  cv_.notify_all();
}

void TestApiServer::setToken(const std::string& t) {
  std::lock_guard<std::mutex> lock(mu_);
  opts_.token = t;
}

void TestApiServer::listGarbage(bool b) {
  std::lock_guard<std::mutex> lock(mu_);
  listGarbage_ = b;
}

void TestApiServer::injectMalformed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++malformedGeneration_;
  cv_.notify_all();
}

void TestApiServer::bookmark() {
  std::lock_guard<std::mutex> lock(mu_);
  ++bookmarkGeneration_;
  cv_.notify_all();
}

void TestApiServer::setChunkSize(std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  chunkSize_ = n;
}

void TestApiServer::pauseWatches(bool b) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = b;
  cv_.notify_all();
}

void TestApiServer::goneAsErrorEvent(bool b) {
  std::lock_guard<std::mutex> lock(mu_);
  goneAsEvent_ = b;
}

void TestApiServer::goneStorm(bool b) {
  std::lock_guard<std::mutex> lock(mu_);
  goneStorm_ = b;
}

std::string TestApiServer::lastUserAgent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return userAgent_;
}

int TestApiServer::activeWatches() const { return activeWatches_; }

void TestApiServer::acceptLoop() {
  while (!stop_) {
    auto sock = std::make_shared<tcp::socket>(impl_->io);
    beast::error_code ec;
    impl_->acceptor.accept(*sock, ec);
    if (stop_) break;
    if (ec) {  // an aborted connection, a momentary shortage: keep serving
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (down_) {  // the outage: refuse the conversation
      sock->close(ec);
      continue;
    }
    sock->set_option(tcp::no_delay(true), ec);  // as Go's net/http: events are small writes
    {
      std::lock_guard<std::mutex> lock(impl_->socketsMu);
      impl_->openFds.insert(sock->native_handle());
    }
    connThreads_.emplace_back([this, sock] { serve(sock); });
  }
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

void TestApiServer::serve(std::shared_ptr<void> conn) {
  auto sock = std::static_pointer_cast<tcp::socket>(conn);
  try {
    if (opts_.tls) {
      ssl::stream<tcp::socket&> s(*sock, impl_->ctx);
      beast::error_code ec;
      s.handshake(ssl::stream_base::server, ec);
      if (ec) return;  // e.g. the client rejected our certificate
      bool clientCertOk = false;
      if (X509* peer = SSL_get1_peer_certificate(s.native_handle())) {
        clientCertOk = SSL_get_verify_result(s.native_handle()) == X509_V_OK;
        X509_free(peer);
      }
      handle(s, clientCertOk);
      s.shutdown(ec);
    } else {
      handle(*sock, false);
    }
  } catch (const std::exception&) {
  }
  beast::error_code ec;
  {
    std::lock_guard<std::mutex> lock(impl_->socketsMu);
    impl_->openFds.erase(sock->native_handle());
  }
  sock->shutdown(tcp::socket::shutdown_both, ec);
  sock->close(ec);
}

template <typename Stream>
void TestApiServer::handle(Stream& s, bool clientCertOk) {
  beast::flat_buffer buf;
  while (!stop_) {
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(s, buf, req, ec);
    if (ec) return;
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    auto q = queryOf(target);
    auto reply = [&](unsigned status, const json& body) {
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = body.dump();
      res.prepare_payload();
      http::write(s, res, ec);
      return !ec && req.keep_alive();
    };
    {
      std::lock_guard<std::mutex> lock(mu_);
      userAgent_ = std::string(req[http::field::user_agent]);
    }
    std::string auth(req[http::field::authorization]);
    std::string token;
    {
      std::lock_guard<std::mutex> lock(mu_);
      token = opts_.token;
    }
    if (!clientCertOk && auth != "Bearer " + token) {
      ++unauthorized_;
      if (!reply(401, json{{"kind", "Status"}, {"code", 401}, {"reason", "Unauthorized"}, {"message", "Unauthorized"}}))
        return;
      continue;
    }
    std::string resource = resourceOf(path);
    if (resource.empty()) {
      if (!reply(404, json{{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"}})) return;
      continue;
    }
    std::string labelSel = q["labelSelector"], fieldSel = q["fieldSelector"];
    if (q.count("watch") && (q["watch"] == "1" || q["watch"] == "true")) {
      ++watchRequests_;
      long from = q.count("resourceVersion") && !q["resourceVersion"].empty() ? std::stol(q["resourceVersion"]) : 0;
      int timeout = q.count("timeoutSeconds") ? std::stoi(q["timeoutSeconds"]) : 300;
      bool gone, asEvent;
      {
        std::lock_guard<std::mutex> lock(mu_);
        gone = from < compactedBefore_ || goneStorm_;
        asEvent = goneAsEvent_;
      }
      json goneStatus{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", 410}, {"reason", "Expired"},
                      {"message", "too old resource version: " + std::to_string(from)}};
      if (gone && !asEvent) {
        reply(410, goneStatus);
        return;
      }
      // The stream: chunked, one event a line, possibly split into small pieces.
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
      if (!writeAll(s, head)) return;
      auto sendChunk = [&](const std::string& data, std::size_t pieceSize) {
        std::size_t step = pieceSize ? pieceSize : data.size();
        for (std::size_t off = 0; off < data.size(); off += step) {
          std::string piece = data.substr(off, step);
          std::ostringstream c;
          c << std::hex << piece.size() << "\r\n" << piece << "\r\n";
          if (!writeAll(s, c.str())) return false;
        }
        return true;
      };
      ++activeWatches_;
      struct Guard {
        std::atomic<int>& n;
        ~Guard() { --n; }
      } guard{activeWatches_};
      if (gone) {
        sendChunk(json{{"type", "ERROR"}, {"object", goneStatus}}.dump() + "\n", 0);
        writeAll(s, "0\r\n\r\n");
        return;
      }
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
      std::unique_lock<std::mutex> lock(mu_);
      int drop = dropGeneration_, malformed = malformedGeneration_, bookmarks = bookmarkGeneration_;
      long sent = from;
      while (!stop_) {
        if (paused_) {
          cv_.wait_for(lock, std::chrono::milliseconds(50));
          continue;
        }
        std::vector<std::string> lines;
        auto first = std::upper_bound(history_.begin(), history_.end(), sent, [](long v, const Event& e) { return v < e.rv; });
        for (const auto& e : std::ranges::subrange(first, history_.end()))
          if (e.resource == resource) {
            sent = e.rv;
            if (matches(e.object, labelSel, fieldSel) || e.type == "DELETED")
              lines.push_back(json{{"type", e.type}, {"object", e.object}}.dump() + "\n");
          }
        if (!history_.empty()) sent = std::max(sent, history_.back().rv);  // other resources' events: seen too
        if (malformedGeneration_ != malformed) {
          malformed = malformedGeneration_;
          lines.insert(lines.begin(), "{\"type\":\"ADDED\",\"object\":{not json at all\n");
        }
        if (bookmarkGeneration_ != bookmarks) {
          bookmarks = bookmarkGeneration_;
          lines.push_back(json{{"type", "BOOKMARK"}, {"object", {{"metadata", {{"resourceVersion", std::to_string(rv_)}}}}}}.dump() + "\n");
          sent = std::max(sent, rv_);
        }
        bool dropNow = dropGeneration_ != drop;
        bool midObject = dropMidObject_;
        std::size_t pieces = chunkSize_;
        lock.unlock();
        for (const auto& l : lines)
          if (!sendChunk(l, pieces)) return;
        if (dropNow) {
          if (midObject) sendChunk("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"na", 0);
          return;  // the connection closes without the terminating chunk
        }
        lock.lock();
        if (std::chrono::steady_clock::now() >= deadline) break;
        // Events written while this stream was sending were notified then: check before waiting.
        cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)), [&] {
          return stop_ || paused_ || (!history_.empty() && history_.back().rv > sent) || dropGeneration_ != drop ||
                 malformedGeneration_ != malformed || bookmarkGeneration_ != bookmarks;
        });
      }
      lock.unlock();
      writeAll(s, "0\r\n\r\n");  // the server-side timeout: a clean end of the stream
      return;
    }
    // A list, paginated.
    ++listRequests_;
    std::size_t limit = q.count("limit") ? std::stoul(q["limit"]) : 0;
    std::size_t start = q.count("continue") && !q["continue"].empty() ? std::stoul(q["continue"]) : 0;
    json page = json::array();
    std::string cont;
    long rv;
    {
      // The page: matching objects start .. start+limit (only those are copied).
      std::lock_guard<std::mutex> lock(mu_);
      std::size_t index = 0;
      for (const auto& [key, obj] : store_[resource]) {
        if (!matches(obj, labelSel, fieldSel)) continue;
        if (index >= start) {
          if (limit && page.size() == limit) {
            cont = std::to_string(index);
            break;
          }
          page.push_back(obj);
        }
        ++index;
      }
      rv = rv_;
      if (listGarbage_) {
        page.insert(page.begin(), json::array({1, 2}));
        page.push_back("garbage");
      }
    }
    json body{{"kind", "List"}, {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", std::to_string(rv)}, {"continue", cont}}}, {"items", page}};
    if (!reply(200, body)) return;
  }
}

}  // namespace hnsproxy::test

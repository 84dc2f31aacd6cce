#include "hns/sim/socket_api.h"

#include "hns/hcn_json.h"

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

namespace hnsproxy::hns {

#ifdef _WIN32
Result<std::unique_ptr<Api>> connectToSimulator(const std::string& socketPath) {
  return Error(ErrorCode::InvalidInput, "hnssim socket \"" + socketPath +
                                            "\": hnssim serves Unix-domain sockets, which this Windows build does not "
                                            "use; run the simulator in-process (--hns-backend=sim)");
}
#else
Result<std::unique_ptr<Api>> connectToSimulator(const std::string& socketPath) {
  return std::unique_ptr<Api>(std::make_unique<SocketApi>(socketPath));
}

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;

struct SocketApi::Conn {
  asio::io_context io;
  local::socket socket{io};
  // What was read past the last reply (nothing, with one request at a time on a connection). A
  // string, not an asio::streambuf: a streambuf keeps the capacity of the largest reply it held —
  // an enumerate of 114,000 IDs left 9 MB on every idle connection.
  std::string in;
};

SocketApi::SocketApi(std::string socketPath) : path_(std::move(socketPath)) {}
SocketApi::~SocketApi() = default;

Result<std::string> SocketApi::exchange(const json& request) {
  // A connection per concurrent caller (kept for reuse): the programmer's and the reader's
  // parallel calls reach hnssim at once, as they reach HNS.
  std::unique_ptr<Conn> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  boost::system::error_code ec;
  if (!conn) {
    conn = std::make_unique<Conn>();
    conn->socket.connect(local::endpoint(path_), ec);
    if (ec) return Error(ErrorCode::Transient, "hnssim at " + path_ + " is unreachable: " + ec.message(), hcn::kRpcServerUnavailable);
  }
  std::string line = request.dump() + "\n";
  asio::write(conn->socket, asio::buffer(line), ec);
  std::size_t n = 0;
  if (!ec) n = asio::read_until(conn->socket, asio::dynamic_buffer(conn->in), '\n', ec);
  if (ec) {
    // This connection is gone, and so are the idle ones (the daemon went away): the next calls reconnect.
    std::lock_guard<std::mutex> lock(mu_);
    idle_.clear();
    return Error(ErrorCode::Transient, "hnssim connection lost: " + ec.message(), hcn::kRpcServerUnavailable);
  }
  std::string text;
  if (n == conn->in.size()) {
    text = std::move(conn->in);  // the usual case: the reply is all that was read
    conn->in = std::string();
  } else {
    text = conn->in.substr(0, n);
    conn->in = conn->in.substr(n);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
  }
  return text;
}

namespace {
Error replyError(const json& resp) {
  std::uint32_t hr = resp.value("hresult", 0u);
  return Error(classifyHresult(hr), resp.value("error", std::string("hnssim error")), hr);
}
}  // namespace

Result<json> SocketApi::call(const json& request) {
  auto text = exchange(request);
  if (!text) return text.error();
  json resp = json::parse(*text, nullptr, false);
  if (resp.is_discarded() || !resp.is_object()) return Error(ErrorCode::Transient, "hnssim sent an invalid reply");
  if (!resp.value("ok", false)) return replyError(resp);
  return resp.contains("result") ? resp["result"] : json();
}

namespace {
json kindReq(const char* op, ObjectKind k) { return json{{"op", op}, {"kind", toString(k)}}; }
}  // namespace

Result<std::vector<std::string>> SocketApi::enumerate(ObjectKind kind, const std::string& q) {
  json req = kindReq("enumerate", kind);
  req["query"] = q;
  // Read as a stream of IDs: at 100,000 endpoints a document of the reply was 20 MB.
  auto text = exchange(req);
  if (!text) return text.error();
  json rest = json::object();
  auto ids = parseIdList(*text, "result", &rest);
  if (!ids && rest.empty()) return Error(ErrorCode::Transient, "hnssim sent an invalid reply");
  if (!rest.value("ok", false)) return replyError(rest);
  if (!ids) return Error(ErrorCode::Transient, "hnssim: enumerate did not return a list");
  return ids;
}

Result<Handle> SocketApi::open(ObjectKind kind, const std::string& id) {
  json req = kindReq("open", kind);
  req["id"] = id;
  auto r = call(req);
  if (!r) return r.error();
  return r->get<Handle>();
}

Result<std::string> SocketApi::query(Handle h, const std::string& q) {
  auto r = call(json{{"op", "query"}, {"handle", h}, {"query", q}});
  if (!r) return r.error();
  return r->get<std::string>();
}

Result<Handle> SocketApi::create(ObjectKind kind, const std::string& id, const std::string& settings, Handle network) {
  json req = kindReq("create", kind);
  req["id"] = id;
  req["settings"] = settings;
  req["network"] = network;
  auto r = call(req);
  if (!r) return r.error();
  return r->get<Handle>();
}

Status SocketApi::modify(Handle h, const std::string& settings) {
  auto r = call(json{{"op", "modify"}, {"handle", h}, {"settings", settings}});
  if (!r) return r.error();
  return Ok{};
}

Status SocketApi::remove(ObjectKind kind, const std::string& id) {
  json req = kindReq("delete", kind);
  req["id"] = id;
  auto r = call(req);
  if (!r) return r.error();
  return Ok{};
}

void SocketApi::close(Handle h) { (void)call(json{{"op", "close"}, {"handle", h}}); }

Result<policy::HnsVersion> SocketApi::version() {
  auto r = call(json{{"op", "version"}});
  if (!r) return r.error();
  return policy::HnsVersion{(*r).value("Major", 0u), (*r).value("Minor", 0u)};
}

Result<std::vector<policy::HostAdapter>> SocketApi::hostAdapters() {
  auto r = call(json{{"op", "adapters"}});
  if (!r) return r.error();
  // The snapshot's reader checks each adapter's fields.
  auto s = snapshotFromJson(json{{"HostAdapters", *r}});
  if (!s) return s.error();
  return std::move(s->adapters);
}

#endif  // _WIN32

}  // namespace hnsproxy::hns

// A Kubernetes API client over HTTP/1.1 (Boost.Beast) with TLS (OpenSSL via Asio): server
// certificate verification on by default (CA from the kubeconfig, else the system store), client
// certificates reloaded when their files change, bearer tokens from a file re-read every minute
// and on 401 (rotation). Tokens are never logged. One request at a time per client object; stop()
// may be called from another thread and ends a request or watch stream promptly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "watch/kubeconfig.h"

namespace hnsproxy::watch {

struct HttpReply {
  int status = 0;
  std::string body;
  bool bodyTooLarge = false;  // the body passed get()'s maxBody: `body` is empty, the connection dropped
};

// One request as client-go's metrics count it (rest_client_requests_total,
// rest_client_request_duration_seconds): the HTTP method, the server URL's host[:port] as written,
// the status code (0 when no response arrived: client-go's "<error>"), and the time to the complete
// response — absent for a watch, whose duration client-go does not observe either.
struct RequestRecord {
  std::string_view method;
  std::string_view host;
  int code = 0;
  std::optional<double> seconds;
};
using RequestObserver = std::function<void(const RequestRecord&)>;

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> create(const ClientConfig& cfg, std::string userAgent);
  ~ApiClient();

  // GET with a deadline. TLS failures are errors that say so (never a silent fallback). A body
  // longer than `maxBody` is not read: the reply says bodyTooLarge.
  Result<HttpReply> get(const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                        std::uint64_t maxBody = kMaxResponseBytes);
  // The largest response body read by default: a list page of 500 of the largest EndpointSlices
  // (1,000 endpoints each) is about 60 MiB.
  static constexpr std::uint64_t kMaxResponseBytes = 128u << 20;

  // GET of a watch stream: `onLine` gets each complete line of the (chunked) body as it arrives,
  // however the server splits it; returning false ends the stream. Returns the HTTP status when
  // the stream ends (200 for a normal end), or an error. `idle` bounds the silence between chunks.
  Result<int> stream(const std::string& target, const std::function<bool(std::string_view)>& onLine,
                     std::chrono::milliseconds idle, std::string* errorBody = nullptr);

  void stop();
  bool stopped() const { return stop_; }
  // Called once per HTTP request sent (a retried request counts twice, as in client-go); set before
  // the client is used.
  void setRequestObserver(RequestObserver observer);

 private:
  struct Impl;
  explicit ApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
};

// URL-encodes a query parameter value.
std::string urlEncode(std::string_view s);

}  // namespace hnsproxy::watch

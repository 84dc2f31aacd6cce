// hnssim's server side: serves a SimulatedHns on a Unix-domain socket (sim_protocol.h), one
// request line at a time per connection; sockets on the caller's io_context thread, requests on a
// pool of 16 workers (connections are served concurrently, as HNS serves its clients).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>

#include "hns/sim/simulated_hns.h"

namespace hnsproxy::hns {

class SimServer {
 public:
  SimServer(boost::asio::io_context& io, SimulatedHns& sim, std::string socketPath,
            std::function<void()> onMutation = {});
  ~SimServer();
  // Binds the socket (mode 0600; a stale socket file is replaced) and starts accepting.
  Status start();
  void stop();

 private:
  void accept();
  boost::asio::io_context& io_;
  SimulatedHns& sim_;
  std::string path_;
  std::function<void()> onMutation_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  // An accept error (descriptors exhausted by a flood of clients) is retried after a pause: the
  // server never stops accepting while it runs.
  boost::asio::steady_timer retry_{io_};
  unsigned long long inode_ = 0, device_ = 0;  // the socket file this server bound
  // Where requests are handled (a sleeping --latency-us call blocks one worker, not the server).
  // Declared last: destroyed (joined) first, while everything a request uses still exists.
  boost::asio::thread_pool pool_{16};
};

}  // namespace hnsproxy::hns

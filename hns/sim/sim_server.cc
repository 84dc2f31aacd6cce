#include "hns/sim/sim_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include "hns/sim/sim_protocol.h"

namespace hnsproxy::hns {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket s, SimulatedHns& sim, std::function<void()>& onMutation, asio::thread_pool& pool)
      : socket_(std::move(s)), sim_(sim), onMutation_(onMutation), pool_(pool), buf_(kMaxLine) {}
  void read() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, '\n', [self](boost::system::error_code ec, std::size_t n) {
      if (ec) return;  // closed, or a line longer than kMaxLine: drop the connection
      std::string line(asio::buffers_begin(self->buf_.data()), asio::buffers_begin(self->buf_.data()) + static_cast<std::ptrdiff_t>(n));
      self->buf_.consume(n);
      // Handled on the worker pool, so that a call sleeping out its latency holds up only its own
      // connection (HNS serves its clients' calls concurrently); the socket stays on the io thread.
      asio::post(self->pool_, [self, line = std::move(line)] {
        bool mutated = false;
        std::string out = handleSimRequest(self->sim_, line, &mutated) + "\n";
        if (mutated && self->onMutation_) self->onMutation_();
        asio::post(self->socket_.get_executor(), [self, out = std::move(out)]() mutable {
          self->out_ = std::move(out);
          asio::async_write(self->socket_, asio::buffer(self->out_), [self](boost::system::error_code wec, std::size_t) {
            if (!wec) self->read();
          });
        });
      });
    });
  }

 private:
  static constexpr std::size_t kMaxLine = 64u << 20;
  local::socket socket_;
  SimulatedHns& sim_;
  std::function<void()>& onMutation_;
  asio::thread_pool& pool_;
  asio::streambuf buf_;
  std::string out_;
};

}  // namespace

SimServer::SimServer(asio::io_context& io, SimulatedHns& sim, std::string socketPath, std::function<void()> onMutation)
    : io_(io), sim_(sim), path_(std::move(socketPath)), onMutation_(std::move(onMutation)) {}

SimServer::~SimServer() { stop(); }

Status SimServer::start() {
  // The path may hold another hnssim's live socket (refuse: two servers would fight over state),
  // a stale socket of a dead one (replace it), or something else (never delete what is not ours).
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Error(ErrorCode::InvalidInput, "hnssim: " + path_ + " exists and is not a socket; not removed");
    boost::system::error_code probe;
    local::socket s(io_);
    s.connect(local::endpoint(path_), probe);
    if (!probe) return Error(ErrorCode::AlreadyExists, "hnssim: another hnssim is serving " + path_);
    ::unlink(path_.c_str());
  }
  boost::system::error_code ec;
  acceptor_ = std::make_unique<local::acceptor>(io_);
  acceptor_->open(local(), ec);
  if (!ec) acceptor_->bind(local::endpoint(path_), ec);
  if (ec) return Error(ErrorCode::InvalidInput, "hnssim: cannot bind " + path_ + ": " + ec.message());
  ::chmod(path_.c_str(), 0600);
  if (::lstat(path_.c_str(), &st) == 0) {
    inode_ = st.st_ino;
    device_ = st.st_dev;
  }
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(ErrorCode::InvalidInput, "hnssim: cannot listen on " + path_ + ": " + ec.message());
  accept();
  return Ok{};
}

void SimServer::stop() {
  if (acceptor_ && acceptor_->is_open()) {
    boost::system::error_code ec;
    acceptor_->close(ec);
    try {
      retry_.cancel();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing pending to cancel then
    }
    // Only the socket this server bound: another one may have replaced it at the same path.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_ && st.st_dev == device_)
      ::unlink(path_.c_str());
  }
}

void SimServer::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, local::socket s) {
    if (!acceptor_->is_open() || ec == asio::error::operation_aborted) return;  // stopped
    if (ec) {  // EMFILE, ENFILE, ENOBUFS, ECONNABORTED...: try again shortly
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code wec) {
        if (!wec && acceptor_->is_open()) accept();
      });
      return;
    }
    std::make_shared<Connection>(std::move(s), sim_, onMutation_, pool_)->read();
    accept();
  });
}

}  // namespace hnsproxy::hns

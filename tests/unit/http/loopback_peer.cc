#include "tests/unit/http/loopback_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace certbridge {
namespace testing {
namespace {

std::string Errno(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNever = Clock::time_point::max();

Clock::time_point DeadlineIn(absl::Duration d) {
  return Clock::now() + absl::ToChronoNanoseconds(d);
}

// Milliseconds for poll() until `deadline`, rounded up; -1 = forever.
int PollMillis(Clock::time_point deadline) {
  if (deadline == kNever) return -1;
  const auto now = Clock::now();
  if (deadline <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
  return static_cast<int>(std::min<std::int64_t>(ms.count(), 60'000));
}

sockaddr_in Loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// Binds a new TCP socket to 127.0.0.1:0; returns the fd (or -1 with
// `error`) and the port.
int BindLoopback(std::uint16_t* port, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = Errno("socket");
    return -1;
  }
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *error = Errno("bind/getsockname");
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string LoopbackUrl(std::uint16_t port, absl::string_view path) {
  return absl::StrCat("http://127.0.0.1:", port, path);
}

}  // namespace

// ---------------------------------------------------------------------------
// LoopbackPeer

LoopbackPeer::LoopbackPeer(Handler handler) : handler_(std::move(handler)) {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    error_ = Errno("eventfd");
    return;
  }
  listen_fd_ = BindLoopback(&port_, &error_);
  if (listen_fd_ < 0) return;
  if (listen(listen_fd_, 64) != 0) {
    error_ = Errno("listen");
    return;
  }
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

LoopbackPeer::~LoopbackPeer() {
  if (stop_fd_ >= 0) {
    // An eventfd stays readable until read; nobody reads it, so every
    // poll() that includes it returns from now on.
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(stop_fd_, &one, sizeof(one));
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  // The accept thread is gone, so no thread is added any more.
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connection_threads_);
  }
  for (std::thread& t : threads) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

std::string LoopbackPeer::Url(absl::string_view path) const {
  return LoopbackUrl(port_, path);
}

void LoopbackPeer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    const int index = accepted_++;
    connection_threads_.emplace_back([this, fd, index] { Serve(fd, index); });
    cv_.notify_all();
  }
}

void LoopbackPeer::Serve(int fd, int index) {
  {
    Connection connection(this, fd, index);
    handler_(connection);
  }  // closes the fd
  std::lock_guard<std::mutex> lock(mu_);
  ++finished_;
  cv_.notify_all();
}

void LoopbackPeer::Record(RecordedRequest request) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(std::move(request));
  cv_.notify_all();
}

int LoopbackPeer::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

int LoopbackPeer::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

std::vector<RecordedRequest> LoopbackPeer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

template <typename Pred>
bool LoopbackPeer::WaitFor(absl::Duration timeout, Pred pred) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), pred);
}

bool LoopbackPeer::WaitForAccepted(int n, absl::Duration timeout) const {
  return WaitFor(timeout, [&] { return accepted_ >= n; });
}

bool LoopbackPeer::WaitForRequests(int n, absl::Duration timeout) const {
  return WaitFor(timeout,
                 [&] { return static_cast<int>(requests_.size()) >= n; });
}

bool LoopbackPeer::WaitForFinished(int n, absl::Duration timeout) const {
  return WaitFor(timeout, [&] { return finished_ >= n; });
}

// ---------------------------------------------------------------------------
// LoopbackPeer::Connection

LoopbackPeer::Connection::~Connection() {
  if (fd_ >= 0) close(fd_);
}

bool LoopbackPeer::Connection::PollFd(short events,
                                      Clock::time_point deadline) {
  while (true) {
    pollfd fds[2] = {{fd_, events, 0}, {peer_->stop_fd_, POLLIN, 0}};
    const int n = poll(fds, 2, PollMillis(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents != 0) return false;  // the peer is being destroyed
    if (fds[0].revents != 0) return true;   // ready, or an error to read
    if (Clock::now() >= deadline) return false;
  }
}

bool LoopbackPeer::Connection::Fill() {
  if (fd_ < 0) return false;
  char buf[16 * 1024];
  while (true) {
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (!PollFd(POLLIN, kNever)) return false;
  }
}

std::optional<RecordedRequest> LoopbackPeer::Connection::ReadRequest() {
  std::size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill()) return std::nullopt;
  }
  RecordedRequest request;
  request.connection = index_;
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(in_).substr(0, end), "\r\n");
  std::vector<absl::string_view> first =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (first.size() != 3) return std::nullopt;
  request.method = std::string(first[0]);
  request.target = std::string(first[1]);
  std::size_t content_length = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (name == "content-length" && !absl::SimpleAtoi(value, &content_length)) {
      return std::nullopt;
    }
    if (name == "transfer-encoding") return std::nullopt;  // not needed here
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  in_.erase(0, end + 4);
  while (in_.size() < content_length) {
    if (!Fill()) return std::nullopt;
  }
  request.body = in_.substr(0, content_length);
  in_.erase(0, content_length);
  peer_->Record(request);
  return request;
}

bool LoopbackPeer::Connection::Write(absl::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      bytes_written_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!PollFd(POLLOUT, kNever)) return false;
      continue;
    }
    return false;  // EPIPE, ECONNRESET, ...
  }
  return true;
}

bool LoopbackPeer::Connection::WaitForClientClose(absl::Duration timeout) {
  if (fd_ < 0) return false;
  const Clock::time_point deadline = DeadlineIn(timeout);
  char buf[16 * 1024];
  while (true) {
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset
    if (!PollFd(POLLIN, deadline)) return false;
  }
}

bool LoopbackPeer::Connection::Pause(absl::Duration d) {
  pollfd fds[1] = {{peer_->stop_fd_, POLLIN, 0}};
  const Clock::time_point deadline = DeadlineIn(d);
  while (true) {
    const int n = poll(fds, 1, PollMillis(deadline));
    if (n > 0) return false;
    if (n < 0 && errno != EINTR) return false;
    if (Clock::now() >= deadline) return true;
  }
}

void LoopbackPeer::Connection::Close() {
  if (fd_ < 0) return;
  shutdown(fd_, SHUT_WR);
  close(fd_);
  fd_ = -1;
}

void LoopbackPeer::Connection::Reset() {
  if (fd_ < 0) return;
  linger lin{};
  lin.l_onoff = 1;
  lin.l_linger = 0;
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  close(fd_);
  fd_ = -1;
}

// ---------------------------------------------------------------------------
// UnacceptingListener

UnacceptingListener::UnacceptingListener() {
  listen_fd_ = BindLoopback(&port_, &error_);
  if (listen_fd_ < 0) return;
  // Linux queues backlog + 1 established connections; two fillers on a
  // backlog of 1 fill it. (A backlog of 0 would rely on SYN cookies.)
  if (listen(listen_fd_, 1) != 0) {
    error_ = Errno("listen");
    return;
  }
  const Clock::time_point deadline = DeadlineIn(absl::Seconds(30));
  for (std::uint32_t queued = 1; queued <= 2; ++queued) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error_ = Errno("socket");
      return;
    }
    fillers_.push_back(fd);
    const sockaddr_in addr = Loopback(port_);
    // Blocking connect: the queue has room, so it completes at once.
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
        0) {
      error_ = Errno("connect filler");
      return;
    }
    // The connect returns when the client side is established; the listener
    // counts the connection once it has processed the final ACK. For a
    // listener, TCP_INFO reports the queue length in tcpi_unacked.
    while (true) {
      tcp_info info{};
      socklen_t len = sizeof(info);
      if (getsockopt(listen_fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
        error_ = Errno("TCP_INFO");
        return;
      }
      if (info.tcpi_unacked >= queued) break;
      if (Clock::now() > deadline) {
        error_ = "the accept queue did not fill";
        return;
      }
      std::this_thread::yield();
    }
  }
}

UnacceptingListener::~UnacceptingListener() {
  for (int fd : fillers_) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
}

std::string UnacceptingListener::Url(absl::string_view path) const {
  return LoopbackUrl(port_, path);
}

}  // namespace testing
}  // namespace certbridge

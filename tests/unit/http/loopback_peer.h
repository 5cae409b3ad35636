// A scripted HTTP/1.1 peer on a loopback socket, for testing CurlTransport's
// own behaviour (timeouts, resets, connection reuse) without the emulator.
// The listener binds 127.0.0.1 port 0; an accept thread hands each
// connection to its own thread running the test's handler, so a handler may
// block on one keep-alive connection while the client opens another. Every
// blocking call also wakes when the peer is destroyed, and the destructor
// joins all threads and closes all descriptors.
#ifndef CERTBRIDGE_TESTS_UNIT_HTTP_LOOPBACK_PEER_H_
#define CERTBRIDGE_TESTS_UNIT_HTTP_LOOPBACK_PEER_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {
namespace testing {

/// One request as the peer parsed it.
struct RecordedRequest {
  int connection = 0;  // index of the accepted connection, from 0
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case
  std::string body;
};

class LoopbackPeer {
 public:
  class Connection;
  /// Runs on a thread of its own for every accepted connection; the
  /// connection is closed when it returns. It must not block on anything
  /// but the Connection's calls (they give up when the peer is destroyed).
  using Handler = std::function<void(Connection&)>;

  explicit LoopbackPeer(Handler handler);
  ~LoopbackPeer();

  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  /// False (with error()) when the socket or thread could not be set up.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:<port>" + path.
  std::string Url(absl::string_view path = "/") const;

  int accepted() const;
  /// Handlers that have returned.
  int finished() const;
  std::vector<RecordedRequest> requests() const;

  bool WaitForAccepted(int n, absl::Duration timeout) const;
  bool WaitForRequests(int n, absl::Duration timeout) const;
  bool WaitForFinished(int n, absl::Duration timeout) const;

 private:
  void AcceptLoop();
  void Serve(int fd, int index);
  void Record(RecordedRequest request);
  template <typename Pred>
  bool WaitFor(absl::Duration timeout, Pred pred) const;

  Handler handler_;
  std::string error_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd; readable once the destructor runs
  std::uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::thread> connection_threads_;  // guarded by mu_
  int accepted_ = 0;                             // guarded by mu_
  int finished_ = 0;                             // guarded by mu_
  std::vector<RecordedRequest> requests_;        // guarded by mu_
};

/// The peer's side of one accepted connection. Every call returns false /
/// nullopt once the client is gone or the peer is being destroyed.
class LoopbackPeer::Connection {
 public:
  int index() const { return index_; }

  /// Reads one request (headers and a Content-Length body) and records it
  /// with the peer. nullopt on end of stream, error or shutdown.
  std::optional<RecordedRequest> ReadRequest();

  /// Writes all of `bytes`; false as soon as a send fails.
  bool Write(absl::string_view bytes);
  std::size_t bytes_written() const { return bytes_written_; }

  /// Discards input until the client closes or resets the connection: true
  /// then; false on timeout or shutdown.
  bool WaitForClientClose(absl::Duration timeout);

  /// Waits `d` (to pace a slow response, never to synchronise); false if
  /// the peer is being destroyed meanwhile.
  bool Pause(absl::Duration d);

  /// Orderly close (FIN).
  void Close();
  /// Abortive close: SO_LINGER 0 makes the kernel send RST.
  void Reset();

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

 private:
  friend class LoopbackPeer;
  Connection(LoopbackPeer* peer, int fd, int index)
      : peer_(peer), fd_(fd), index_(index) {}

  // Waits until fd_ has `events` or the deadline passes; false on shutdown
  // or timeout.
  bool PollFd(short events, std::chrono::steady_clock::time_point deadline);
  // Appends what is readable to in_; false on EOF, error or shutdown.
  bool Fill();

  LoopbackPeer* peer_;
  int fd_;
  int index_;
  std::string in_;
  std::size_t bytes_written_ = 0;
};

/// A listening socket whose accept queue is full and never drained: the
/// kernel drops further SYNs, so a connect to it neither succeeds nor is
/// refused until the client gives up.
class UnacceptingListener {
 public:
  UnacceptingListener();
  ~UnacceptingListener();
  UnacceptingListener(const UnacceptingListener&) = delete;
  UnacceptingListener& operator=(const UnacceptingListener&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string Url(absl::string_view path = "/") const;

 private:
  std::string error_;
  int listen_fd_ = -1;
  std::vector<int> fillers_;
  std::uint16_t port_ = 0;
};

}  // namespace testing
}  // namespace certbridge

#endif  // CERTBRIDGE_TESTS_UNIT_HTTP_LOOPBACK_PEER_H_

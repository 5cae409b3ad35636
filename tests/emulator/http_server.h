// A small HTTP/1.1 server for the REST emulator: one blocking thread per
// connection, keep-alive, Content-Length and chunked request bodies,
// `Expect: 100-continue`, optional TLS (HTTPS), and a clean Stop() that
// closes every socket and joins every thread. It knows nothing about vendors
// or faults: a handler gets each request plus a way to wait while watching
// the client's socket.
#ifndef CERTBRIDGE_TESTS_EMULATOR_HTTP_SERVER_H_
#define CERTBRIDGE_TESTS_EMULATOR_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// OpenSSL's SSL_CTX, declared here so that includers need no OpenSSL headers.
struct ssl_ctx_st;

namespace certbridge::emulator {

struct HttpRequest {
  std::string method;
  /// Path and query exactly as received ("/a/b?x=1").
  std::string target;
  /// `target` without the query.
  std::string path;
  std::string query;
  std::string version;  // "HTTP/1.1"
  /// Names lower-cased; repeated headers joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;

  /// The header's value, or "" when absent. `name` must be lower case.
  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  /// Extra headers. Content-Length and Connection are added by the server;
  /// Content-Type defaults to application/json when the body is not empty.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Close the connection without replying (an RST, as a crashed peer).
  bool drop = false;
  /// Reply, then close the connection.
  bool close = false;
};

/// Why ConnectionControl::Wait returned.
enum class WaitResult { kElapsed, kClientClosed, kServerStopping };

/// Handed to the handler for the connection the request arrived on.
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  /// Sleeps for `duration` unless the client closes its side of the
  /// connection or the server stops first.
  virtual WaitResult Wait(absl::Duration duration) = 0;
};

using HttpHandler =
    std::function<HttpResponse(const HttpRequest&, ConnectionControl&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  /// 0 picks a free port; read it back with HttpServer::port().
  int port = 0;
  /// Larger request bodies get 413 before the handler runs.
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  /// Larger request heads get 431.
  std::size_t max_header_bytes = 64 * 1024;
  /// PEM files. When both are set every connection starts with a TLS
  /// handshake (TLS 1.2+, no client certificate asked for) and speaks
  /// HTTP/1.1 inside it; the certificate file may hold the chain after the
  /// leaf. Setting only one is an error.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  /// Binds and listens, then accepts on a background thread. `handler` is
  /// called concurrently from the connection threads.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      HttpServerOptions options, HttpHandler handler);

  /// Stop()s.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Closes the listener and every connection and joins all threads. A
  /// handler in ConnectionControl::Wait returns kServerStopping. Idempotent.
  void Stop();

  int port() const { return port_; }
  bool tls() const { return ssl_ctx_ != nullptr; }
  /// TLS connections that ended before the handshake completed (the client
  /// refused our certificate, spoke plain HTTP, or connected and closed),
  /// except those cut short by Stop().
  int handshake_failures() const { return handshake_failures_.load(); }

  /// The reason phrase for `status` ("OK", "Not Found", ...).
  static absl::string_view ReasonPhrase(int status);

 private:
  class Connection;

  HttpServer(HttpServerOptions options, HttpHandler handler);
  /// Builds ssl_ctx_ from the options' TLS files, if any.
  absl::Status LoadTls();
  void AcceptLoop();
  void ServeConnection(std::uint64_t id, int fd);
  /// Handshake and HTTP over TLS on `fd`; the caller closes it.
  void ServeTls(int fd);
  void ReapFinished();

  const HttpServerOptions options_;
  const HttpHandler handler_;
  int listen_fd_ = -1;
  /// An eventfd that becomes readable (and stays so) when Stop() begins.
  int stop_fd_ = -1;
  int port_ = 0;
  /// The SSL_CTX when serving HTTPS (owned; freed by the destructor).
  ssl_ctx_st* ssl_ctx_ = nullptr;
  std::atomic<int> handshake_failures_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  std::mutex stop_mu_;  // serializes Stop()
  bool stopped_ = false;

  std::mutex mu_;  // guards the members below
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, int> open_fds_;
  std::map<std::uint64_t, std::thread> threads_;
  std::vector<std::uint64_t> finished_;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_HTTP_SERVER_H_

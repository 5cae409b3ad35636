// HttpTransport on libcurl's multi-socket interface, driven by epoll on one
// dedicated thread. One thread owns every libcurl handle (libcurl handles are
// not thread-safe); other threads only enqueue commands and wake it through
// an eventfd. Completions run on this thread, which also finishes the RPCs,
// so a call costs two thread hand-offs at most (performance.md).
#ifndef CERTBRIDGE_SERVER_HTTP_CURL_TRANSPORT_H_
#define CERTBRIDGE_SERVER_HTTP_CURL_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/http/http_transport.h"

namespace certbridge {

struct CurlTransportOptions {
  /// Concurrent connections per backend host; extra transfers queue inside
  /// libcurl instead of opening more sockets.
  long max_host_connections = 64;
  long max_total_connections = 256;
  /// Idle keep-alive connections kept for reuse.
  long max_idle_connections = 256;
  /// Larger responses fail with kResponseTooLarge (protects memory).
  std::size_t max_response_bytes = std::size_t{16} * 1024 * 1024;
  std::string user_agent = "certbridge/0.1";
  /// Directory of hashed CA certificates used when a request names no
  /// ca_file; empty = libcurl's built-in default (the system store). Tests
  /// point it at a private store.
  std::string system_ca_path;
};

class CurlTransport final : public HttpTransport {
 public:
  /// Starts the engine thread. curl_global_init must have run already.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(
      CurlTransportOptions options = {});

  /// Stops the thread; pending transfers and timers complete as cancelled.
  ~CurlTransport() override;

  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Id Send(HttpRequest request, ResponseCallback done) override;
  Id Schedule(absl::Duration delay, TimerCallback done) override;
  void Cancel(Id id) override;

  class Impl;

 private:
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_HTTP_CURL_TRANSPORT_H_

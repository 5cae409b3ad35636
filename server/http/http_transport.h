// The seam between backend logic and the network: an asynchronous HTTP
// exchange plus timers on the same event loop. CurlTransport implements it
// with libcurl's multi interface; tests use a scripted fake.
#ifndef CERTBRIDGE_SERVER_HTTP_HTTP_TRANSPORT_H_
#define CERTBRIDGE_SERVER_HTTP_HTTP_TRANSPORT_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/http/http_message.h"

namespace certbridge {

class HttpTransport {
 public:
  /// Identifies a transfer or timer; ids increase monotonically and are never
  /// reused, so cancelling a finished one is a harmless no-op.
  using Id = std::uint64_t;
  using ResponseCallback = absl::AnyInvocable<void(HttpResult)>;
  /// OK when the delay elapsed; CANCELLED when Cancel() ended it early.
  using TimerCallback = absl::AnyInvocable<void(absl::Status)>;

  virtual ~HttpTransport() = default;

  /// Starts `request`. `done` runs exactly once, on the transport's thread
  /// (never inside Send, unless the transport has already stopped: then at
  /// once, cancelled), with the response or a TransportError (kCancelled
  /// after Cancel()). Thread-safe.
  virtual Id Send(HttpRequest request, ResponseCallback done) = 0;

  /// Runs `done` on the transport's thread after `delay`. Thread-safe.
  virtual Id Schedule(absl::Duration delay, TimerCallback done) = 0;

  /// Ends a transfer or timer early if it is still pending: its callback
  /// runs promptly with kCancelled / CANCELLED. Thread-safe.
  virtual void Cancel(Id id) = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_HTTP_HTTP_TRANSPORT_H_

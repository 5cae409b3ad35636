// Per-RPC state shared by every layer below the service: the caller's
// deadline and request id, and cancellation. Whatever the call is waiting on
// (an HTTP transfer or a backoff timer) is registered here, so a cancelled
// RPC aborts it from any thread.
#ifndef CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_
#define CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_

#include <atomic>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/http/http_transport.h"

namespace certbridge {

class CallContext {
 public:
  CallContext(absl::Time deadline, std::string request_id)
      : deadline_(deadline), request_id_(std::move(request_id)) {}

  absl::Time deadline() const { return deadline_; }
  bool DeadlinePassed(absl::Time now) const { return now >= deadline_; }
  /// Sent to the backend as X-Request-ID and logged.
  const std::string& request_id() const { return request_id_; }

  /// `per_attempt` bounded by the time left before the deadline (at least
  /// 1 ms, so an expired call still fails through the transport promptly).
  absl::Duration AttemptTimeout(absl::Duration per_attempt,
                                absl::Time now) const;

  /// Sends through `transport`; Cancel() aborts the transfer.
  void Send(HttpTransport& transport, HttpRequest request,
            HttpTransport::ResponseCallback done);

  /// Waits on `transport`'s timer; Cancel() ends the wait with CANCELLED.
  void Sleep(HttpTransport& transport, absl::Duration delay,
             HttpTransport::TimerCallback done);

  /// Aborts the current wait and every later one. Thread-safe, idempotent.
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

  /// HTTP attempts made so far (the retry loop counts them).
  int attempts() const { return attempts_.load(); }
  void AddAttempt() { attempts_.fetch_add(1); }

 private:
  void Track(HttpTransport& transport, HttpTransport::Id id);

  const absl::Time deadline_;
  const std::string request_id_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> attempts_{0};
  absl::Mutex mu_;
  HttpTransport* transport_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Ids grow monotonically; keeping the largest means a late registration of
  // an older, finished transfer never hides the current one.
  HttpTransport::Id current_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_

// Per-RPC state shared by every layer below the service: the caller's
// deadline, request id and trace context, the secrets the call carries, and
// cancellation.
// Whatever the call is waiting on (an HTTP transfer, a backoff timer, a
// token being fetched, the first call of a request_id) registers how to
// abandon it, so a cancelled RPC stops waiting at once, from any thread.
#ifndef CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_
#define CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/trace_context.h"
#include "server/http/http_transport.h"

namespace certbridge {

class CallContext {
 public:
  /// Without a `trace` (calls certbridge starts itself) the call is the
  /// root of a trace of its own.
  CallContext(absl::Time deadline, std::string request_id,
              TraceContext trace = TraceContext::Generate())
      : deadline_(deadline),
        request_id_(std::move(request_id)),
        trace_(std::move(trace)) {}

  absl::Time deadline() const { return deadline_; }
  bool DeadlinePassed(absl::Time now) const { return now >= deadline_; }
  /// Sent to the backend as X-Request-ID and logged.
  const std::string& request_id() const { return request_id_; }
  /// Each backend attempt is sent as a child of it (traceparent); its
  /// trace id is logged.
  const TraceContext& trace() const { return trace_; }

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

  /// For waits other than transfers and timers. Take a ticket *before*
  /// starting the wait, then register how to abandon it; a registration
  /// older than the current one is ignored (the wait it belongs to already
  /// ended and the call moved on), and one made after Cancel() runs at
  /// once. The canceller must be harmless when the wait is already over.
  using Ticket = std::uint64_t;
  Ticket NextTicket() { return next_ticket_.fetch_add(1) + 1; }
  void OnCancel(Ticket ticket, absl::AnyInvocable<void()> cancel);

  /// Aborts the current wait and every later one. Thread-safe, idempotent.
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

  /// HTTP attempts made so far (the retry loop counts them).
  int attempts() const { return attempts_.load(); }
  void AddAttempt() { attempts_.fetch_add(1); }

  /// Whether an attempt of this call (or an earlier call with the same
  /// request_id) may have been applied by the backend although no answer
  /// said so: the retry layer sets it, the request_id layer reads it and
  /// seeds it from a previous call.
  bool outcome_unknown() const { return outcome_unknown_.load(); }
  void MarkOutcomeUnknown() { outcome_unknown_.store(true); }

  /// Secrets this call carries or uses (passkeys, the tokens attached to
  /// its requests): redacted from everything the call reports.
  void AddSecret(std::string secret);
  std::vector<std::string> secrets() const;

 private:
  const absl::Time deadline_;
  const std::string request_id_;
  const TraceContext trace_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> attempts_{0};
  std::atomic<bool> outcome_unknown_{false};
  std::atomic<Ticket> next_ticket_{0};
  mutable absl::Mutex mu_;
  Ticket current_ ABSL_GUARDED_BY(mu_) = 0;
  absl::AnyInvocable<void()> canceller_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> secrets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_CALL_CONTEXT_H_

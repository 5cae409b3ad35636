#include "server/backends/call_context.h"

#include <algorithm>
#include <utility>

namespace certbridge {

absl::Duration CallContext::AttemptTimeout(absl::Duration per_attempt,
                                           absl::Time now) const {
  return std::max(std::min(per_attempt, deadline_ - now),
                  absl::Milliseconds(1));
}

void CallContext::Send(HttpTransport& transport, HttpRequest request,
                       HttpTransport::ResponseCallback done) {
  const Ticket ticket = NextTicket();
  const HttpTransport::Id id =
      transport.Send(std::move(request), std::move(done));
  OnCancel(ticket, [&transport, id] { transport.Cancel(id); });
}

void CallContext::Sleep(HttpTransport& transport, absl::Duration delay,
                        HttpTransport::TimerCallback done) {
  const Ticket ticket = NextTicket();
  const HttpTransport::Id id = transport.Schedule(delay, std::move(done));
  OnCancel(ticket, [&transport, id] { transport.Cancel(id); });
}

void CallContext::OnCancel(Ticket ticket, absl::AnyInvocable<void()> cancel) {
  {
    absl::MutexLock lock(&mu_);
    // The wait may have ended and the call moved on to a newer one before
    // this registration ran (it runs after the wait started, possibly on
    // another thread than the completion).
    if (ticket < current_) return;
    current_ = ticket;
    if (!cancelled_.load()) {
      canceller_ = std::move(cancel);
      return;
    }
  }
  // Cancel() ran before this wait existed.
  cancel();
}

void CallContext::Cancel() {
  absl::AnyInvocable<void()> cancel;
  {
    absl::MutexLock lock(&mu_);
    cancelled_.store(true);
    cancel = std::move(canceller_);
    canceller_ = nullptr;
  }
  if (cancel) cancel();
}

void CallContext::AddSecret(std::string secret) {
  if (secret.empty()) return;
  absl::MutexLock lock(&mu_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) {
    secrets_.push_back(std::move(secret));
  }
}

std::vector<std::string> CallContext::secrets() const {
  absl::MutexLock lock(&mu_);
  return secrets_;
}

}  // namespace certbridge

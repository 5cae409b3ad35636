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
  Track(transport, transport.Send(std::move(request), std::move(done)));
}

void CallContext::Sleep(HttpTransport& transport, absl::Duration delay,
                        HttpTransport::TimerCallback done) {
  Track(transport, transport.Schedule(delay, std::move(done)));
}

void CallContext::Track(HttpTransport& transport, HttpTransport::Id id) {
  bool cancel_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (id > current_) {
      current_ = id;
      transport_ = &transport;
    }
    cancel_now = cancelled_.load();
  }
  // Cancel() may have run before this wait existed.
  if (cancel_now) transport.Cancel(id);
}

void CallContext::Cancel() {
  HttpTransport* transport = nullptr;
  HttpTransport::Id id = 0;
  {
    absl::MutexLock lock(&mu_);
    cancelled_.store(true);
    transport = transport_;
    id = current_;
  }
  if (transport != nullptr) transport->Cancel(id);
}

}  // namespace certbridge

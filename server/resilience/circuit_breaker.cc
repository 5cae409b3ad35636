#include "server/resilience/circuit_breaker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {

CircuitBreaker::CircuitBreaker(std::string backend, CircuitBreakerConfig config,
                               const Clock& clock)
    : backend_(std::move(backend)), config_(config), clock_(clock) {}

const char* CircuitBreaker::StateName(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

CircuitBreaker::State CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  // An open period that has ended is half-open already, even if no call
  // has come to find out (an idle service must not look broken).
  if (state_ == State::kOpen && clock_.Now() >= open_until_) {
    return State::kHalfOpen;
  }
  return state_;
}

void CircuitBreaker::OpenLocked(absl::Time now) {
  state_ = State::kOpen;
  open_until_ = now + config_.open_duration;
  consecutive_failures_ = 0;
  window_.clear();
  window_failures_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

absl::Status CircuitBreaker::Allow() {
  if (!config_.enabled) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  if (state_ == State::kOpen && now >= open_until_) {
    state_ = State::kHalfOpen;
    probes_in_flight_ = 0;
    probe_successes_ = 0;
  }
  if (state_ == State::kClosed) return absl::OkStatus();
  if (state_ == State::kHalfOpen &&
      probes_in_flight_ + probe_successes_ < config_.half_open_probes) {
    ++probes_in_flight_;
    return absl::OkStatus();
  }
  // Open, or half-open with every probe slot taken: come back when the
  // open period ends (probes decide within about one attempt's time).
  const absl::Duration left =
      std::max(open_until_ - now, absl::Milliseconds(100));
  absl::Status status =
      MakeError(absl::StatusCode::kUnavailable,
                absl::StrCat("backend ", backend_,
                             ": circuit breaker open after repeated failures"),
                reason::kBackendCircuitOpen, {{metadata::kBackend, backend_}});
  SetRetryDelay(status, left);
  return status;
}

void CircuitBreaker::Record(Outcome outcome) {
  if (!config_.enabled) return;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  switch (state_) {
    case State::kOpen:
      return;  // a straggler from before the breaker opened
    case State::kHalfOpen:
      probes_in_flight_ = std::max(0, probes_in_flight_ - 1);
      if (outcome == Outcome::kFailure) {
        OpenLocked(now);
      } else if (outcome == Outcome::kSuccess &&
                 ++probe_successes_ >= config_.half_open_probes) {
        state_ = State::kClosed;
        consecutive_failures_ = 0;
        window_.clear();
        window_failures_ = 0;
      }
      return;
    case State::kClosed:
      break;
  }
  if (outcome == Outcome::kNeutral) return;
  const bool failed = outcome == Outcome::kFailure;
  consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
  window_.push_back(failed);
  window_failures_ += failed ? 1 : 0;
  while (static_cast<int>(window_.size()) > config_.window) {
    window_failures_ -= window_.front() ? 1 : 0;
    window_.pop_front();
  }
  const bool rate_tripped =
      static_cast<int>(window_.size()) >= config_.window &&
      window_failures_ >= config_.failure_rate * config_.window;
  if (consecutive_failures_ >= config_.consecutive_failures || rate_tripped) {
    OpenLocked(now);
  }
}

}  // namespace certbridge

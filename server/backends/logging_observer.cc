#include "server/backends/logging_observer.h"

#include <utility>

#include "server/common/log.h"

namespace certbridge {

LoggingObserver::LoggingObserver(std::string backend,
                                 std::shared_ptr<BackendObserver> next)
    : backend_(std::move(backend)), next_(OrNoop(std::move(next))) {}

void LoggingObserver::OnRetry(const RetryEvent& event) {
  next_->OnRetry(event);
  if (!Logger::Get().Enabled(LogLevel::kDebug)) return;
  LogDebug("retry scheduled",
           {{"backend", backend_},
            {"operation", std::string(OperationName(event.operation))},
            {"reason", std::string(event.reason)},
            {"delay_us", absl::ToInt64Microseconds(event.delay)},
            {"attempts", event.attempts},
            {"request_id", std::string(event.request_id)},
            {"trace_id", std::string(event.trace_id)}});
}

void LoggingObserver::OnCircuitState(int state) {
  next_->OnCircuitState(state);
  const int previous = circuit_state_.exchange(state);
  // The first report is the initial state, not a transition.
  if (previous == state || previous == -1) return;
  const nlohmann::json fields = {{"backend", backend_},
                                 {"state", state == 2   ? "open"
                                           : state == 1 ? "half_open"
                                                        : "closed"}};
  if (state == 2) {
    LogWarning("circuit breaker opened: failing calls fast", fields);
  } else {
    LogInfo(state == 0 ? "circuit breaker closed"
                       : "circuit breaker half-open: letting a probe through",
            fields);
  }
}

void LoggingObserver::OnTokenRefresh(const absl::Status& result) {
  next_->OnTokenRefresh(result);
  const bool failing = !result.ok();
  if (token_failing_.exchange(failing) == failing) return;
  if (failing) {
    LogWarning(
        "token endpoint failing",
        {{"backend", backend_}, {"error", std::string(result.message())}});
  } else {
    LogInfo("token endpoint recovered", {{"backend", backend_}});
  }
}

}  // namespace certbridge

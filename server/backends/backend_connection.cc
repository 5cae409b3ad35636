#include "server/backends/backend_connection.h"

#include <utility>

#include "server/backends/idempotent_create_stub.h"

namespace certbridge {
BackendConnection::BackendConnection(const BackendConfig& config,
                                     const Vendor& vendor,
                                     std::unique_ptr<BackendStub> stub,
                                     HttpTransport& transport,
                                     IdempotencyStore* idempotency,
                                     std::shared_ptr<BackendObserver> observer,
                                     const Clock& clock, RandomSource random)
    : name_(config.name), vendor_(vendor) {
  observer = BackendObserver::OrNoop(std::move(observer));
  auto breaker = std::make_unique<BreakerStub>(
      std::move(stub),
      config.circuit_breaker.enabled
          ? std::make_unique<CircuitBreaker>(config.name,
                                             config.circuit_breaker, clock)
          : nullptr,
      observer);
  breaker_stub_ = breaker.get();
  auto retrying = std::make_unique<RetryingStub>(
      config.name, std::move(breaker),
      std::make_unique<LimitedAttemptsRetryPolicy>(config.retry.max_attempts),
      std::make_unique<ExponentialBackoffPolicy>(config.retry,
                                                 std::move(random)),
      config.retry_budget, transport, observer);
  retrying_stub_ = retrying.get();
  auto limiting = std::make_unique<LimitingStub>(
      config.name, config.max_concurrent_calls, std::move(retrying), observer);
  limiting_stub_ = limiting.get();
  top_ = std::move(limiting);
  if (idempotency != nullptr) {
    top_ =
        std::make_unique<IdempotentCreateStub>(std::move(top_), *idempotency);
  }
}

BackendConnection::BackendConnection(std::string name, const Vendor& vendor,
                                     std::unique_ptr<BackendStub> stub)
    : name_(std::move(name)), vendor_(vendor), top_(std::move(stub)) {}

BackendConnection::~BackendConnection() = default;

const CircuitBreaker* BackendConnection::breaker() const {
  return breaker_stub_ == nullptr ? nullptr : breaker_stub_->breaker();
}

const RetryBudget* BackendConnection::retry_budget() const {
  return retrying_stub_ == nullptr ? nullptr : &retrying_stub_->budget();
}

const ConcurrencyLimiter* BackendConnection::limiter() const {
  return limiting_stub_ == nullptr ? nullptr : &limiting_stub_->limiter();
}

void BackendConnection::ReportCircuitState() {
  if (breaker_stub_ != nullptr) breaker_stub_->ReportState();
}

}  // namespace certbridge

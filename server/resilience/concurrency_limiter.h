// Bounds the calls in flight to one backend: past the limit a call fails at
// once (RESOURCE_EXHAUSTED) instead of queueing without bound behind a slow
// backend.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_CONCURRENCY_LIMITER_H_
#define CERTBRIDGE_SERVER_RESILIENCE_CONCURRENCY_LIMITER_H_

#include <atomic>

namespace certbridge {

class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(int limit) : limit_(limit) {}

  /// True if the call may proceed; it must then call Release() once.
  bool TryAcquire() {
    int current = in_flight_.load();
    while (current < limit_) {
      if (in_flight_.compare_exchange_weak(current, current + 1)) return true;
    }
    return false;
  }
  void Release() { in_flight_.fetch_sub(1); }
  int in_flight() const { return in_flight_.load(); }
  int limit() const { return limit_; }

 private:
  const int limit_;
  std::atomic<int> in_flight_{0};
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_CONCURRENCY_LIMITER_H_

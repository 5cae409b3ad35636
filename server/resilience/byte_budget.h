// A size-weighted semaphore: bytes held by requests in flight. Each call
// reserves what it will keep in memory until it finishes (the request and
// the body built from it); past the budget a call is refused at once, so a
// burst of 5 MiB uploads against a stalled backend cannot grow the process
// past what the pod is sized for.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_BYTE_BUDGET_H_
#define CERTBRIDGE_SERVER_RESILIENCE_BYTE_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace certbridge {

class ByteBudget {
 public:
  explicit ByteBudget(std::int64_t limit) : limit_(limit) {}

  /// Reserves `bytes`; false (nothing reserved) when that would pass the
  /// limit. Every successful call is matched by one Release(bytes).
  bool TryAcquire(std::int64_t bytes) {
    std::int64_t used = used_.load();
    while (used + bytes <= limit_) {
      if (used_.compare_exchange_weak(used, used + bytes)) {
        std::int64_t peak = peak_.load();
        while (used + bytes > peak &&
               !peak_.compare_exchange_weak(peak, used + bytes)) {
        }
        return true;
      }
    }
    return false;
  }
  void Release(std::int64_t bytes) { used_.fetch_sub(bytes); }

  std::int64_t used() const { return used_.load(); }
  std::int64_t limit() const { return limit_; }
  /// The most held since the last call (starts over from what is held now).
  std::int64_t TakePeak() { return peak_.exchange(used_.load()); }

 private:
  const std::int64_t limit_;
  std::atomic<std::int64_t> used_{0};
  std::atomic<std::int64_t> peak_{0};
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_BYTE_BUDGET_H_

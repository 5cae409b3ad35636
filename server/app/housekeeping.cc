#include "server/app/housekeeping.h"

#include <malloc.h>

#include <utility>

namespace certbridge {

Housekeeping::Housekeeping(absl::Duration period,
                           std::vector<std::function<void()>> tasks)
    : period_(period), tasks_(std::move(tasks)), thread_([this] { Run(); }) {}

Housekeeping::~Housekeeping() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Housekeeping::Run() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_)) {
    mu_.Unlock();
    for (const auto& task : tasks_) task();
    mu_.Lock();
  }
}

bool TrimIfWorthIt(ByteBudget& budget) {
  // Below this much freed since the peak, a heap walk is not worth it.
  constexpr std::int64_t kWorthTrimming = std::int64_t{32} << 20;
  const std::int64_t peak = budget.TakePeak();
  if (peak - budget.used() < kWorthTrimming) return false;
  malloc_trim(0);
  return true;
}

}  // namespace certbridge

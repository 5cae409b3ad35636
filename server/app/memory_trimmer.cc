#include "server/app/memory_trimmer.h"

#include <malloc.h>

namespace certbridge {
namespace {
// Below this much freed since the peak, trimming is not worth a heap walk.
constexpr std::int64_t kWorthTrimming = std::int64_t{32} << 20;
}  // namespace

MemoryTrimmer::MemoryTrimmer(ByteBudget& budget, absl::Duration period)
    : budget_(budget), period_(period), thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int MemoryTrimmer::trims() const {
  absl::MutexLock lock(&mu_);
  return trims_;
}

void MemoryTrimmer::Run() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_)) {
    const std::int64_t peak = budget_.TakePeak();
    if (peak - budget_.used() < kWorthTrimming) continue;
    mu_.Unlock();
    malloc_trim(0);
    mu_.Lock();
    ++trims_;
  }
}

}  // namespace certbridge

// Time as a dependency, so breaker and store policies are tested with a
// fake clock instead of sleeping.
#ifndef CERTBRIDGE_SERVER_RESILIENCE_CLOCK_H_
#define CERTBRIDGE_SERVER_RESILIENCE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace certbridge {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static const Clock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_RESILIENCE_CLOCK_H_

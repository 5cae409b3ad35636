#ifndef CERTBRIDGE_TESTS_UNIT_RESILIENCE_FAKE_CLOCK_H_
#define CERTBRIDGE_TESTS_UNIT_RESILIENCE_FAKE_CLOCK_H_

#include "server/resilience/clock.h"

namespace certbridge::testing {

class FakeClock final : public Clock {
 public:
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_UNIT_RESILIENCE_FAKE_CLOCK_H_

#include "server/resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include "server/common/errors.h"
#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

using Outcome = CircuitBreaker::Outcome;
using State = CircuitBreaker::State;

CircuitBreakerConfig Config() {
  CircuitBreakerConfig c;
  c.consecutive_failures = 3;
  c.failure_rate = 0.5;
  c.window = 10;
  c.open_duration = absl::Seconds(30);
  c.half_open_probes = 2;
  return c;
}

void Attempt(CircuitBreaker& b, Outcome o) {
  ASSERT_TRUE(b.Allow().ok());
  b.Record(o);
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndFailsFast) {
  testing::FakeClock clock;
  CircuitBreaker b("lee", Config(), clock);
  Attempt(b, Outcome::kFailure);
  Attempt(b, Outcome::kFailure);
  EXPECT_EQ(b.state(), State::kClosed);
  Attempt(b, Outcome::kFailure);
  EXPECT_EQ(b.state(), State::kOpen);
  clock.Advance(absl::Seconds(10));
  absl::Status s = b.Allow();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorInfo(s)->reason, reason::kBackendCircuitOpen);
  EXPECT_EQ(GetRetryDelay(s), absl::Seconds(20)) << "time left open";
}

TEST(CircuitBreakerTest, SuccessResetsTheConsecutiveCount) {
  testing::FakeClock clock;
  auto config = Config();
  config.window = 1000;  // rate rule out of the way
  CircuitBreaker b("lee", config, clock);
  for (int i = 0; i < 10; ++i) {
    Attempt(b, Outcome::kFailure);
    Attempt(b, Outcome::kFailure);
    Attempt(b, Outcome::kSuccess);
  }
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, OpensOnFailureRateOverTheWindow) {
  testing::FakeClock clock;
  CircuitBreaker b("lee", Config(), clock);
  // Alternating: never 3 in a row, but half of the last 10 failed.
  for (int i = 0; i < 4; ++i) {
    Attempt(b, Outcome::kFailure);
    Attempt(b, Outcome::kSuccess);
  }
  EXPECT_EQ(b.state(), State::kClosed) << "window not full yet";
  Attempt(b, Outcome::kFailure);
  Attempt(b, Outcome::kSuccess);
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreakerTest, FourXxAndNeutralOutcomesNeverOpenIt) {
  testing::FakeClock clock;
  CircuitBreaker b("lee", Config(), clock);
  for (int i = 0; i < 50; ++i) {
    Attempt(b, Outcome::kSuccess);  // a 4xx is an answer
    Attempt(b, Outcome::kNeutral);
  }
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, HalfOpenProbesCloseIt) {
  testing::FakeClock clock;
  CircuitBreaker b("lee", Config(), clock);
  for (int i = 0; i < 3; ++i) Attempt(b, Outcome::kFailure);
  clock.Advance(absl::Seconds(30));
  // Two probe slots, then fail fast until they report.
  ASSERT_TRUE(b.Allow().ok());
  ASSERT_TRUE(b.Allow().ok());
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_FALSE(b.Allow().ok());
  b.Record(Outcome::kSuccess);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  b.Record(Outcome::kSuccess);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.Allow().ok());
}

TEST(CircuitBreakerTest, FailedProbeReopens) {
  testing::FakeClock clock;
  CircuitBreaker b("lee", Config(), clock);
  for (int i = 0; i < 3; ++i) Attempt(b, Outcome::kFailure);
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(b.Allow().ok());
  b.Record(Outcome::kFailure);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(GetRetryDelay(b.Allow()), absl::Seconds(30));
}

TEST(CircuitBreakerTest, DisabledNeverOpens) {
  testing::FakeClock clock;
  auto config = Config();
  config.enabled = false;
  CircuitBreaker b("lee", config, clock);
  for (int i = 0; i < 20; ++i) Attempt(b, Outcome::kFailure);
  EXPECT_TRUE(b.Allow().ok());
}

}  // namespace
}  // namespace certbridge

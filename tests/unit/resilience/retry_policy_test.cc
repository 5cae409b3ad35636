#include "server/resilience/retry_policy.h"

#include <gtest/gtest.h>

#include "absl/random/random.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

absl::Status WithReason(absl::StatusCode code, const char* r) {
  return MakeError(code, "x", r);
}

TEST(RetryPolicyTest, WhichFailuresRetryForWhichMethods) {
  struct Row {
    absl::Status status;
    bool create;
    bool idempotent;
  };
  const Row rows[] = {
      // Never left: every method.
      {WithReason(absl::StatusCode::kUnavailable, reason::kBackendUnreachable),
       true, true},
      // Refused with 429: every method.
      {WithReason(absl::StatusCode::kResourceExhausted,
                  reason::kBackendRateLimited),
       true, true},
      // The backend may have acted: idempotent methods only.
      {WithReason(absl::StatusCode::kInternal, reason::kBackendInternalError),
       false, true},
      {WithReason(absl::StatusCode::kUnavailable, reason::kBackendUnavailable),
       false, true},
      {WithReason(absl::StatusCode::kUnavailable, reason::kBackendTimeout),
       false, true},
      {WithReason(absl::StatusCode::kUnavailable,
                  reason::kBackendConnectionReset),
       false, true},
      // Never retried.
      {WithReason(absl::StatusCode::kNotFound, reason::kCertificateNotFound),
       false, false},
      {WithReason(absl::StatusCode::kInternal, reason::kBackendAuthFailed),
       false, false},
      {WithReason(absl::StatusCode::kInternal, reason::kBackendTlsError), false,
       false},
      {WithReason(absl::StatusCode::kInternal,
                  reason::kBackendMalformedResponse),
       false, false},
      {WithReason(absl::StatusCode::kUnavailable, reason::kBackendCircuitOpen),
       false, false},
      {absl::DeadlineExceededError("late"), false, false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(IsRetryable(row.status, Operation::kCreate), row.create)
        << row.status;
    for (Operation op :
         {Operation::kGet, Operation::kUpdate, Operation::kDelete}) {
      EXPECT_EQ(IsRetryable(row.status, op), row.idempotent) << row.status;
    }
  }
}

TEST(RetryPolicyTest, BreakerCountsServerSideFailuresOnly) {
  EXPECT_TRUE(ClassifyFailure(WithReason(absl::StatusCode::kUnavailable,
                                         reason::kBackendUnreachable))
                  .breaker_failure);
  EXPECT_TRUE(ClassifyFailure(WithReason(absl::StatusCode::kInternal,
                                         reason::kBackendInternalError))
                  .breaker_failure);
  EXPECT_FALSE(ClassifyFailure(WithReason(absl::StatusCode::kNotFound,
                                          reason::kCertificateNotFound))
                   .breaker_failure);
  EXPECT_FALSE(ClassifyFailure(WithReason(absl::StatusCode::kResourceExhausted,
                                          reason::kBackendRateLimited))
                   .breaker_failure);
}

TEST(RetryPolicyTest, FullJitterStaysUnderTheExponentialCeiling) {
  RetryConfig c;
  c.initial_backoff = absl::Milliseconds(100);
  c.multiplier = 2;
  c.max_backoff = absl::Milliseconds(700);
  absl::BitGen gen;
  absl::Duration max_seen[5];
  for (int i = 0; i < 2000; ++i) {
    for (int retry = 1; retry <= 4; ++retry) {
      const absl::Duration d = BackoffDelay(c, retry, std::nullopt, gen);
      ASSERT_GE(d, absl::ZeroDuration());
      max_seen[retry] = std::max(max_seen[retry], d);
    }
  }
  // Ceilings 100, 200, 400, then capped at 700 ms; jitter reaches near them.
  EXPECT_LE(max_seen[1], absl::Milliseconds(100));
  EXPECT_GT(max_seen[1], absl::Milliseconds(90));
  EXPECT_LE(max_seen[2], absl::Milliseconds(200));
  EXPECT_GT(max_seen[2], absl::Milliseconds(180));
  EXPECT_LE(max_seen[4], absl::Milliseconds(700));
  EXPECT_GT(max_seen[4], absl::Milliseconds(600));
}

TEST(RetryPolicyTest, RetryAfterIsAFloorAndIsCapped) {
  RetryConfig c;
  c.retry_after_cap = absl::Seconds(10);
  absl::BitGen gen;
  EXPECT_GE(BackoffDelay(c, 1, absl::Seconds(2), gen), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(c, 1, absl::Seconds(120), gen), absl::Seconds(10));
}

}  // namespace
}  // namespace certbridge

// The per-call policy objects: clones carry their own state, the attempts
// policy honours max_attempts and the retry rules, and the backoff stays in
// its full-jitter bounds with a fixed seed and honours Retry-After (capped).
#include "server/resilience/call_policies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "server/common/errors.h"
#include "server/mapping/http_status_mapping.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
namespace {

absl::Status Http(int status, Operation op = Operation::kGet) {
  HttpErrorInput in;
  in.kind = "vendor";
  in.operation = op;
  in.backend = "b";
  in.http_status = status;
  return MapHttpError(in);
}

absl::Status Transport(TransportErrorKind kind, bool sent) {
  return MapTransportError(TransportError{kind, sent, "detail"}, "b", false);
}

RandomSource Seeded(std::mt19937* gen) {
  return [gen]() -> absl::BitGenRef { return absl::BitGenRef(*gen); };
}

RetryConfig Config() {
  RetryConfig c;
  c.max_attempts = 3;
  c.initial_backoff = absl::Milliseconds(100);
  c.max_backoff = absl::Seconds(1);
  c.multiplier = 2.0;
  c.retry_after_cap = absl::Seconds(30);
  return c;
}

TEST(LimitedAttemptsRetryPolicyTest,
     AllowsUpToMaxAttemptsForRetryableFailures) {
  LimitedAttemptsRetryPolicy policy(3);
  EXPECT_EQ(policy.attempts(), 0);
  EXPECT_TRUE(policy.OnFailure(Http(503), Operation::kGet));
  EXPECT_TRUE(policy.OnFailure(Http(503), Operation::kGet));
  EXPECT_FALSE(policy.OnFailure(Http(503), Operation::kGet))
      << "a fourth attempt was allowed";
  EXPECT_EQ(policy.attempts(), 3);

  LimitedAttemptsRetryPolicy once(1);
  EXPECT_FALSE(once.OnFailure(Http(503), Operation::kGet));
}

TEST(LimitedAttemptsRetryPolicyTest, NeverRetriesWhatTheRulesForbid) {
  struct Row {
    absl::Status status;
    Operation op;
  };
  const std::vector<Row> rows = {
      {Http(404), Operation::kGet},
      {Http(400), Operation::kUpdate},
      {Http(501), Operation::kGet},
      {Http(503, Operation::kCreate), Operation::kCreate},
      {Transport(TransportErrorKind::kTimeout, true), Operation::kCreate},
      {Transport(TransportErrorKind::kTlsVerification, false), Operation::kGet},
      {MakeError(absl::StatusCode::kUnavailable, "open",
                 reason::kBackendCircuitOpen),
       Operation::kGet},
      {absl::DeadlineExceededError("late"), Operation::kDelete},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.status.ToString());
    LimitedAttemptsRetryPolicy policy(10);
    EXPECT_FALSE(policy.OnFailure(row.status, row.op));
  }
  // ... and retries what they allow, Create included when nothing left.
  LimitedAttemptsRetryPolicy policy(10);
  EXPECT_TRUE(
      policy.OnFailure(Transport(TransportErrorKind::kConnectFailed, false),
                       Operation::kCreate));
  EXPECT_TRUE(
      policy.OnFailure(Http(429, Operation::kCreate), Operation::kCreate));
  EXPECT_TRUE(
      policy.OnFailure(Http(503, Operation::kDelete), Operation::kDelete));
}

TEST(LimitedAttemptsRetryPolicyTest, ClonesCountTheirOwnAttempts) {
  LimitedAttemptsRetryPolicy prototype(2);
  auto a = prototype.clone();
  auto b = prototype.clone();
  EXPECT_TRUE(a->OnFailure(Http(503), Operation::kGet));
  EXPECT_FALSE(a->OnFailure(Http(503), Operation::kGet));
  EXPECT_EQ(a->attempts(), 2);
  EXPECT_EQ(b->attempts(), 0);
  EXPECT_EQ(prototype.attempts(), 0);
  EXPECT_TRUE(b->OnFailure(Http(503), Operation::kGet))
      << "a clone inherited another's attempts";
  // A clone of a used policy starts over too.
  auto c = a->clone();
  EXPECT_EQ(c->attempts(), 0);
  EXPECT_TRUE(c->OnFailure(Http(503), Operation::kGet));
}

TEST(ExponentialBackoffPolicyTest, DelaysStayWithinTheGrowingCeiling) {
  const RetryConfig config = Config();
  // Ceilings: 100, 200, 400, 800 ms, then max_backoff (1 s).
  const std::vector<absl::Duration> ceilings = {
      absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(400),
      absl::Milliseconds(800), absl::Seconds(1),        absl::Seconds(1)};
  std::mt19937 gen(7);
  std::vector<absl::Duration> largest(ceilings.size(), absl::ZeroDuration());
  for (int call = 0; call < 200; ++call) {
    ExponentialBackoffPolicy policy(config, Seeded(&gen));
    for (std::size_t retry = 0; retry < ceilings.size(); ++retry) {
      const absl::Duration d = policy.OnCompletion(std::nullopt);
      ASSERT_GE(d, absl::ZeroDuration()) << "retry " << retry + 1;
      ASSERT_LE(d, ceilings[retry]) << "retry " << retry + 1;
      largest[retry] = std::max(largest[retry], d);
    }
  }
  // Full jitter: with this many draws each step comes near its ceiling, so
  // the ceiling really grows (and is not, say, the first one throughout).
  for (std::size_t retry = 0; retry < ceilings.size(); ++retry) {
    EXPECT_GT(largest[retry], ceilings[retry] * 0.9) << "retry " << retry + 1;
  }
}

TEST(ExponentialBackoffPolicyTest, DrawsFromTheInjectedSource) {
  const RetryConfig config = Config();
  std::mt19937 gen_a(42), gen_b(42), gen_c(43);
  ExponentialBackoffPolicy a(config, Seeded(&gen_a));
  ExponentialBackoffPolicy b(config, Seeded(&gen_b));
  ExponentialBackoffPolicy c(config, Seeded(&gen_c));
  std::vector<absl::Duration> da, db, dc;
  for (int i = 0; i < 5; ++i) {
    da.push_back(a.OnCompletion(std::nullopt));
    db.push_back(b.OnCompletion(std::nullopt));
    dc.push_back(c.OnCompletion(std::nullopt));
  }
  EXPECT_EQ(da, db) << "the same seed must give the same delays";
  EXPECT_NE(da, dc) << "another seed gave the same delays: not injected?";
}

TEST(ExponentialBackoffPolicyTest, ClonesStartAtTheFirstStep) {
  RetryConfig config = Config();
  // The first step's ceiling is 1 ns, every later one 1 s or more.
  config.initial_backoff = absl::Nanoseconds(1);
  config.multiplier = 1e9;
  config.max_backoff = absl::Seconds(10);
  std::mt19937 gen(1);
  ExponentialBackoffPolicy prototype(config, Seeded(&gen));
  auto used = prototype.clone();
  for (int i = 0; i < 3; ++i) used->OnCompletion(std::nullopt);
  auto fresh = used->clone();
  for (int i = 0; i < 50; ++i) {
    auto policy = prototype.clone();
    EXPECT_LE(policy->OnCompletion(std::nullopt), absl::Nanoseconds(1));
  }
  EXPECT_LE(fresh->OnCompletion(std::nullopt), absl::Nanoseconds(1))
      << "a clone carried on from its original's step";
  // The original carried on: its next ceiling is max_backoff.
  absl::Duration largest = absl::ZeroDuration();
  for (int i = 0; i < 20; ++i) {
    largest = std::max(largest, used->OnCompletion(std::nullopt));
  }
  EXPECT_GT(largest, absl::Seconds(1));
}

TEST(ExponentialBackoffPolicyTest, RetryAfterIsAFloorCappedAtTheCap) {
  const RetryConfig config = Config();
  std::mt19937 gen(3);
  ExponentialBackoffPolicy policy(config, Seeded(&gen));
  // Above any jitter of the first steps: the Retry-After itself.
  EXPECT_EQ(policy.OnCompletion(absl::Seconds(5)), absl::Seconds(5));
  // Longer than the cap: the cap.
  EXPECT_EQ(policy.OnCompletion(absl::Hours(1)), config.retry_after_cap);
  // Shorter than the jitter drawn: the jitter (still within the ceiling).
  for (int i = 0; i < 20; ++i) {
    ExponentialBackoffPolicy p(config, Seeded(&gen));
    const absl::Duration d = p.OnCompletion(absl::ZeroDuration());
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LE(d, config.initial_backoff);
  }
}

}  // namespace
}  // namespace certbridge

#include "server/resilience/retry_budget.h"

#include <gtest/gtest.h>

#include "server/resilience/concurrency_limiter.h"

namespace certbridge {
namespace {

TEST(RetryBudgetTest, StopsRetriesWhenFailuresDominateAndRecovers) {
  RetryBudget budget(RetryBudgetConfig{10, 0.5});
  EXPECT_TRUE(budget.AllowRetry());
  for (int i = 0; i < 4; ++i) budget.OnFailure();
  EXPECT_TRUE(budget.AllowRetry()) << "6 > 5";
  budget.OnFailure();
  EXPECT_FALSE(budget.AllowRetry()) << "5 is not > 5";
  budget.OnSuccess();
  EXPECT_TRUE(budget.AllowRetry()) << "5.5 > 5";
  for (int i = 0; i < 100; ++i) budget.OnSuccess();
  EXPECT_DOUBLE_EQ(budget.tokens(), 10) << "capped at max_tokens";
  for (int i = 0; i < 100; ++i) budget.OnFailure();
  EXPECT_DOUBLE_EQ(budget.tokens(), 0) << "never negative";
}

TEST(ConcurrencyLimiterTest, RejectsPastTheLimitAndFreesOnRelease) {
  ConcurrencyLimiter limiter(2);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  limiter.Release();
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.in_flight(), 2);
}

}  // namespace
}  // namespace certbridge

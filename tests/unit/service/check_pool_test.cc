#include "server/service/check_pool.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "server/resilience/byte_budget.h"

namespace certbridge {
namespace {

TEST(CheckPoolTest, RunsTasksAndRefusesPastTheQueue) {
  absl::Notification release;
  std::atomic<int> ran{0};
  {
    CheckPool pool(1, 2);
    absl::Notification started;
    ASSERT_TRUE(pool.TrySubmit([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();  // the only worker is busy now
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
    EXPECT_FALSE(pool.TrySubmit([&] { ++ran; })) << "queue of 2 is full";
    release.Notify();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), 3);
}

TEST(ByteBudgetTest, RefusesPastTheLimitAndTracksThePeak) {
  ByteBudget budget(100);
  EXPECT_TRUE(budget.TryAcquire(60));
  EXPECT_FALSE(budget.TryAcquire(41));
  EXPECT_TRUE(budget.TryAcquire(40));
  EXPECT_EQ(budget.used(), 100);
  budget.Release(60);
  budget.Release(40);
  EXPECT_EQ(budget.used(), 0);
  EXPECT_EQ(budget.TakePeak(), 100);
  EXPECT_EQ(budget.TakePeak(), 0);
}

}  // namespace
}  // namespace certbridge

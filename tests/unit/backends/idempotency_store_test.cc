#include "server/backends/idempotency_store.h"

#include <gtest/gtest.h>

#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

v1::Certificate Cert(const std::string& name) {
  v1::Certificate c;
  c.set_name(name);
  return c;
}

class IdempotencyStoreTest : public ::testing::Test {
 protected:
  IdempotencyStore::Admission Begin(const std::string& key, size_t fp = 1) {
    Done<v1::Certificate> waiter = [this](absl::StatusOr<v1::Certificate> r) {
      waited_.push_back(std::move(r));
    };
    return store_.Begin(key, fp, waiter);
  }
  testing::FakeClock clock_;
  IdempotencyStore store_{IdempotencyConfig{absl::Minutes(10), 3}, clock_};
  std::vector<absl::StatusOr<v1::Certificate>> waited_;
};

TEST_F(IdempotencyStoreTest, ReplaysDefinitiveOutcomes) {
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kJoined);
  store_.Finish("a", Cert("x"), /*definitive=*/true, false);
  ASSERT_EQ(waited_.size(), 1u);
  EXPECT_EQ(waited_[0]->name(), "x");
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kReplayed);
  EXPECT_EQ(again.result->name(), "x");
  EXPECT_EQ(Begin("a", 2).kind, IdempotencyStore::Admission::kMismatch);
}

TEST_F(IdempotencyStoreTest, UnknownOutcomeLetsTheRepeatProceedFlagged) {
  Begin("a");
  store_.Finish("a", absl::UnavailableError("reset"), false,
                /*outcome_unknown=*/true);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, NothingHappenedMeansForget) {
  Begin("a");
  store_.Finish("a", absl::UnavailableError("refused"), false, false);
  EXPECT_EQ(store_.size(), 0u);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_FALSE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, EntriesExpireAndAreBounded) {
  Begin("a");
  store_.Finish("a", Cert("x"), true, false);
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  store_.Finish("a", Cert("x"), true, false);
  for (const char* k : {"b", "c", "d", "e"}) {
    Begin(k);
    store_.Finish(k, Cert(k), true, false);
  }
  Begin("f");  // evicts down to the bound
  EXPECT_LE(store_.size(), 4u);
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed)
      << "oldest evicted first";
}

}  // namespace
}  // namespace certbridge

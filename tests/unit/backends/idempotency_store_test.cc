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
  IdempotencyStore::Admission Begin(const std::string& key, int fp = 1) {
    Done<v1::Certificate> waiter = [this](absl::StatusOr<v1::Certificate> r) {
      waited_.push_back(std::move(r));
    };
    IdempotencyStore::Fingerprint fingerprint{};
    fingerprint[0] = static_cast<unsigned char>(fp);
    return store_.Begin(key, fingerprint, waiter);
  }
  static constexpr auto kAnswered = IdempotencyStore::Outcome::kAnswered;
  static constexpr auto kUnknown = IdempotencyStore::Outcome::kUnknown;
  static constexpr auto kNotSent = IdempotencyStore::Outcome::kNotSent;
  testing::FakeClock clock_;
  IdempotencyStore store_{IdempotencyConfig{absl::Minutes(10), 3}, clock_};
  std::vector<absl::StatusOr<v1::Certificate>> waited_;
};

TEST_F(IdempotencyStoreTest, ReplaysDefinitiveOutcomes) {
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kJoined);
  store_.Finish("a", Cert("x"), kAnswered);
  ASSERT_EQ(waited_.size(), 1u);
  EXPECT_EQ(waited_[0]->name(), "x");
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kReplayed);
  EXPECT_EQ(again.result->name(), "x");
  EXPECT_EQ(Begin("a", 2).kind, IdempotencyStore::Admission::kMismatch);
}

TEST_F(IdempotencyStoreTest, UnknownOutcomeLetsTheRepeatProceedFlagged) {
  Begin("a");
  store_.Finish("a", absl::UnavailableError("reset"), kUnknown);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, NothingHappenedMeansForget) {
  Begin("a");
  store_.Finish("a", absl::UnavailableError("refused"), kNotSent);
  EXPECT_EQ(store_.size(), 0u);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_FALSE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, EntriesExpireAndAreBounded) {
  Begin("a");
  store_.Finish("a", Cert("x"), kAnswered);
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  store_.Finish("a", Cert("x"), kAnswered);
  for (const char* k : {"b", "c", "d", "e"}) {
    Begin(k);
    store_.Finish(k, Cert(k), kAnswered);
  }
  Begin("f");  // evicts down to the bound
  EXPECT_LE(store_.size(), 4u);
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed)
      << "oldest evicted first";
}

// Issue 10 finding 7: a call that fails before reaching the backend (an
// overload rejection, an open circuit) must not erase the "outcome unknown"
// an earlier attempt left, or the repeat loses its recovery.
TEST_F(IdempotencyStoreTest, NothingSentKeepsAnEarlierUnknownOutcome) {
  Begin("a");
  store_.Finish("a", absl::UnavailableError("reset"), kUnknown);
  auto second = Begin("a");
  ASSERT_TRUE(second.previous_outcome_unknown);
  store_.Finish("a", absl::ResourceExhaustedError("overloaded"), kNotSent);
  EXPECT_EQ(store_.size(), 1u);
  auto third = Begin("a");
  EXPECT_EQ(third.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(third.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, AbandonedJoinerGetsCancelledAndOthersTheResult) {
  Begin("a");
  auto joined = Begin("a");
  ASSERT_EQ(joined.kind, IdempotencyStore::Admission::kJoined);
  auto other = Begin("a");
  store_.Abandon("a", joined.waiter);
  ASSERT_EQ(waited_.size(), 1u);
  EXPECT_EQ(waited_[0].status().code(), absl::StatusCode::kCancelled);
  store_.Abandon("a", joined.waiter);  // once only
  store_.Finish("a", Cert("x"), kAnswered);
  ASSERT_EQ(waited_.size(), 2u);
  EXPECT_EQ(waited_[1]->name(), "x");
}

// The parent is not in the fingerprint: it is in the key, parsed, so two
// spellings of one parent are one request (idempotent_create_stub_test).
TEST_F(IdempotencyStoreTest, FingerprintIgnoresTheRequestIdAndParent) {
  v1::CreateCertificateRequest a;
  a.set_parent("backends/x");
  a.set_request_id("1");
  a.mutable_certificate()->mutable_leegality()->set_pkcs12_file(
      std::string(100000, 'p'));
  v1::CreateCertificateRequest b = a;
  b.set_request_id("2");
  EXPECT_EQ(IdempotencyStore::FingerprintOf(a),
            IdempotencyStore::FingerprintOf(b));
  b.mutable_certificate()->mutable_leegality()->set_passkey("other");
  EXPECT_NE(IdempotencyStore::FingerprintOf(a),
            IdempotencyStore::FingerprintOf(b));
  v1::CreateCertificateRequest c = a;
  c.set_parent("backends/y");
  EXPECT_EQ(IdempotencyStore::FingerprintOf(a),
            IdempotencyStore::FingerprintOf(c));
  c.set_certificate_id("other");
  EXPECT_NE(IdempotencyStore::FingerprintOf(a),
            IdempotencyStore::FingerprintOf(c));
}

}  // namespace
}  // namespace certbridge

#include "server/backends/memory_idempotency_store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

v1::Certificate Cert(const std::string& name) {
  v1::Certificate c;
  c.set_name(name);
  return c;
}

using Admission = IdempotencyStore::Admission;

class IdempotencyStoreTest : public ::testing::Test {
 protected:
  // What Begin answered at once, or that it is waiting for a running call
  // (its answer then lands in waited_).
  struct Begun {
    bool waiting = true;
    Admission::Kind kind = Admission::kProceed;
    bool previous_outcome_unknown = false;
    IdempotencyStore::Result result = absl::UnknownError("");
    std::uint64_t handle = 0;
  };
  Begun Begin(const std::string& key, int fp = 1) {
    IdempotencyStore::Fingerprint fingerprint{};
    fingerprint[0] = static_cast<unsigned char>(fp);
    auto begun = std::make_shared<Begun>();
    begun->handle = store_.Begin(
        key, fingerprint, absl::InfiniteFuture(),
        [this, begun](absl::StatusOr<Admission> a) {
          if (!begun->waiting) return;  // not reached: done runs once
          if (begun->handle != 0) {     // answered after Begin returned
            if (!a.ok()) {
              waited_.emplace_back(a.status());
            } else {
              EXPECT_EQ(a->kind, Admission::kReplayed);
              waited_.push_back(a->result);
            }
            return;
          }
          ASSERT_TRUE(a.ok()) << a.status();
          begun->waiting = false;
          begun->kind = a->kind;
          begun->previous_outcome_unknown = a->previous_outcome_unknown;
          begun->result = a->result;
        });
    return *begun;
  }
  void Finish(const std::string& key, IdempotencyStore::Result result,
              IdempotencyStore::Outcome outcome) {
    bool then_ran = false;
    store_.Finish(key, 0, result, outcome, [&then_ran] { then_ran = true; });
    EXPECT_TRUE(then_ran) << "the memory store records inline";
  }
  static constexpr auto kAnswered = IdempotencyStore::Outcome::kAnswered;
  static constexpr auto kUnknown = IdempotencyStore::Outcome::kUnknown;
  static constexpr auto kNotSent = IdempotencyStore::Outcome::kNotSent;
  testing::FakeClock clock_;
  static IdempotencyConfig SmallConfig() {
    IdempotencyConfig config;
    config.ttl = absl::Minutes(10);
    config.max_entries = 3;
    return config;
  }
  MemoryIdempotencyStore store_{SmallConfig(), clock_};
  std::vector<absl::StatusOr<v1::Certificate>> waited_;
};

TEST_F(IdempotencyStoreTest, ReplaysDefinitiveOutcomes) {
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(Begin("a").waiting);
  Finish("a", Cert("x"), kAnswered);
  ASSERT_EQ(waited_.size(), 1u);
  EXPECT_EQ(waited_[0]->name(), "x");
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kReplayed);
  EXPECT_EQ(again.result->name(), "x");
  EXPECT_EQ(Begin("a", 2).kind, IdempotencyStore::Admission::kMismatch);
}

TEST_F(IdempotencyStoreTest, UnknownOutcomeLetsTheRepeatProceedFlagged) {
  Begin("a");
  Finish("a", absl::UnavailableError("reset"), kUnknown);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, NothingHappenedMeansForget) {
  Begin("a");
  Finish("a", absl::UnavailableError("refused"), kNotSent);
  EXPECT_EQ(store_.size(), 0u);
  auto again = Begin("a");
  EXPECT_EQ(again.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_FALSE(again.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, EntriesExpireAndAreBounded) {
  Begin("a");
  Finish("a", Cert("x"), kAnswered);
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(Begin("a").kind, IdempotencyStore::Admission::kProceed);
  Finish("a", Cert("x"), kAnswered);
  for (const char* k : {"b", "c", "d", "e"}) {
    Begin(k);
    Finish(k, Cert(k), kAnswered);
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
  Finish("a", absl::UnavailableError("reset"), kUnknown);
  auto second = Begin("a");
  ASSERT_TRUE(second.previous_outcome_unknown);
  Finish("a", absl::ResourceExhaustedError("overloaded"), kNotSent);
  EXPECT_EQ(store_.size(), 1u);
  auto third = Begin("a");
  EXPECT_EQ(third.kind, IdempotencyStore::Admission::kProceed);
  EXPECT_TRUE(third.previous_outcome_unknown);
}

TEST_F(IdempotencyStoreTest, AbandonedJoinerGetsCancelledAndOthersTheResult) {
  Begin("a");
  auto joined = Begin("a");
  ASSERT_TRUE(joined.waiting);
  auto other = Begin("a");
  ASSERT_TRUE(other.waiting);
  store_.Cancel("a", joined.handle);
  ASSERT_EQ(waited_.size(), 1u);
  EXPECT_EQ(waited_[0].status().code(), absl::StatusCode::kCancelled);
  store_.Cancel("a", joined.handle);  // once only
  Finish("a", Cert("x"), kAnswered);
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

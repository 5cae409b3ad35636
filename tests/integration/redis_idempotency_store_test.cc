// RedisIdempotencyStore against a real redis-server: two stores with their
// own clients stand for two replicas sharing one Redis. Each case is one of
// the interleavings a repeated Create can meet.
#include "server/idempotency/redis_idempotency_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "server/common/errors.h"
#include "server/http/curl_transport.h"
#include "server/idempotency/redis_client.h"
#include "tests/testing/redis_server.h"

namespace certbridge {
namespace {

using Admission = IdempotencyStore::Admission;
using Outcome = IdempotencyStore::Outcome;

v1::Certificate Cert(const std::string& name) {
  v1::Certificate c;
  c.set_name(name);
  return c;
}

IdempotencyStore::Fingerprint Print(int n) {
  IdempotencyStore::Fingerprint f{};
  f[0] = static_cast<unsigned char>(n);
  return f;
}

// A Begin's answer, which may come later and on another thread.
class Pending {
 public:
  IdempotencyStore::AdmissionDone Callback() {
    return [this](absl::StatusOr<Admission> a) {
      promise_.set_value(std::move(a));
    };
  }
  bool ready(absl::Duration wait = absl::ZeroDuration()) {
    return future_.wait_for(absl::ToChronoMilliseconds(wait)) ==
           std::future_status::ready;
  }
  absl::StatusOr<Admission> Get() {
    EXPECT_TRUE(ready(absl::Seconds(60))) << "no answer within 60 s";
    return future_.get();
  }

 private:
  std::promise<absl::StatusOr<Admission>> promise_;
  std::future<absl::StatusOr<Admission>> future_ = promise_.get_future();
};

// Counts the store's Redis round trips by operation, so a test can wait
// for "B is polling" instead of guessing with sleeps.
class CountingObserver final : public IdempotencyStoreObserver {
 public:
  void OnRequest(absl::string_view operation, absl::string_view /*result*/,
                 absl::Duration /*latency*/) override {
    absl::MutexLock lock(&mu_);
    ++counts_[std::string(operation)];
  }
  bool WaitFor(const std::string& operation, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    awaited_ = operation;
    return mu_.AwaitWithTimeout(absl::Condition(this, &CountingObserver::Seen),
                                timeout);
  }

 private:
  bool Seen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return counts_[awaited_] > 0;
  }

  absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::string awaited_ ABSL_GUARDED_BY(mu_);
};

// One replica's store: its own Redis connection, its own timers.
struct Replica {
  CountingObserver observer;
  std::unique_ptr<RedisClient> client;
  std::unique_ptr<CurlTransport> timers;
  std::unique_ptr<RedisIdempotencyStore> store;

  static std::unique_ptr<Replica> Make(int port,
                                       RedisIdempotencyOptions options = {}) {
    auto r = std::make_unique<Replica>();
    RedisOptions redis;
    redis.host = "127.0.0.1";
    redis.port = port;
    redis.command_timeout = absl::Seconds(5);
    redis.connect_timeout = absl::Seconds(5);
    auto client = RedisClient::Create(redis);
    EXPECT_TRUE(client.ok()) << client.status();
    r->client = *std::move(client);
    auto timers = CurlTransport::Create(CurlTransportOptions{});
    EXPECT_TRUE(timers.ok()) << timers.status();
    r->timers = *std::move(timers);
    auto local = std::make_unique<MemoryIdempotencyStore>(IdempotencyConfig{},
                                                          SystemClock::Get());
    r->store = std::make_unique<RedisIdempotencyStore>(
        *r->client, *r->timers, options, std::move(local), &r->observer);
    return r;
  }
  ~Replica() {
    store.reset();   // before what it uses
    client.reset();  // hands its last answers to the timers' thread
    timers.reset();
  }

  absl::StatusOr<Admission> Begin(const std::string& key, int fp = 1) {
    Pending p;
    store->Begin(key, Print(fp), absl::Now() + absl::Minutes(1), p.Callback());
    auto admission = p.Get();
    if (admission.ok() && admission->kind == Admission::kProceed) {
      claims[key] = admission->claim;
    }
    return admission;
  }
  /// Ends the call of this replica's last proceeding Begin of `key`.
  void Finish(const std::string& key, IdempotencyStore::Result result,
              Outcome outcome) {
    FinishClaim(key, claims[key], std::move(result), outcome);
  }
  void FinishClaim(const std::string& key, std::uint64_t claim,
                   IdempotencyStore::Result result, Outcome outcome) {
    std::promise<void> recorded;
    store->Finish(key, claim, result, outcome,
                  [&recorded] { recorded.set_value(); });
    recorded.get_future().wait();
  }
  absl::StatusOr<RedisReply> Raw(const std::vector<std::string>& argv) {
    std::promise<absl::StatusOr<RedisReply>> reply;
    client->Command(argv, [&reply](absl::StatusOr<RedisReply> r) {
      reply.set_value(std::move(r));
    });
    return reply.get_future().get();
  }
  std::map<std::string, std::uint64_t> claims;
};

class RedisIdempotencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    a_ = Replica::Make(redis_->port(), Options());
    b_ = Replica::Make(redis_->port(), Options());
  }
  virtual RedisIdempotencyOptions Options() {
    RedisIdempotencyOptions o;
    o.lease = absl::Seconds(5);
    return o;
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
  }

  std::unique_ptr<testing::RedisServer> redis_;
  std::unique_ptr<Replica> a_;
  std::unique_ptr<Replica> b_;
};

TEST_F(RedisIdempotencyStoreTest, ARepeatOnTheOtherReplicaReplaysTheAnswer) {
  auto first = a_->Begin("k");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, Admission::kProceed);
  EXPECT_FALSE(first->previous_outcome_unknown);
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
  auto repeat = b_->Begin("k");
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  ASSERT_EQ(repeat->kind, Admission::kReplayed);
  ASSERT_TRUE(repeat->result.ok());
  EXPECT_EQ(repeat->result->name(), "made");
  auto different = b_->Begin("k", 2);
  ASSERT_TRUE(different.ok());
  EXPECT_EQ(different->kind, Admission::kMismatch);
}

TEST_F(RedisIdempotencyStoreTest, ARepeatWhileTheFirstRunsWaitsForIt) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  Pending repeat;
  b_->store->Begin("k", Print(1), absl::Now() + absl::Minutes(1),
                   repeat.Callback());
  // Several lease renewals pass: the running call keeps its claim.
  EXPECT_FALSE(repeat.ready(absl::Seconds(2))) << "did not wait";
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
  auto got = repeat.Get();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->kind, Admission::kReplayed);
  EXPECT_EQ(got->result->name(), "made");
}

TEST_F(RedisIdempotencyStoreTest, ErrorsAreReplayedWithTheirDetails) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  absl::Status refused = MakeValidationError(
      reason::kBackendRejectedRequest, "certificate.pkcs12_file", "bad file");
  a_->Finish("k", refused, Outcome::kAnswered);
  auto repeat = b_->Begin("k");
  ASSERT_TRUE(repeat.ok());
  ASSERT_EQ(repeat->kind, Admission::kReplayed);
  EXPECT_EQ(repeat->result.status(), refused);
}

TEST_F(RedisIdempotencyStoreTest, UnknownOutcomeLetsTheRepeatProceedMarked) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  Pending waiting;
  b_->store->Begin("k", Print(1), absl::Now() + absl::Minutes(1),
                   waiting.Callback());
  // B must have found A's claim before A ends, or it is no repeat that
  // waited: its first poll is the proof.
  ASSERT_TRUE(b_->observer.WaitFor("poll", absl::Seconds(60)));
  a_->Finish("k", absl::UnavailableError("reset"), Outcome::kUnknown);
  // A repeat that waited gets the first call's answer, as in one process.
  auto waited = waiting.Get();
  ASSERT_TRUE(waited.ok());
  ASSERT_EQ(waited->kind, Admission::kReplayed);
  EXPECT_EQ(waited->result.status().code(), absl::StatusCode::kUnavailable);
  // A later repeat runs, told that the first may have created it.
  auto later = b_->Begin("k");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->kind, Admission::kProceed);
  EXPECT_TRUE(later->previous_outcome_unknown);
  // Nothing sent by it keeps the mark for the next one.
  b_->Finish("k", absl::ResourceExhaustedError("overloaded"),
             Outcome::kNotSent);
  auto next = a_->Begin("k");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->kind, Admission::kProceed);
  EXPECT_TRUE(next->previous_outcome_unknown);
}

TEST_F(RedisIdempotencyStoreTest, NothingSentForgetsTheId) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  a_->Finish("k", absl::UnavailableError("refused"), Outcome::kNotSent);
  auto again = b_->Begin("k", 2);  // even another request may use it now
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, Admission::kProceed);
  EXPECT_FALSE(again->previous_outcome_unknown);
}

// A replica that dies mid-call renews its claim no more: after the lease the
// id is taken over, marked "outcome unknown".
TEST_F(RedisIdempotencyStoreTest, ADeadReplicasClaimIsTakenOverAfterItsLease) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  a_.reset();  // no Finish, no renewals
  const absl::Time start = absl::Now();
  auto repeat = b_->Begin("k");
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_EQ(repeat->kind, Admission::kProceed);
  EXPECT_TRUE(repeat->previous_outcome_unknown);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100))
      << "taken over while the lease still held";
}

TEST_F(RedisIdempotencyStoreTest, ACancelledRepeatStopsWaiting) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  Pending repeat;
  const std::uint64_t handle = b_->store->Begin(
      "k", Print(1), absl::Now() + absl::Minutes(1), repeat.Callback());
  b_->store->Cancel("k", handle);
  auto got = repeat.Get();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kCancelled);
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
}

// A Create cancelled while Redis was making its claim: the claim made for
// the call that went away is given back at once, not left looking like a
// running call until its lease lapses (every repeat would wait that long
// and then proceed as "outcome unknown"). Redis is paused so that the claim
// is made only after the cancel.
TEST_F(RedisIdempotencyStoreTest, AClaimMadeForACancelledCallIsGivenBack) {
  RedisIdempotencyOptions long_lease = Options();
  long_lease.lease = absl::Seconds(60);
  auto a = Replica::Make(redis_->port(), long_lease);
  ASSERT_TRUE(a->Raw({"PING"}).ok());  // connected before the pause
  ASSERT_TRUE(redis_->Pause().ok());
  Pending cancelled;
  const std::uint64_t handle = a->store->Begin(
      "k", Print(1), absl::Now() + absl::Minutes(1), cancelled.Callback());
  a->store->Cancel("k", handle);
  EXPECT_EQ(cancelled.Get().status().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(redis_->Resume().ok());
  // The claim made, then given back (a "finish" round trip), before the
  // repeat looks: otherwise the repeat could be first and prove nothing.
  ASSERT_TRUE(a->observer.WaitFor("finish", absl::Seconds(60)));

  // Well inside the 60 s lease a kept claim would hold the repeat for.
  Pending repeat;
  b_->store->Begin("k", Print(1), absl::Now() + absl::Seconds(10),
                   repeat.Callback());
  auto got = repeat.Get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->kind, Admission::kProceed);
  EXPECT_FALSE(got->previous_outcome_unknown);
  b_->FinishClaim("k", got->claim, Cert("made"), Outcome::kAnswered);
}

TEST_F(RedisIdempotencyStoreTest, ARepeatWaitsNoLongerThanItsDeadline) {
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  Pending repeat;
  b_->store->Begin("k", Print(1), absl::Now() + absl::Milliseconds(300),
                   repeat.Callback());
  auto got = repeat.Get();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded);
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
}

TEST_F(RedisIdempotencyStoreTest, RedisDownFailsClosedAndRecoversWhenBack) {
  ASSERT_TRUE(redis_->Stop().ok());
  auto refused = a_->Begin("k");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorInfo(refused.status())->reason,
            reason::kIdempotencyStoreUnavailable);
  ASSERT_TRUE(redis_->Restart().ok());
  // The client reconnects in the background; a generous bound.
  absl::StatusOr<Admission> back = absl::UnknownError("not tried");
  for (const absl::Time until = absl::Now() + absl::Seconds(30);
       absl::Now() < until;) {
    back = a_->Begin("k");
    if (back.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));  // retry pacing, not a sync
  }
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, Admission::kProceed);
}

class FallbackTest : public RedisIdempotencyStoreTest {
  RedisIdempotencyOptions Options() override {
    RedisIdempotencyOptions o;
    o.fallback_to_local = true;
    return o;
  }
};

TEST_F(FallbackTest, RedisDownFallsBackToThisProcess) {
  ASSERT_TRUE(redis_->Stop().ok());
  auto first = a_->Begin("k");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind, Admission::kProceed);
  Pending repeat;  // same process: waits in the local store
  a_->store->Begin("k", Print(1), absl::Now() + absl::Minutes(1),
                   repeat.Callback());
  EXPECT_FALSE(repeat.ready());
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
  auto got = repeat.Get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->result->name(), "made");
}

TEST_F(RedisIdempotencyStoreTest, KeysAreDigestsNotTheCallersText) {
  const std::string key = "backends/lee\nmy-secret-looking-request-id";
  const std::string redis_key = a_->store->RedisKeyOf(key);
  EXPECT_TRUE(absl::StartsWith(redis_key, "certbridge:idempotency:"));
  EXPECT_FALSE(absl::StrContains(redis_key, "request-id"));
  EXPECT_EQ(redis_key.size(),
            std::string("certbridge:idempotency:").size() + 64);
  ASSERT_EQ(a_->Begin(key)->kind, Admission::kProceed);
  std::promise<absl::StatusOr<RedisReply>> keys;
  a_->client->Command({"KEYS", "*"}, [&keys](absl::StatusOr<RedisReply> r) {
    keys.set_value(std::move(r));
  });
  auto reply = keys.get_future().get();
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->elements.size(), 1u);
  EXPECT_EQ(reply->elements[0].str, redis_key);
  a_->Finish(key, Cert("made"), Outcome::kAnswered);
}

// Two calls of one replica can hold claims on one id in turn: the first's
// lease lapsed (here: made to) and a repeat took the id over. Each must
// finish with its own claim: the second's answer is the id's outcome, and
// the first, no longer the owner, records nothing.
TEST_F(RedisIdempotencyStoreTest, EachCallFinishesWithItsOwnClaim) {
  // Renewals every 20 s: none lands between the lapse made below and the
  // Begin that takes the id over.
  RedisIdempotencyOptions slow_renewals;
  slow_renewals.lease = absl::Seconds(60);
  a_ = Replica::Make(redis_->port(), slow_renewals);
  auto first = a_->Begin("k");
  ASSERT_TRUE(first.ok() && first->kind == Admission::kProceed);
  const std::uint64_t first_claim = first->claim;
  ASSERT_TRUE(a_->Raw({"HSET", a_->store->RedisKeyOf("k"), "lease", "0"}).ok());
  auto second = a_->Begin("k");
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->kind, Admission::kProceed);
  EXPECT_TRUE(second->previous_outcome_unknown);
  ASSERT_NE(second->claim, first_claim);
  a_->FinishClaim("k", second->claim, Cert("made-by-second"),
                  Outcome::kAnswered);
  auto repeat = b_->Begin("k");
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  ASSERT_EQ(repeat->kind, Admission::kReplayed);
  EXPECT_EQ(repeat->result->name(), "made-by-second");
  a_->FinishClaim("k", first_claim, absl::UnavailableError("timed out"),
                  Outcome::kUnknown);
  auto still = b_->Begin("k");
  ASSERT_TRUE(still.ok());
  ASSERT_EQ(still->kind, Admission::kReplayed);
  EXPECT_EQ(still->result->name(), "made-by-second");
}

// A call may outlive the entry's expiry (a short ttl, a long deadline):
// its renewals keep the key, or a repeat would find nothing and be sent as
// a new Create. Time passing is the subject here, hence the sleep.
TEST_F(RedisIdempotencyStoreTest, RenewalsKeepTheEntryOfALongCall) {
  RedisIdempotencyOptions short_ttl;
  short_ttl.ttl = absl::Seconds(1);
  short_ttl.lease = absl::Seconds(3);  // the key's first expiry
  a_ = Replica::Make(redis_->port(), short_ttl);
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  absl::SleepFor(absl::Seconds(7));
  auto exists = a_->Raw({"EXISTS", a_->store->RedisKeyOf("k")});
  ASSERT_TRUE(exists.ok()) << exists.status();
  EXPECT_EQ(exists->integer, 1) << "the running call's entry expired";
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
  auto repeat = b_->Begin("k");
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->kind, Admission::kReplayed);
}

// idempotency.ttl: a finished call's outcome is kept for the ttl and then
// forgotten, whatever the lease kept the entry for while the call ran (a
// lease longer than the ttl here, so only Finish can have set the expiry).
TEST_F(RedisIdempotencyStoreTest, AnOutcomeIsForgottenAfterTheTtl) {
  RedisIdempotencyOptions short_ttl = Options();
  short_ttl.ttl = absl::Seconds(2);
  short_ttl.lease = absl::Seconds(30);
  a_ = Replica::Make(redis_->port(), short_ttl);
  ASSERT_EQ(a_->Begin("k")->kind, Admission::kProceed);
  const std::string key = a_->store->RedisKeyOf("k");
  auto running = a_->Raw({"PTTL", key});
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_GT(running->integer, 2000) << "the lease keeps a running call";
  a_->Finish("k", Cert("made"), Outcome::kAnswered);
  auto kept = a_->Raw({"PTTL", key});
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_GT(kept->integer, 0);
  EXPECT_LE(kept->integer, 2000);
  ASSERT_EQ(b_->Begin("k")->kind, Admission::kReplayed);

  // Expiry is the subject, hence the polling (bounded, generous).
  bool gone = false;
  for (const absl::Time until = absl::Now() + absl::Seconds(30);
       !gone && absl::Now() < until;) {
    auto exists = a_->Raw({"EXISTS", key});
    gone = exists.ok() && exists->integer == 0;
    if (!gone) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(gone) << "the outcome outlived the ttl";
  auto fresh = b_->Begin("k");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->kind, Admission::kProceed);
  EXPECT_FALSE(fresh->previous_outcome_unknown);
  b_->Finish("k", Cert("again"), Outcome::kAnswered);
}

}  // namespace
}  // namespace certbridge

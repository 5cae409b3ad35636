// BreakerStub alone over a mock stub: which attempts it lets through and
// counts, when it opens, that an open breaker fails fast without touching the
// stub below, what it reports to its observer, and the pass-throughs
// (RecoverCreate, no breaker).
#include "server/backends/breaker_stub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/common/errors.h"
#include "server/mapping/http_status_mapping.h"
#include "server/mapping/transport_error_mapping.h"
#include "tests/testing/mock_backend_stub.h"
#include "tests/testing/names.h"
#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

using ::testing::_;
using ::testing::StrictMock;
using Result = absl::StatusOr<v1::Certificate>;

constexpr char kName[] =
    "backends/b/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kParent[] = "backends/b";

// Statuses as the mapping produces them: the breaker reads their
// FailureFacts, so hand-made statuses would not test anything.
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

std::string Reason(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

v1::Certificate Cert(const std::string& name) {
  v1::Certificate c;
  c.set_name(name);
  return c;
}

class RecordingObserver final : public BackendObserver {
 public:
  void OnCircuitState(int state) override { states.push_back(state); }
  void OnRejected(absl::string_view reason) override {
    rejected.emplace_back(reason);
  }
  /// `states` without consecutive repeats: the transitions reported.
  std::vector<int> Transitions() const {
    std::vector<int> out;
    for (int s : states) {
      if (out.empty() || out.back() != s) out.push_back(s);
    }
    return out;
  }
  std::vector<int> states;
  std::vector<std::string> rejected;
};

class BreakerStubTest : public ::testing::Test {
 protected:
  BreakerStubTest() {
    config_.consecutive_failures = 3;
    config_.window = 100;
    config_.open_duration = absl::Seconds(30);
    config_.half_open_probes = 1;
    get_.set_name(kName);
    create_.set_parent(kParent);
    update_.mutable_certificate()->set_name(kName);
    delete_.set_name(kName);
  }

  void TearDown() override {
    EXPECT_TRUE(held_.empty()) << "a Done was never completed";
    EXPECT_TRUE(answers_.empty()) << "scripted answers left over";
  }

  void Make(bool with_breaker = true) {
    auto inner = std::make_unique<StrictMock<testing::MockBackendStub>>();
    inner_ = inner.get();
    stub_ = std::make_unique<BreakerStub>(
        std::move(inner),
        with_breaker ? std::make_unique<CircuitBreaker>("b", config_, clock_)
                     : nullptr,
        observer_);
    // Every inner Get answers the next scripted result at once, or holds
    // its Done when the script is empty.
    EXPECT_CALL(*inner_, GetCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext>,
                               const CertificateName&,
                               const v1::GetCertificateRequest&,
                               Done<v1::Certificate> done) {
          ++inner_gets_;
          if (answers_.empty()) {
            held_.push_back(std::move(done));
            return;
          }
          Result r = std::move(answers_.front());
          answers_.pop_front();
          done(std::move(r));
        });
  }

  std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r");
  }

  /// A Get whose inner stub answers at once; returns its result.
  Result Get(std::shared_ptr<CallContext> ctx = nullptr) {
    if (ctx == nullptr) ctx = Context();
    std::optional<Result> out;
    stub_->GetCertificate(ctx, name_, get_,
                          [&out](Result r) { out = std::move(r); });
    if (!out.has_value()) {
      ADD_FAILURE() << "the Get did not complete";
      return absl::UnknownError("not completed");
    }
    return *std::move(out);
  }

  /// A Get whose inner stub, if reached, answers `answer` at once.
  Result GetAnswered(Result answer,
                     std::shared_ptr<CallContext> ctx = nullptr) {
    answers_.push_back(std::move(answer));
    Result r = Get(std::move(ctx));
    answers_.clear();  // the inner stub was not reached
    return r;
  }

  /// Three breaker failures in a row: opens the breaker.
  void Open() {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(GetAnswered(Http(503)).status().code(),
                absl::StatusCode::kUnavailable);
    }
    ASSERT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kOpen);
  }

  static void ExpectCircuitOpen(const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ(Reason(s), reason::kBackendCircuitOpen) << s;
    auto delay = GetRetryDelay(s);
    ASSERT_TRUE(delay.has_value()) << "no RetryInfo: " << s;
    EXPECT_GT(*delay, absl::ZeroDuration());
    EXPECT_LE(*delay, absl::Seconds(30));
  }

  CircuitBreakerConfig config_;
  testing::FakeClock clock_;
  std::shared_ptr<RecordingObserver> observer_ =
      std::make_shared<RecordingObserver>();
  StrictMock<testing::MockBackendStub>* inner_ = nullptr;
  std::unique_ptr<BreakerStub> stub_;
  std::deque<Result> answers_;
  std::deque<Done<v1::Certificate>> held_;
  int inner_gets_ = 0;
  const CertificateName& name_ = testing::KeptName(kName);
  const ParentName& parent_ = testing::KeptParent(kParent);
  v1::GetCertificateRequest get_;
  v1::CreateCertificateRequest create_;
  v1::UpdateCertificateRequest update_;
  v1::DeleteCertificateRequest delete_;
};

TEST_F(BreakerStubTest, CountsAnAttemptOnTheCallOnlyWhenAllowed) {
  Make();
  auto ctx = Context();
  answers_.push_back(Cert(kName));
  ASSERT_TRUE(Get(ctx).ok());
  EXPECT_EQ(ctx->attempts(), 1);
  answers_.push_back(Http(404));
  EXPECT_EQ(Get(ctx).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ctx->attempts(), 2);

  Open();
  const int before = inner_gets_;
  ExpectCircuitOpen(Get(ctx).status());
  EXPECT_EQ(ctx->attempts(), 2) << "a refused attempt is not an attempt";
  EXPECT_EQ(inner_gets_, before);
}

TEST_F(BreakerStubTest, OpensAfterNFailuresAndFailsFastWithoutTheInnerStub) {
  Make();
  // 5xx and timeouts count; each failure is passed up unchanged.
  answers_.push_back(Http(503));
  answers_.push_back(Transport(TransportErrorKind::kTimeout, true));
  answers_.push_back(Http(500));
  Result first = Get();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(first.status()), reason::kBackendUnavailable);
  EXPECT_EQ(Reason(Get().status()), reason::kBackendTimeout);
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(Reason(Get().status()), reason::kBackendInternalError);
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(inner_gets_, 3);

  // Open: every method fails fast; the StrictMock fails on any inner call.
  ExpectCircuitOpen(Get().status());
  EXPECT_EQ(inner_gets_, 3);
  auto ctx = Context();
  std::optional<Result> created, updated;
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> deleted;
  stub_->CreateCertificate(ctx, parent_, create_,
                           [&](Result r) { created = std::move(r); });
  stub_->UpdateCertificate(ctx, name_, update_,
                           [&](Result r) { updated = std::move(r); });
  stub_->DeleteCertificate(
      ctx, name_, delete_,
      [&](absl::StatusOr<v1::DeleteCertificateResponse> r) {
        deleted = std::move(r);
      });
  ASSERT_TRUE(created && updated && deleted);
  ExpectCircuitOpen(created->status());
  ExpectCircuitOpen(updated->status());
  ExpectCircuitOpen(deleted->status());
  EXPECT_EQ(ctx->attempts(), 0);
  EXPECT_EQ(observer_->rejected, std::vector<std::string>(4, "circuit_open"));
}

TEST_F(BreakerStubTest, AnswersAboutTheRequestAndCancellationsNeverOpenIt) {
  Make();
  for (int i = 0; i < 2; ++i) {
    for (const absl::Status& s :
         {Http(404), Http(400), Http(409), Http(429),
          Transport(TransportErrorKind::kCancelled, true),
          absl::DeadlineExceededError("late")}) {
      EXPECT_EQ(GetAnswered(s).status(), s);
    }
  }
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(inner_gets_, 12);
  // A success between failures starts the count again.
  for (const Result& r :
       {Result(Http(503)), Result(Http(503)), Result(Cert(kName)),
        Result(Http(503)), Result(Http(503))}) {
    GetAnswered(r).IgnoreError();
  }
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(observer_->rejected.empty());
}

TEST_F(BreakerStubTest, RecordsTheOutcomeWhenTheAttemptCompletesLater) {
  Make();
  Open();
  clock_.Advance(absl::Seconds(30));
  // The probe is held by the inner stub: its slot stays taken meanwhile.
  auto probe_ctx = Context();
  std::optional<Result> probe;
  stub_->GetCertificate(probe_ctx, name_, get_,
                        [&](Result r) { probe = std::move(r); });
  ASSERT_EQ(held_.size(), 1u);
  EXPECT_FALSE(probe.has_value());
  EXPECT_EQ(probe_ctx->attempts(), 1);
  const int before = inner_gets_;
  ExpectCircuitOpen(Get().status());
  EXPECT_EQ(inner_gets_, before) << "a second probe was let through";
  // Its success closes the breaker; the result goes up unchanged.
  Done<v1::Certificate> done = std::move(held_.front());
  held_.pop_front();
  done(Cert("probe"));
  ASSERT_TRUE(probe.has_value());
  ASSERT_TRUE(probe->ok()) << probe->status();
  EXPECT_EQ((*probe)->name(), "probe");
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kClosed);
}

TEST_F(BreakerStubTest, ReportsItsStateToTheObserver) {
  Make();
  ASSERT_EQ(observer_->states, std::vector<int>({0}))
      << "the initial state is reported at construction";
  Open();
  EXPECT_EQ(observer_->states.back(), 2);
  // A refused call reports the state it met.
  observer_->states.clear();
  Get().IgnoreError();
  EXPECT_EQ(observer_->Transitions(), std::vector<int>({2}));
  // The open period ends: ReportState publishes half-open for an idle
  // backend; a successful probe closes it.
  clock_.Advance(absl::Seconds(30));
  stub_->ReportState();
  EXPECT_EQ(observer_->states.back(), 1);
  answers_.push_back(Cert(kName));
  ASSERT_TRUE(Get().ok());
  EXPECT_EQ(observer_->states.back(), 0);
  EXPECT_EQ(observer_->Transitions(), std::vector<int>({2, 1, 0}));
}

TEST_F(BreakerStubTest, RecoverCreatePassesThroughUncounted) {
  Make();
  auto ctx = Context();
  const absl::Status conflict = Http(409, Operation::kCreate);
  ASSERT_EQ(conflict.code(), absl::StatusCode::kAlreadyExists);
  // Failing read-backs do not count against the breaker.
  EXPECT_CALL(*inner_, RecoverCreate(ctx, _, _, conflict, _))
      .Times(4)
      .WillRepeatedly([&](std::shared_ptr<CallContext>, const ParentName& p,
                          const v1::CreateCertificateRequest& req, absl::Status,
                          Done<v1::Certificate> done) {
        EXPECT_EQ(&p, &parent_);
        EXPECT_EQ(&req, &create_);
        if (stub_->breaker()->state() == CircuitBreaker::State::kOpen) {
          done(Cert("read back"));
        } else {
          done(Http(503));
        }
      });
  for (int i = 0; i < 3; ++i) {
    std::optional<Result> out;
    stub_->RecoverCreate(ctx, parent_, create_, conflict,
                         [&](Result r) { out = std::move(r); });
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(Reason(out->status()), reason::kBackendUnavailable);
  }
  EXPECT_EQ(stub_->breaker()->state(), CircuitBreaker::State::kClosed);
  // Not guarded either: an open breaker lets the read-back through.
  Open();
  std::optional<Result> out;
  stub_->RecoverCreate(ctx, parent_, create_, conflict,
                       [&](Result r) { out = std::move(r); });
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), "read back");
  EXPECT_EQ(ctx->attempts(), 0);
}

TEST_F(BreakerStubTest, NullBreakerPassesEveryAttemptThroughAndCountsIt) {
  Make(/*with_breaker=*/false);
  EXPECT_EQ(stub_->breaker(), nullptr);
  auto ctx = Context();
  const absl::Status failure = Http(503);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(GetAnswered(failure, ctx).status(), failure);
  }
  EXPECT_EQ(inner_gets_, 10);
  EXPECT_EQ(ctx->attempts(), 10);
  stub_->ReportState();
  EXPECT_TRUE(observer_->states.empty());
  EXPECT_TRUE(observer_->rejected.empty());
}

TEST(BreakerOutcomeTest,
     FailuresOfTheBackendCountAnswersDoNotOurOwnAreNeutral) {
  using O = CircuitBreaker::Outcome;
  using K = TransportErrorKind;
  EXPECT_EQ(BreakerOutcome(absl::OkStatus()), O::kSuccess);
  for (const absl::Status& s :
       {Http(500), Http(503), Http(501), Transport(K::kTimeout, true),
        Transport(K::kConnectFailed, false),
        Transport(K::kTlsVerification, false)}) {
    EXPECT_EQ(BreakerOutcome(s), O::kFailure) << s;
  }
  for (const absl::Status& s : {Http(400), Http(404), Http(409), Http(429)}) {
    EXPECT_EQ(BreakerOutcome(s), O::kSuccess) << s;
  }
  for (const absl::Status& s :
       {Transport(K::kCancelled, true), absl::DeadlineExceededError("late"),
        MakeError(absl::StatusCode::kUnavailable, "open",
                  reason::kBackendCircuitOpen)}) {
    EXPECT_EQ(BreakerOutcome(s), O::kNeutral) << s;
  }
}

}  // namespace
}  // namespace certbridge

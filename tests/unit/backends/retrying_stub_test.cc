// RetryingStub alone over a mock stub and a scripted transport (its backoff
// timers): what it retries and when, the delay it waits (the real backoff
// policy over a seeded generator), where it stops and with which error, the
// retry budget, the outcome_unknown mark it leaves on the call, recovery
// (Delete not found, Create already exists) and cancellation.
#include "server/backends/retrying_stub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "server/common/errors.h"
#include "server/mapping/http_status_mapping.h"
#include "server/mapping/transport_error_mapping.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/mock_backend_stub.h"
#include "tests/testing/names.h"

namespace certbridge {
namespace {

using ::testing::_;
using ::testing::StrictMock;
using Result = absl::StatusOr<v1::Certificate>;

constexpr char kBackend[] = "lee";
constexpr char kName[] =
    "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kParent[] = "backends/lee";
constexpr std::mt19937::result_type kSeed = 20240611;

absl::Status Http(int status, Operation op = Operation::kGet,
                  std::optional<absl::Duration> retry_after = {}) {
  HttpErrorInput in;
  in.kind = "vendor";
  in.operation = op;
  in.backend = kBackend;
  in.http_status = status;
  in.retry_after = retry_after;
  return MapHttpError(in);
}

absl::Status Transport(TransportErrorKind kind, bool sent) {
  return MapTransportError(TransportError{kind, sent, "detail"}, kBackend,
                           false);
}

absl::Status CircuitOpen() {
  absl::Status s =
      MakeError(absl::StatusCode::kUnavailable, "open",
                reason::kBackendCircuitOpen, {{metadata::kBackend, kBackend}});
  SetRetryDelay(s, absl::Seconds(30));
  return s;
}

std::string Reason(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

std::string Metadata(const absl::Status& s, const std::string& key) {
  auto info = GetErrorInfo(s);
  if (!info) return "<no ErrorInfo>";
  auto it = info->metadata.find(key);
  return it == info->metadata.end() ? "<absent>" : it->second;
}

v1::Certificate Cert(const std::string& name) {
  v1::Certificate c;
  c.set_name(name);
  return c;
}

RandomSource Seeded(std::mt19937* gen) {
  return [gen]() -> absl::BitGenRef { return absl::BitGenRef(*gen); };
}

/// The inner calls of one method: counted, their Done held for the test.
template <typename T>
struct Held {
  std::deque<Done<T>> dones;
  int calls = 0;
  void Complete(absl::StatusOr<T> r) {
    if (dones.empty()) {
      ADD_FAILURE() << "no inner call is waiting";
      return;
    }
    Done<T> done = std::move(dones.front());
    dones.pop_front();
    done(std::move(r));
  }
};

/// A caller's completion: keeps the result, fails on a second call.
template <typename T>
struct Outcome {
  std::optional<absl::StatusOr<T>> result;
  int completions = 0;
  Done<T> Callback() {
    return [this](absl::StatusOr<T> r) {
      if (++completions > 1) ADD_FAILURE() << "done ran twice";
      result = std::move(r);
    };
  }
};

class RecordingObserver final : public BackendObserver {
 public:
  struct Retry {
    Operation operation;
    std::string reason;
    absl::Duration delay;
    int attempts;
    std::string request_id;
  };
  void OnRetry(const RetryEvent& e) override {
    retries.push_back({e.operation, std::string(e.reason), e.delay, e.attempts,
                       std::string(e.request_id)});
  }
  void OnRetryThrottled() override { ++throttled; }
  std::vector<Retry> retries;
  int throttled = 0;
};

/// A backoff policy that waits a fixed time and records what it was given.
class RecordingBackoff final : public BackoffPolicy {
 public:
  explicit RecordingBackoff(
      std::shared_ptr<std::vector<std::optional<absl::Duration>>> seen)
      : seen_(std::move(seen)) {}
  std::unique_ptr<BackoffPolicy> clone() const override {
    return std::make_unique<RecordingBackoff>(seen_);
  }
  absl::Duration OnCompletion(
      std::optional<absl::Duration> retry_after) override {
    seen_->push_back(retry_after);
    return absl::Milliseconds(7);
  }

 private:
  std::shared_ptr<std::vector<std::optional<absl::Duration>>> seen_;
};

class RetryingStubTest : public ::testing::Test {
 protected:
  RetryingStubTest() {
    retry_.max_attempts = 3;
    retry_.initial_backoff = absl::Milliseconds(100);
    retry_.max_backoff = absl::Seconds(5);
    retry_.multiplier = 2.0;
    // Plenty of tokens: only the budget test runs out.
    budget_.max_tokens = 100;
    get_.set_name(kName);
    create_.set_parent(kParent);
    create_.set_request_id("rid");
    update_.mutable_certificate()->set_name(kName);
    delete_.set_name(kName);
  }

  void TearDown() override {
    EXPECT_TRUE(gets_.dones.empty() && creates_.dones.empty() &&
                updates_.dones.empty() && deletes_.dones.empty())
        << "an inner call was never completed";
    EXPECT_EQ(transport_.pending_timers(), 0u);
  }

  void Make(std::unique_ptr<BackoffPolicy> backoff = nullptr) {
    if (backoff == nullptr) {
      backoff =
          std::make_unique<ExponentialBackoffPolicy>(retry_, Seeded(&gen_));
    }
    auto inner = std::make_unique<StrictMock<testing::MockBackendStub>>();
    inner_ = inner.get();
    stub_ = std::make_unique<RetryingStub>(
        kBackend, std::move(inner),
        std::make_unique<LimitedAttemptsRetryPolicy>(retry_.max_attempts),
        std::move(backoff), budget_, transport_, observer_);
    // The inner stub counts each attempt on the call, as the breaker layer
    // below does in production, and holds its Done.
    EXPECT_CALL(*inner_, GetCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext> ctx,
                               const CertificateName& n,
                               const v1::GetCertificateRequest& req,
                               Done<v1::Certificate> done) {
          EXPECT_EQ(&n, &name_);
          EXPECT_EQ(&req, &get_);
          ctx->AddAttempt();
          ++gets_.calls;
          gets_.dones.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, CreateCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext> ctx,
                               const ParentName& p,
                               const v1::CreateCertificateRequest& req,
                               Done<v1::Certificate> done) {
          EXPECT_EQ(&p, &parent_);
          EXPECT_EQ(&req, &create_);
          ctx->AddAttempt();
          ++creates_.calls;
          creates_.dones.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, UpdateCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext> ctx,
                               const CertificateName&,
                               const v1::UpdateCertificateRequest&,
                               Done<v1::Certificate> done) {
          ctx->AddAttempt();
          ++updates_.calls;
          updates_.dones.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, DeleteCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext> ctx,
                               const CertificateName&,
                               const v1::DeleteCertificateRequest&,
                               Done<v1::DeleteCertificateResponse> done) {
          ctx->AddAttempt();
          ++deletes_.calls;
          deletes_.dones.push_back(std::move(done));
        });
  }

  std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r-1");
  }

  RetryConfig retry_;
  RetryBudgetConfig budget_;
  std::mt19937 gen_{kSeed};
  testing::FakeTransport transport_;
  std::shared_ptr<RecordingObserver> observer_ =
      std::make_shared<RecordingObserver>();
  StrictMock<testing::MockBackendStub>* inner_ = nullptr;
  std::unique_ptr<RetryingStub> stub_;
  Held<v1::Certificate> gets_, creates_, updates_;
  Held<v1::DeleteCertificateResponse> deletes_;
  const CertificateName& name_ = testing::KeptName(kName);
  const ParentName& parent_ = testing::KeptParent(kParent);
  v1::GetCertificateRequest get_;
  v1::CreateCertificateRequest create_;
  v1::UpdateCertificateRequest update_;
  v1::DeleteCertificateRequest delete_;
};

TEST_F(RetryingStubTest, RetriesAfterATimerWithTheBackoffPolicysDelay) {
  Make();
  // The same policy over an identically seeded generator: the delays the
  // stub must wait, in order.
  std::mt19937 twin_gen{kSeed};
  ExponentialBackoffPolicy twin(retry_, Seeded(&twin_gen));
  const absl::Duration d1 = twin.OnCompletion(std::nullopt);
  const absl::Duration d2 = twin.OnCompletion(std::nullopt);

  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(ctx, name_, get_, out.Callback());
  ASSERT_EQ(gets_.calls, 1);
  gets_.Complete(Http(503));
  EXPECT_FALSE(out.result.has_value());
  EXPECT_EQ(gets_.calls, 1) << "retried without waiting";
  ASSERT_EQ(transport_.pending_timers(), 1u);
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_EQ(gets_.calls, 2);
  gets_.Complete(Transport(TransportErrorKind::kTimeout, true));
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_EQ(gets_.calls, 3);
  gets_.Complete(Cert("got"));

  ASSERT_TRUE(out.result.has_value());
  ASSERT_TRUE(out.result->ok()) << out.result->status();
  EXPECT_EQ((*out.result)->name(), "got");
  EXPECT_EQ(transport_.scheduled_delays(),
            std::vector<absl::Duration>({d1, d2}));
  ASSERT_EQ(observer_->retries.size(), 2u);
  const RecordingObserver::Retry& first = observer_->retries[0];
  EXPECT_EQ(first.operation, Operation::kGet);
  EXPECT_EQ(first.reason, reason::kBackendUnavailable);
  EXPECT_EQ(first.delay, d1);
  EXPECT_EQ(first.attempts, 1);
  EXPECT_EQ(first.request_id, "r-1");
  EXPECT_EQ(observer_->retries[1].reason, reason::kBackendTimeout);
  EXPECT_EQ(observer_->retries[1].attempts, 2);
}

TEST_F(RetryingStubTest, GivesTheBackendsRetryAfterToTheBackoffPolicy) {
  auto seen = std::make_shared<std::vector<std::optional<absl::Duration>>>();
  Make(std::make_unique<RecordingBackoff>(seen));
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(Context(), name_, get_, out.Callback());
  gets_.Complete(Http(503, Operation::kGet, absl::Seconds(2)));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(Http(500));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(Cert("got"));
  ASSERT_TRUE(out.result.has_value());
  EXPECT_TRUE(out.result->ok());
  EXPECT_EQ(*seen, (std::vector<std::optional<absl::Duration>>{absl::Seconds(2),
                                                               std::nullopt}));
  EXPECT_EQ(transport_.scheduled_delays(),
            std::vector<absl::Duration>(2, absl::Milliseconds(7)));
}

TEST_F(RetryingStubTest, StopsAtMaxAttemptsWithTheLastErrorAndMetadata) {
  Make();
  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(ctx, name_, get_, out.Callback());
  gets_.Complete(Http(503));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(Http(502));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(Http(500));
  ASSERT_TRUE(out.result.has_value());
  const absl::Status s = out.result->status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(Reason(s), reason::kBackendInternalError);
  EXPECT_EQ(Metadata(s, metadata::kHttpStatus), "500");
  EXPECT_EQ(Metadata(s, metadata::kBackend), kBackend);
  EXPECT_EQ(Metadata(s, metadata::kAttempts), "3");
  EXPECT_EQ(gets_.calls, 3);
  EXPECT_EQ(transport_.pending_timers(), 0u);
  EXPECT_EQ(observer_->retries.size(), 2u);
}

TEST_F(RetryingStubTest, EachCallStartsWithFreshPolicies) {
  Make();
  for (int call = 0; call < 2; ++call) {
    SCOPED_TRACE(call);
    Outcome<v1::Certificate> out;
    const std::size_t timers_before = transport_.scheduled_delays().size();
    stub_->UpdateCertificate(Context(), name_, update_, out.Callback());
    updates_.Complete(Http(503, Operation::kUpdate));
    ASSERT_TRUE(transport_.FireTimer());
    updates_.Complete(Http(503, Operation::kUpdate));
    ASSERT_TRUE(transport_.FireTimer());
    updates_.Complete(Http(503, Operation::kUpdate));
    ASSERT_TRUE(out.result.has_value());
    EXPECT_EQ(Metadata(out.result->status(), metadata::kAttempts), "3");
    // The first wait of every call is bounded by the first step's ceiling.
    ASSERT_EQ(transport_.scheduled_delays().size(), timers_before + 2);
    EXPECT_LE(transport_.scheduled_delays()[timers_before],
              retry_.initial_backoff);
  }
  EXPECT_EQ(updates_.calls, 6);
}

TEST_F(RetryingStubTest, CreateIsNotRetriedOnceTheRequestMayHaveLeft) {
  Make();
  for (const absl::Status& failure :
       {Http(503, Operation::kCreate),
        Transport(TransportErrorKind::kTimeout, true),
        Transport(TransportErrorKind::kConnectionReset, true)}) {
    SCOPED_TRACE(failure.ToString());
    auto ctx = Context();
    Outcome<v1::Certificate> out;
    const int before = creates_.calls;
    stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
    creates_.Complete(failure);
    ASSERT_TRUE(out.result.has_value());
    EXPECT_EQ(out.result->status().code(), failure.code());
    EXPECT_EQ(Reason(out.result->status()), Reason(failure));
    EXPECT_EQ(creates_.calls, before + 1);
    EXPECT_EQ(transport_.pending_timers(), 0u);
    EXPECT_TRUE(ctx->outcome_unknown());
  }
  // A Create that provably never left is retried.
  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
  creates_.Complete(Transport(TransportErrorKind::kConnectFailed, false));
  ASSERT_TRUE(transport_.FireTimer());
  creates_.Complete(Cert("made"));
  ASSERT_TRUE(out.result.has_value());
  ASSERT_TRUE(out.result->ok()) << out.result->status();
  EXPECT_FALSE(ctx->outcome_unknown());
  EXPECT_EQ(creates_.calls, 5);
}

TEST_F(RetryingStubTest, StopsWhenTheRetryBudgetIsExhausted) {
  // Retries stop once tokens <= 1.5: one failure leaves 2, two leave 1.
  budget_.max_tokens = 3;
  Make();
  Outcome<v1::Certificate> first;
  stub_->GetCertificate(Context(), name_, get_, first.Callback());
  gets_.Complete(Http(503));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(Http(502));
  ASSERT_TRUE(first.result.has_value()) << "retried past the budget";
  EXPECT_EQ(Metadata(first.result->status(), metadata::kHttpStatus), "502");
  EXPECT_EQ(Metadata(first.result->status(), metadata::kAttempts), "2");
  EXPECT_EQ(observer_->throttled, 1);
  EXPECT_EQ(transport_.pending_timers(), 0u);
  // The budget is the backend's, not the call's: the next call's first
  // failure is not retried either.
  Outcome<v1::Certificate> second;
  stub_->GetCertificate(Context(), name_, get_, second.Callback());
  gets_.Complete(Http(503));
  ASSERT_TRUE(second.result.has_value());
  EXPECT_EQ(second.result->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(observer_->throttled, 2);
  EXPECT_EQ(gets_.calls, 3);
  EXPECT_EQ(stub_->budget().tokens(), 0);
}

TEST_F(RetryingStubTest, MarksTheCallWhenAnAttemptsOutcomeIsUnknown) {
  Make();
  {
    SCOPED_TRACE("a 503 that a retry then overcomes");
    auto ctx = Context();
    Outcome<v1::Certificate> out;
    stub_->GetCertificate(ctx, name_, get_, out.Callback());
    gets_.Complete(Http(503));
    EXPECT_TRUE(ctx->outcome_unknown());
    ASSERT_TRUE(transport_.FireTimer());
    gets_.Complete(Cert("got"));
    ASSERT_TRUE(out.result.has_value());
    EXPECT_TRUE(out.result->ok());
    EXPECT_TRUE(ctx->outcome_unknown()) << "the mark stays for the call";
  }
  {
    SCOPED_TRACE("never sent, then an answer");
    auto ctx = Context();
    Outcome<v1::Certificate> out;
    stub_->GetCertificate(ctx, name_, get_, out.Callback());
    gets_.Complete(Transport(TransportErrorKind::kConnectFailed, false));
    ASSERT_TRUE(transport_.FireTimer());
    gets_.Complete(Http(404));
    ASSERT_TRUE(out.result.has_value());
    EXPECT_EQ(out.result->status().code(), absl::StatusCode::kNotFound);
    EXPECT_FALSE(ctx->outcome_unknown());
  }
  {
    SCOPED_TRACE("a Create cut short after it was sent");
    auto ctx = Context();
    Outcome<v1::Certificate> out;
    stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
    creates_.Complete(Transport(TransportErrorKind::kCancelled, true));
    ASSERT_TRUE(out.result.has_value());
    EXPECT_EQ(out.result->status().code(), absl::StatusCode::kCancelled);
    EXPECT_TRUE(ctx->outcome_unknown());
  }
  {
    SCOPED_TRACE("a Create the backend refused");
    auto ctx = Context();
    Outcome<v1::Certificate> out;
    stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
    creates_.Complete(Http(400, Operation::kCreate));
    ASSERT_TRUE(out.result.has_value());
    EXPECT_FALSE(ctx->outcome_unknown());
  }
}

TEST_F(RetryingStubTest, DeleteNotFoundAfterAnUnknownOutcomeIsDone) {
  Make();
  auto ctx = Context();
  Outcome<v1::DeleteCertificateResponse> out;
  stub_->DeleteCertificate(ctx, name_, delete_, out.Callback());
  deletes_.Complete(Transport(TransportErrorKind::kConnectionReset, true));
  ASSERT_TRUE(transport_.FireTimer());
  deletes_.Complete(Http(404, Operation::kDelete));
  ASSERT_TRUE(out.result.has_value());
  ASSERT_TRUE(out.result->ok()) << out.result->status();
  EXPECT_EQ((*out.result)->name(), kName);
  EXPECT_EQ(deletes_.calls, 2);

  // Without an attempt that may have deleted it, not found is not found.
  Outcome<v1::DeleteCertificateResponse> plain;
  stub_->DeleteCertificate(Context(), name_, delete_, plain.Callback());
  deletes_.Complete(Http(404, Operation::kDelete));
  ASSERT_TRUE(plain.result.has_value());
  EXPECT_EQ(plain.result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Reason(plain.result->status()), reason::kCertificateNotFound);
  EXPECT_EQ(Metadata(plain.result->status(), metadata::kAttempts), "1");
}

TEST_F(RetryingStubTest, CreateAlreadyExistsAfterAnUnknownOutcomeIsReadBack) {
  Make();
  const absl::Status conflict = Http(409, Operation::kCreate);
  ASSERT_EQ(conflict.code(), absl::StatusCode::kAlreadyExists);
  // An earlier call with this request_id may have created it (the
  // request_id layer above marks the call so).
  auto ctx = Context();
  ctx->MarkOutcomeUnknown();
  Done<v1::Certificate> recover_done;
  EXPECT_CALL(*inner_, RecoverCreate(ctx, _, _, conflict, _))
      .WillOnce([&](std::shared_ptr<CallContext>, const ParentName& p,
                    const v1::CreateCertificateRequest& req, absl::Status,
                    Done<v1::Certificate> done) {
        EXPECT_EQ(&p, &parent_);
        EXPECT_EQ(&req, &create_);
        recover_done = std::move(done);
      });
  Outcome<v1::Certificate> out;
  stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
  creates_.Complete(conflict);
  EXPECT_FALSE(out.result.has_value()) << "did not wait for the read-back";
  ASSERT_TRUE(recover_done);
  recover_done(Cert("read back"));
  ASSERT_TRUE(out.result.has_value());
  ASSERT_TRUE(out.result->ok()) << out.result->status();
  EXPECT_EQ((*out.result)->name(), "read back");
  EXPECT_EQ(creates_.calls, 1);
}

TEST_F(RetryingStubTest, ReadBackThatKeepsTheConflictReturnsItWithMetadata) {
  Make();
  const absl::Status conflict = Http(409, Operation::kCreate);
  auto ctx = Context();
  ctx->MarkOutcomeUnknown();
  EXPECT_CALL(*inner_, RecoverCreate(ctx, _, _, conflict, _))
      .WillOnce([](std::shared_ptr<CallContext>, const ParentName&,
                   const v1::CreateCertificateRequest&, absl::Status c,
                   Done<v1::Certificate> done) { done(std::move(c)); });
  Outcome<v1::Certificate> out;
  stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
  creates_.Complete(conflict);
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.result->status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Metadata(out.result->status(), metadata::kAttempts), "1");
}

TEST_F(RetryingStubTest, CreateAlreadyExistsWithoutAnUnknownOutcomeStands) {
  Make();
  // StrictMock: a RecoverCreate here fails the test.
  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->CreateCertificate(ctx, parent_, create_, out.Callback());
  creates_.Complete(Http(409, Operation::kCreate));
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.result->status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Reason(out.result->status()), reason::kCertificateAlreadyExists);
}

TEST_F(RetryingStubTest, CancelDuringBackoffEndsTheCallCancelled) {
  Make();
  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(ctx, name_, get_, out.Callback());
  gets_.Complete(Http(503));
  ASSERT_EQ(transport_.pending_timers(), 1u);
  ctx->Cancel();
  EXPECT_EQ(transport_.pending_timers(), 0u) << "the timer was not cancelled";
  ASSERT_TRUE(out.result.has_value());
  const absl::Status s = out.result->status();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_EQ(Reason(s), reason::kCancelled);
  EXPECT_EQ(Metadata(s, metadata::kBackend), kBackend);
  EXPECT_EQ(Metadata(s, metadata::kAttempts), "1");
  EXPECT_EQ(gets_.calls, 1);
}

TEST_F(RetryingStubTest, FailureAfterCancelDuringAnAttemptIsNotRetried) {
  Make();
  auto ctx = Context();
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(ctx, name_, get_, out.Callback());
  ctx->Cancel();
  gets_.Complete(Http(503));
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(Reason(out.result->status()), reason::kBackendUnavailable);
  EXPECT_EQ(transport_.pending_timers(), 0u);
  EXPECT_EQ(gets_.calls, 1);
}

TEST_F(RetryingStubTest, CircuitOpenMidRetryReturnsTheBackendsLastError) {
  Make();
  Outcome<v1::Certificate> out;
  stub_->GetCertificate(Context(), name_, get_, out.Callback());
  gets_.Complete(Http(503));
  ASSERT_TRUE(transport_.FireTimer());
  gets_.Complete(CircuitOpen());
  ASSERT_TRUE(out.result.has_value());
  const absl::Status s = out.result->status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(Reason(s), reason::kBackendUnavailable);
  EXPECT_EQ(Metadata(s, metadata::kHttpStatus), "503");
  EXPECT_EQ(Metadata(s, metadata::kAttempts), "2");
  EXPECT_EQ(transport_.pending_timers(), 0u);

  // On the first attempt there is no backend error: the open circuit it is.
  Outcome<v1::Certificate> first;
  stub_->GetCertificate(Context(), name_, get_, first.Callback());
  gets_.Complete(CircuitOpen());
  ASSERT_TRUE(first.result.has_value());
  EXPECT_EQ(Reason(first.result->status()), reason::kBackendCircuitOpen);
  EXPECT_TRUE(GetRetryDelay(first.result->status()).has_value());
  EXPECT_EQ(gets_.calls, 3);
}

}  // namespace
}  // namespace certbridge

// IdempotentCreateStub alone over a mock stub and a real IdempotencyStore:
// replay of an answered Create, joining a repeat to the running first call,
// a different request under the same id, the outcome_unknown mark carried
// from one call to its repeat, and the methods that pass straight through.
#include "server/backends/idempotent_create_stub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/backends/memory_idempotency_store.h"
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
using DeleteResult = absl::StatusOr<v1::DeleteCertificateResponse>;

constexpr char kName[] =
    "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kParent[] = "backends/lee";
constexpr char kRequestId[] = "0b8f1c52-6f57-4f55-b2a5-3c1f7f5e2a10";

absl::Status Http(int status) {
  HttpErrorInput in;
  in.kind = "vendor";
  in.operation = Operation::kCreate;
  in.backend = "lee";
  in.http_status = status;
  return MapHttpError(in);
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

v1::CreateCertificateRequest Create(const std::string& parent,
                                    const std::string& request_id,
                                    const std::string& content = "p12") {
  v1::CreateCertificateRequest r;
  r.set_parent(parent);
  r.set_request_id(request_id);
  r.mutable_certificate()->mutable_leegality()->set_pkcs12_file(content);
  return r;
}

/// A caller's completion: keeps the result, fails on a second call.
struct Outcome {
  std::optional<Result> result;
  int completions = 0;
  Done<v1::Certificate> Callback() {
    return [this](Result r) {
      if (++completions > 1) ADD_FAILURE() << "done ran twice";
      result = std::move(r);
    };
  }
};

class IdempotentCreateStubTest : public ::testing::Test {
 protected:
  struct Call {
    std::shared_ptr<CallContext> ctx;
    bool outcome_unknown_at_start;
    Done<v1::Certificate> done;
  };

  IdempotentCreateStubTest() {
    auto inner = std::make_unique<StrictMock<testing::MockBackendStub>>();
    inner_ = inner.get();
    stub_ = std::make_unique<IdempotentCreateStub>(std::move(inner), store_);
    EXPECT_CALL(*inner_, CreateCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext> ctx,
                               const ParentName&,
                               const v1::CreateCertificateRequest&,
                               Done<v1::Certificate> done) {
          const bool unknown = ctx->outcome_unknown();
          creates_.push_back({std::move(ctx), unknown, std::move(done)});
          ++inner_creates_;
        });
  }

  void TearDown() override {
    EXPECT_TRUE(creates_.empty()) << "an inner call was never completed";
  }

  std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r");
  }

  /// Completes the oldest inner Create; `mark_unknown` first does what the
  /// retry layer below does when an attempt may have been applied.
  void Complete(Result r, bool mark_unknown = false) {
    ASSERT_FALSE(creates_.empty()) << "no inner Create is waiting";
    Call call = std::move(creates_.front());
    creates_.pop_front();
    if (mark_unknown) call.ctx->MarkOutcomeUnknown();
    call.done(std::move(r));
  }

  void Start(const v1::CreateCertificateRequest& req, Outcome& out,
             std::shared_ptr<CallContext> ctx = nullptr) {
    if (ctx == nullptr) ctx = Context();
    stub_->CreateCertificate(ctx, testing::KeptParent(req.parent()), req,
                             out.Callback());
  }

  testing::FakeClock clock_;
  MemoryIdempotencyStore store_{IdempotencyConfig{}, clock_};
  StrictMock<testing::MockBackendStub>* inner_ = nullptr;
  std::unique_ptr<IdempotentCreateStub> stub_;
  std::deque<Call> creates_;
  int inner_creates_ = 0;
};

TEST_F(IdempotentCreateStubTest, ReplaysAnAnsweredCreateWithoutTheInnerStub) {
  const auto req = Create(kParent, kRequestId);
  Outcome first, repeat;
  Start(req, first);
  ASSERT_EQ(inner_creates_, 1);
  Complete(Cert("made"));
  ASSERT_TRUE(first.result && first.result->ok());
  Start(req, repeat);
  EXPECT_EQ(inner_creates_, 1) << "the repeat was sent again";
  ASSERT_TRUE(repeat.result.has_value());
  ASSERT_TRUE(repeat.result->ok()) << repeat.result->status();
  EXPECT_EQ((*repeat.result)->name(), "made");

  // A refusal about the request itself is an answer too.
  const auto other = Create(kParent, "another-id");
  Outcome refused, refused_again;
  Start(other, refused);
  Complete(Http(400));
  Start(other, refused_again);
  EXPECT_EQ(inner_creates_, 2);
  ASSERT_TRUE(refused.result && refused_again.result);
  EXPECT_EQ(refused_again.result->status(), refused.result->status());
  EXPECT_EQ(Reason(refused_again.result->status()),
            reason::kBackendRejectedRequest);
}

TEST_F(IdempotentCreateStubTest, ARepeatWhileTheFirstRunsGetsItsResult) {
  const auto req = Create(kParent, kRequestId);
  Outcome first, repeat;
  Start(req, first);
  Start(req, repeat);
  EXPECT_EQ(inner_creates_, 1) << "the repeat did not wait";
  EXPECT_FALSE(first.result.has_value());
  EXPECT_FALSE(repeat.result.has_value());
  Complete(Cert("made"));
  ASSERT_TRUE(first.result && first.result->ok());
  ASSERT_TRUE(repeat.result.has_value());
  ASSERT_TRUE(repeat.result->ok()) << repeat.result->status();
  EXPECT_EQ((*repeat.result)->name(), "made");
  EXPECT_EQ(repeat.completions, 1);
}

TEST_F(IdempotentCreateStubTest, ADifferentRequestUnderTheSameIdIsRefused) {
  const auto req = Create(kParent, kRequestId);
  const auto different = Create(kParent, kRequestId, "other p12");
  Outcome first, while_running, after;
  Start(req, first);
  Start(different, while_running);
  ASSERT_TRUE(while_running.result.has_value());
  Complete(Cert("made"));
  Start(different, after);
  EXPECT_EQ(inner_creates_, 1);
  for (const Outcome* o : {&while_running, &after}) {
    ASSERT_TRUE(o->result.has_value());
    const absl::Status s = o->result->status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(Reason(s), reason::kInvalidArgument);
    const auto violations = GetFieldViolations(s);
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, "request_id");
  }
  ASSERT_TRUE(first.result && first.result->ok());
}

TEST_F(IdempotentCreateStubTest, AnUnknownOutcomeLetsTheRepeatProceedMarked) {
  const auto req = Create(kParent, kRequestId);
  Outcome first;
  Start(req, first);
  ASSERT_EQ(creates_.size(), 1u);
  EXPECT_FALSE(creates_.front().outcome_unknown_at_start);
  Complete(Http(503), /*mark_unknown=*/true);
  ASSERT_TRUE(first.result.has_value());
  EXPECT_EQ(first.result->status().code(), absl::StatusCode::kUnavailable);

  // The repeat is sent, on a fresh call already marked, so the layers below
  // may recover ("already exists" read back).
  auto ctx = Context();
  Outcome repeat;
  Start(req, repeat, ctx);
  ASSERT_EQ(inner_creates_, 2);
  ASSERT_EQ(creates_.size(), 1u);
  EXPECT_TRUE(creates_.front().outcome_unknown_at_start);
  EXPECT_TRUE(ctx->outcome_unknown());
  Complete(Cert("read back"));
  ASSERT_TRUE(repeat.result && repeat.result->ok());

  // Now answered: replayed.
  Outcome third;
  Start(req, third);
  EXPECT_EQ(inner_creates_, 2);
  ASSERT_TRUE(third.result && third.result->ok());
  EXPECT_EQ((*third.result)->name(), "read back");
}

TEST_F(IdempotentCreateStubTest, AFailureBeforeTheBackendIsForgotten) {
  const auto req = Create(kParent, kRequestId);
  Outcome first, repeat;
  Start(req, first);
  Complete(MapTransportError(
      TransportError{TransportErrorKind::kConnectFailed, false, "refused"},
      "lee", false));
  EXPECT_EQ(store_.size(), 0u);
  Start(req, repeat);
  ASSERT_EQ(inner_creates_, 2) << "a failure that never left was replayed";
  EXPECT_FALSE(creates_.front().outcome_unknown_at_start);
  Complete(Cert("made"));
  ASSERT_TRUE(repeat.result && repeat.result->ok());
}

TEST_F(IdempotentCreateStubTest, WithoutARequestIdEveryCreateIsSent) {
  const auto req = Create(kParent, "");
  Outcome a, b;
  Start(req, a);
  Complete(Cert("one"));
  Start(req, b);
  Complete(Cert("two"));
  EXPECT_EQ(inner_creates_, 2);
  EXPECT_EQ(store_.size(), 0u);
  ASSERT_TRUE(b.result && b.result->ok());
  EXPECT_EQ((*b.result)->name(), "two");
}

TEST_F(IdempotentCreateStubTest, TheSameIdUnderAnotherParentIsAnotherCall) {
  Outcome a, b;
  Start(Create("backends/lee/projects/one", kRequestId), a);
  Complete(Cert("one"));
  Start(Create("backends/lee/projects/two", kRequestId), b);
  ASSERT_EQ(inner_creates_, 2);
  Complete(Cert("two"));
  ASSERT_TRUE(b.result && b.result->ok());
  EXPECT_EQ((*b.result)->name(), "two");
}

// Issue 12 finding: the key uses the parsed parent "so that two spellings of
// one parent share ids", and the fingerprint once hashed the raw parent
// text, so a repeat spelling the parent differently (a %-escaped segment)
// was refused as "a different CreateCertificate request" instead of being
// replayed.
TEST_F(IdempotentCreateStubTest, AnotherSpellingOfTheParentIsTheSameRequest) {
  const auto plain = Create("backends/lee/projects/pA", kRequestId);
  const auto escaped = Create("backends/lee/projects/p%41", kRequestId);
  ASSERT_EQ(FormatParentName(testing::KeptParent(plain.parent())),
            FormatParentName(testing::KeptParent(escaped.parent())));
  Outcome first, repeat;
  Start(plain, first);
  Complete(Cert("made"));
  Start(escaped, repeat);
  EXPECT_EQ(inner_creates_, 1);
  ASSERT_TRUE(repeat.result.has_value());
  ASSERT_TRUE(repeat.result->ok()) << repeat.result->status();
  EXPECT_EQ((*repeat.result)->name(), "made");
}

TEST_F(IdempotentCreateStubTest, GetUpdateAndDeletePassStraightThrough) {
  const CertificateName& name = testing::KeptName(kName);
  v1::GetCertificateRequest get;
  get.set_name(kName);
  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(kName);
  v1::DeleteCertificateRequest del;
  del.set_name(kName);
  // One instance: separately built statuses may serialize their ErrorInfo
  // metadata in another order.
  const absl::Status conflict = Http(409);
  auto ctx = Context();
  EXPECT_CALL(*inner_, GetCertificate(ctx, _, _, _))
      .Times(2)
      .WillRepeatedly(
          [&](std::shared_ptr<CallContext>, const CertificateName& n,
              const v1::GetCertificateRequest& r, Done<v1::Certificate> done) {
            EXPECT_EQ(&n, &name);
            EXPECT_EQ(&r, &get);
            done(Cert("got"));
          });
  EXPECT_CALL(*inner_, UpdateCertificate(ctx, _, _, _))
      .WillOnce([&](std::shared_ptr<CallContext>, const CertificateName& n,
                    const v1::UpdateCertificateRequest& r,
                    Done<v1::Certificate> done) {
        EXPECT_EQ(&n, &name);
        EXPECT_EQ(&r, &update);
        done(conflict);
      });
  EXPECT_CALL(*inner_, DeleteCertificate(ctx, _, _, _))
      .WillOnce([&](std::shared_ptr<CallContext>, const CertificateName& n,
                    const v1::DeleteCertificateRequest& r,
                    Done<v1::DeleteCertificateResponse> done) {
        EXPECT_EQ(&n, &name);
        EXPECT_EQ(&r, &del);
        v1::DeleteCertificateResponse resp;
        resp.set_name("deleted");
        done(resp);
      });
  for (int i = 0; i < 2; ++i) {
    Outcome got;
    stub_->GetCertificate(ctx, name, get, got.Callback());
    ASSERT_TRUE(got.result && got.result->ok());
    EXPECT_EQ((*got.result)->name(), "got");
  }
  Outcome updated;
  stub_->UpdateCertificate(ctx, name, update, updated.Callback());
  ASSERT_TRUE(updated.result.has_value());
  EXPECT_EQ(updated.result->status(), conflict);
  std::optional<DeleteResult> deleted;
  stub_->DeleteCertificate(ctx, name, del,
                           [&](DeleteResult r) { deleted = std::move(r); });
  ASSERT_TRUE(deleted && deleted->ok());
  EXPECT_EQ((*deleted)->name(), "deleted");
  EXPECT_EQ(store_.size(), 0u);
}

// A shared store answers over the network: later, on its own thread.
// ParkedStore holds each of the memory store's answers until the test
// releases it, so the stub is seen waiting on its store.
class ParkedStore final : public IdempotencyStore {
 public:
  explicit ParkedStore(IdempotencyStore& real) : real_(real) {}
  std::uint64_t Begin(const std::string& key, const Fingerprint& fingerprint,
                      absl::Time deadline, AdmissionDone done) override {
    if (!fail_with.ok()) {
      parked_.push_back(
          [done = std::move(done), s = fail_with]() mutable { done(s); });
      return 0;
    }
    auto shared = std::make_shared<AdmissionDone>(std::move(done));
    return real_.Begin(
        key, fingerprint, deadline,
        [this, shared](absl::StatusOr<Admission> a) {
          parked_.push_back([shared, a = std::move(a)]() mutable {
            (*shared)(std::move(a));
          });
        });
  }
  void Cancel(const std::string& key, std::uint64_t handle) override {
    real_.Cancel(key, handle);
  }
  void Finish(const std::string& key, std::uint64_t claim, const Result& result,
              Outcome outcome, absl::AnyInvocable<void()> then) override {
    auto shared = std::make_shared<absl::AnyInvocable<void()>>(std::move(then));
    real_.Finish(key, claim, result, outcome, [this, shared] {
      parked_.push_back([shared] { (*shared)(); });
    });
  }
  /// Delivers the oldest parked answer.
  void Release() {
    ASSERT_FALSE(parked_.empty());
    auto next = std::move(parked_.front());
    parked_.pop_front();
    next();
  }
  std::size_t parked() const { return parked_.size(); }
  absl::Status fail_with = absl::OkStatus();

 private:
  IdempotencyStore& real_;
  std::deque<absl::AnyInvocable<void()>> parked_;
};

TEST(IdempotentCreateStubAsyncTest, TheCallWaitsForItsStoreNotOnIt) {
  testing::FakeClock clock;
  MemoryIdempotencyStore memory(IdempotencyConfig{}, clock);
  ParkedStore store(memory);
  auto owned = std::make_unique<StrictMock<testing::MockBackendStub>>();
  auto* inner = owned.get();
  IdempotentCreateStub stub(std::move(owned), store);
  Done<v1::Certificate> inner_done;
  EXPECT_CALL(*inner, CreateCertificate(_, _, _, _))
      .WillOnce(
          [&](std::shared_ptr<CallContext>, const ParentName&,
              const v1::CreateCertificateRequest&,
              Done<v1::Certificate> done) { inner_done = std::move(done); });
  const auto req = Create(kParent, kRequestId);
  const ParentName parent = testing::KeptParent(req.parent());
  Outcome first, repeat;
  auto ctx = std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r");
  stub.CreateCertificate(ctx, parent, req, first.Callback());
  // CreateCertificate returned although the store has not answered, and
  // nothing was sent before it did.
  ASSERT_EQ(store.parked(), 1u);
  EXPECT_FALSE(inner_done);
  store.Release();
  ASSERT_TRUE(inner_done) << "admitted, but not sent";
  inner_done(Cert("made"));
  // The caller hears back once the outcome is recorded, so a repeat that
  // arrives after the answer finds it rather than a running call.
  EXPECT_FALSE(first.result.has_value());
  ASSERT_EQ(store.parked(), 1u);
  store.Release();
  ASSERT_TRUE(first.result && first.result->ok());
  stub.CreateCertificate(ctx, parent, req, repeat.Callback());
  store.Release();
  ASSERT_TRUE(repeat.result && repeat.result->ok());
  EXPECT_EQ((*repeat.result)->name(), "made");
}

// A shared store that cannot decide fails the Create closed: it is not
// sent, and the caller learns why.
TEST(IdempotentCreateStubAsyncTest, AStoreFailureFailsTheCreateUnsent) {
  testing::FakeClock clock;
  MemoryIdempotencyStore memory(IdempotencyConfig{}, clock);
  ParkedStore store(memory);
  store.fail_with = absl::UnavailableError("store unreachable");
  IdempotentCreateStub stub(
      std::make_unique<StrictMock<testing::MockBackendStub>>(), store);
  const auto req = Create(kParent, kRequestId);
  Outcome out;
  stub.CreateCertificate(
      std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r"),
      testing::KeptParent(req.parent()), req, out.Callback());
  store.Release();
  ASSERT_TRUE(out.result.has_value());
  EXPECT_EQ(out.result->status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace certbridge

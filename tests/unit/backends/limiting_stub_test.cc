// LimitingStub alone over a mock stub: the call past the limit fails fast
// without reaching the stub below, a slot is held until the call completes
// and then released, and the observer sees calls in flight come and go.
#include "server/backends/limiting_stub.h"

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
#include "tests/testing/mock_backend_stub.h"
#include "tests/testing/names.h"

namespace certbridge {
namespace {

using ::testing::_;
using ::testing::StrictMock;
using Result = absl::StatusOr<v1::Certificate>;
using DeleteResult = absl::StatusOr<v1::DeleteCertificateResponse>;

constexpr char kName[] =
    "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kParent[] = "backends/lee";

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
  void OnInflight(int delta) override { inflight.push_back(delta); }
  void OnRejected(absl::string_view reason) override {
    rejected.emplace_back(reason);
  }
  std::vector<int> inflight;
  std::vector<std::string> rejected;
};

class LimitingStubTest : public ::testing::Test {
 protected:
  LimitingStubTest() {
    get_.set_name(kName);
    create_.set_parent(kParent);
    update_.mutable_certificate()->set_name(kName);
    delete_.set_name(kName);
  }

  void TearDown() override {
    EXPECT_TRUE(held_.empty() && held_deletes_.empty())
        << "an inner call was never completed";
    if (stub_ != nullptr) {
      EXPECT_EQ(stub_->limiter().in_flight(), 0);
    }
  }

  void Make(int limit) {
    auto inner = std::make_unique<StrictMock<testing::MockBackendStub>>();
    inner_ = inner.get();
    stub_ = std::make_unique<LimitingStub>("lee", limit, std::move(inner),
                                           observer_);
    EXPECT_CALL(*inner_, GetCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext>,
                               const CertificateName&,
                               const v1::GetCertificateRequest&,
                               Done<v1::Certificate> done) {
          ++inner_calls_;
          held_.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, CreateCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext>, const ParentName&,
                               const v1::CreateCertificateRequest&,
                               Done<v1::Certificate> done) {
          ++inner_calls_;
          held_.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, UpdateCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext>,
                               const CertificateName&,
                               const v1::UpdateCertificateRequest&,
                               Done<v1::Certificate> done) {
          ++inner_calls_;
          held_.push_back(std::move(done));
        });
    EXPECT_CALL(*inner_, DeleteCertificate(_, _, _, _))
        .WillRepeatedly([this](std::shared_ptr<CallContext>,
                               const CertificateName&,
                               const v1::DeleteCertificateRequest&,
                               Done<v1::DeleteCertificateResponse> done) {
          ++inner_calls_;
          held_deletes_.push_back(std::move(done));
        });
  }

  std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Hours(1), "r");
  }

  /// Starts a Get; its result lands in `out`.
  void StartGet(std::optional<Result>& out) {
    stub_->GetCertificate(Context(), name_, get_,
                          [&out](Result r) { out = std::move(r); });
  }

  void CompleteOldest(Result r) {
    ASSERT_FALSE(held_.empty());
    Done<v1::Certificate> done = std::move(held_.front());
    held_.pop_front();
    done(std::move(r));
  }

  void ExpectOverloaded(const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
    EXPECT_EQ(Reason(s), reason::kBackendOverloaded) << s;
    auto info = GetErrorInfo(s);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->metadata[metadata::kBackend], "lee");
  }

  std::shared_ptr<RecordingObserver> observer_ =
      std::make_shared<RecordingObserver>();
  StrictMock<testing::MockBackendStub>* inner_ = nullptr;
  std::unique_ptr<LimitingStub> stub_;
  std::deque<Done<v1::Certificate>> held_;
  std::deque<Done<v1::DeleteCertificateResponse>> held_deletes_;
  int inner_calls_ = 0;
  const CertificateName& name_ = testing::KeptName(kName);
  const ParentName& parent_ = testing::KeptParent(kParent);
  v1::GetCertificateRequest get_;
  v1::CreateCertificateRequest create_;
  v1::UpdateCertificateRequest update_;
  v1::DeleteCertificateRequest delete_;
};

TEST_F(LimitingStubTest, TheCallPastTheLimitFailsFastWithoutTheInnerStub) {
  Make(2);
  std::optional<Result> a, b, c;
  StartGet(a);
  StartGet(b);
  EXPECT_EQ(inner_calls_, 2);
  EXPECT_EQ(stub_->limiter().in_flight(), 2);
  StartGet(c);
  ASSERT_TRUE(c.has_value()) << "the excess call must fail at once";
  ExpectOverloaded(c->status());
  EXPECT_EQ(inner_calls_, 2);
  EXPECT_EQ(observer_->rejected, std::vector<std::string>({"overloaded"}));
  EXPECT_FALSE(a.has_value());
  EXPECT_FALSE(b.has_value());
  CompleteOldest(Cert("a"));
  CompleteOldest(Cert("b"));
  ASSERT_TRUE(a && a->ok() && b && b->ok());
  EXPECT_EQ((*a)->name(), "a");
  EXPECT_EQ((*b)->name(), "b");
}

TEST_F(LimitingStubTest, EveryMethodTakesASlotAndMeetsTheLimit) {
  Make(2);
  auto ctx = Context();
  std::optional<Result> created, updated;
  std::optional<DeleteResult> deleted, deleted_again;
  stub_->CreateCertificate(ctx, parent_, create_,
                           [&](Result r) { created = std::move(r); });
  stub_->DeleteCertificate(ctx, name_, delete_,
                           [&](DeleteResult r) { deleted = std::move(r); });
  stub_->UpdateCertificate(ctx, name_, update_,
                           [&](Result r) { updated = std::move(r); });
  stub_->DeleteCertificate(ctx, name_, delete_, [&](DeleteResult r) {
    deleted_again = std::move(r);
  });
  EXPECT_EQ(inner_calls_, 2);
  ASSERT_TRUE(updated.has_value());
  ExpectOverloaded(updated->status());
  ASSERT_TRUE(deleted_again.has_value());
  ExpectOverloaded(deleted_again->status());
  CompleteOldest(Cert("c"));
  ASSERT_EQ(held_deletes_.size(), 1u);
  Done<v1::DeleteCertificateResponse> done = std::move(held_deletes_.front());
  held_deletes_.pop_front();
  done(absl::NotFoundError("gone"));
  ASSERT_TRUE(created && created->ok());
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LimitingStubTest, TheSlotIsReleasedOnCompletionWhateverTheResult) {
  Make(1);
  std::optional<Result> first, refused;
  StartGet(first);
  StartGet(refused);
  ASSERT_TRUE(refused.has_value());
  ExpectOverloaded(refused->status());
  HttpErrorInput in;
  in.kind = "vendor";
  in.backend = "lee";
  in.http_status = 503;
  const absl::Status failure = MapHttpError(in);
  CompleteOldest(failure);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status(), failure) << "the result is passed unchanged";
  EXPECT_EQ(stub_->limiter().in_flight(), 0);

  // The caller's completion already sees the slot free.
  int in_flight_seen = -1;
  std::optional<Result> next;
  stub_->GetCertificate(Context(), name_, get_, [&](Result r) {
    in_flight_seen = stub_->limiter().in_flight();
    next = std::move(r);
  });
  EXPECT_EQ(inner_calls_, 2) << "the freed slot admits the next call";
  CompleteOldest(Cert("next"));
  ASSERT_TRUE(next && next->ok());
  EXPECT_EQ(in_flight_seen, 0);
}

TEST_F(LimitingStubTest, ReportsCallsInFlightToTheObserver) {
  Make(2);
  std::optional<Result> a, b, c;
  StartGet(a);
  EXPECT_EQ(observer_->inflight, std::vector<int>({+1}));
  StartGet(b);
  StartGet(c);  // refused: not in flight
  EXPECT_EQ(observer_->inflight, std::vector<int>({+1, +1}));
  CompleteOldest(Cert("a"));
  EXPECT_EQ(observer_->inflight, std::vector<int>({+1, +1, -1}));
  CompleteOldest(Cert("b"));
  EXPECT_EQ(observer_->inflight, std::vector<int>({+1, +1, -1, -1}));
  EXPECT_EQ(observer_->rejected.size(), 1u);
}

}  // namespace
}  // namespace certbridge

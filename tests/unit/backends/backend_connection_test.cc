// The retry rules of errors.md through BackendConnection with the real
// Leegality stub over a scripted transport: which failures are retried for
// which method, that waits are transport timers, Retry-After, the deadline,
// the budget, the breaker, the limit, and request_id replay.
#include "server/backends/backend_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/backends/apinizer/apinizer_stub.h"
#include "server/backends/leegality/leegality_stub.h"
#include "server/backends/memory_idempotency_store.h"
#include "server/common/errors.h"
#include "tests/testing/builtin_vendor.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/names.h"
#include "tests/unit/resilience/fake_clock.h"

namespace certbridge {
namespace {

constexpr char kName[] =
    "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kVo[] =
    R"({"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc","name":"n"})";

class BackendConnectionTest : public ::testing::Test {
 protected:
  BackendConnectionTest() {
    config_.name = "lee";
    config_.kind = "leegality";
    config_.base_url = "http://lee.test/api";
    config_.retry.max_attempts = 3;
    config_.circuit_breaker.consecutive_failures = 100;
  }

  std::unique_ptr<BackendConnection> Make() {
    auto stub = std::make_unique<LeegalityStub>(config_, transport_,
                                                MakeStaticTokenSource("t"));
    return std::make_unique<BackendConnection>(
        config_, BuiltinVendor("leegality"), std::move(stub), transport_,
        &store_, nullptr, clock_);
  }

  std::shared_ptr<CallContext> Context(
      absl::Duration timeout = absl::Seconds(30)) {
    return std::make_shared<CallContext>(absl::Now() + timeout, "r");
  }

  template <typename T>
  static Done<T> Capture(std::optional<absl::StatusOr<T>>& out) {
    return [&out](absl::StatusOr<T> r) { out = std::move(r); };
  }

  static v1::GetCertificateRequest Get() {
    v1::GetCertificateRequest r;
    r.set_name(kName);
    return r;
  }

  static v1::CreateCertificateRequest Create(
      const std::string& request_id = "") {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/lee");
    r.set_request_id(request_id);
    r.mutable_certificate()->mutable_leegality()->set_pkcs12_file("p12");
    return r;
  }

  static std::string Reason(const absl::Status& s) {
    auto info = GetErrorInfo(s);
    return info ? info->reason : "";
  }

  BackendConfig config_;
  testing::FakeTransport transport_;
  testing::FakeClock clock_;
  MemoryIdempotencyStore store_{IdempotencyConfig{}, clock_};
};

TEST_F(BackendConnectionTest, GetRetriesTransientFailuresAfterATimer) {
  auto c = Make();
  auto req = Get();
  auto ctx = Context();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(ctx, testing::KeptName(req.name()), req, Capture(out));
  ASSERT_TRUE(transport_.Respond(503, ""));
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(transport_.pending_transfers(), 0u) << "waits, does not resend yet";
  ASSERT_EQ(transport_.pending_timers(), 1u);
  EXPECT_LE(transport_.scheduled_delays()[0], absl::Milliseconds(100));
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_TRUE(transport_.Respond(503, ""));
  ASSERT_TRUE(transport_.FireTimer());
  EXPECT_LE(transport_.scheduled_delays()[1], absl::Milliseconds(200));
  ASSERT_TRUE(transport_.Respond(200, kVo));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ(transport_.requests().size(), 3u);
  EXPECT_EQ(ctx->attempts(), 3);
}

TEST_F(BackendConnectionTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  auto c = Make();
  auto req = Get();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                    Capture(out));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(transport_.Respond(500, ""));
    transport_.FireTimer();
  }
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(out->status())->metadata.at("attempts"), "3");
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(BackendConnectionTest, CreateIsNotRetriedAfterTheRequestMayHaveLeft) {
  auto c = Make();
  auto req = Create();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Respond(503, ""));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.pending_timers(), 0u);
}

TEST_F(BackendConnectionTest, CreateIsRetriedWhenItNeverLeft) {
  auto c = Make();
  auto req = Create();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Complete(
      TransportError{TransportErrorKind::kConnectFailed, false, "refused"}));
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ(transport_.requests().size(), 2u);
}

TEST_F(BackendConnectionTest, RateLimitWaitsAtLeastRetryAfterForAnyMethod) {
  auto c = Make();
  auto req = Create();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Respond(429, "", {{"retry-after", "2"}}));
  ASSERT_EQ(transport_.pending_timers(), 1u);
  EXPECT_GE(transport_.scheduled_delays()[0], absl::Seconds(2));
}

TEST_F(BackendConnectionTest, RetryAfterPastTheDeadlineEndsAtOnce) {
  auto c = Make();
  auto req = Get();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(Context(absl::Seconds(1)), testing::KeptName(req.name()),
                    req, Capture(out));
  ASSERT_TRUE(transport_.Respond(429, "", {{"retry-after", "5"}}));
  ASSERT_TRUE(out.has_value()) << "no timer past the deadline";
  EXPECT_EQ(transport_.pending_timers(), 0u);
  EXPECT_EQ(out->status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetRetryDelay(out->status()), absl::Seconds(5));
}

TEST_F(BackendConnectionTest, CancelDuringBackoffEndsTheCall) {
  auto c = Make();
  auto req = Get();
  auto ctx = Context();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(ctx, testing::KeptName(req.name()), req, Capture(out));
  ASSERT_TRUE(transport_.Respond(503, ""));
  ASSERT_EQ(transport_.pending_timers(), 1u);
  ctx->Cancel();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(transport_.requests().size(), 1u);
}

TEST_F(BackendConnectionTest, DeleteThatMeetsNotFoundAfterAResetIsDone) {
  auto c = Make();
  v1::DeleteCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> out;
  c->DeleteCertificate(Context(), testing::KeptName(req.name()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Complete(
      TransportError{TransportErrorKind::kConnectionReset, true, "reset"}));
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_TRUE(transport_.Respond(
      404,
      R"({"code":"LE_ERR_SS_404","errors":[{"message":"gone","code":"LE_ERR_SS_001"}]})"));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), kName);
}

TEST_F(BackendConnectionTest, DeleteNotFoundWithoutEarlierAttemptIsNotFound) {
  auto c = Make();
  v1::DeleteCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> out;
  c->DeleteCertificate(Context(), testing::KeptName(req.name()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Respond(404, "{}"));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BackendConnectionTest, BudgetStopsRetriesUnderSustainedFailure) {
  config_.retry_budget = {10, 0.1};
  auto c = Make();
  auto req = Get();
  int single_attempt_calls = 0;
  for (int call = 0; call < 10; ++call) {
    std::optional<absl::StatusOr<v1::Certificate>> out;
    auto ctx = Context();
    c->GetCertificate(ctx, testing::KeptName(req.name()), req, Capture(out));
    while (!out.has_value()) {
      if (!transport_.Respond(503, "")) transport_.FireTimer();
    }
    if (ctx->attempts() == 1) ++single_attempt_calls;
  }
  // 10 tokens, -1 per failure, retries only above 5: after the first five
  // failures every call makes one attempt only.
  EXPECT_GE(single_attempt_calls, 7);
  EXPECT_LE(transport_.requests().size(), 15u);
}

TEST_F(BackendConnectionTest, BreakerFailsFastWithoutSending) {
  config_.retry.max_attempts = 1;
  config_.circuit_breaker.consecutive_failures = 2;
  auto c = Make();
  auto req = Get();
  for (int i = 0; i < 2; ++i) {
    std::optional<absl::StatusOr<v1::Certificate>> out;
    c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
    ASSERT_TRUE(transport_.Respond(502, ""));
  }
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                    Capture(out));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(Reason(out->status()), reason::kBackendCircuitOpen);
  EXPECT_TRUE(GetRetryDelay(out->status()).has_value());
  EXPECT_EQ(transport_.requests().size(), 2u);
}

TEST_F(BackendConnectionTest, ConcurrencyLimitRejectsTheExcess) {
  config_.max_concurrent_calls = 2;
  auto c = Make();
  auto req = Get();
  std::optional<absl::StatusOr<v1::Certificate>> a, b, d;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req, Capture(a));
  c->GetCertificate(Context(), testing::KeptName(req.name()), req, Capture(b));
  c->GetCertificate(Context(), testing::KeptName(req.name()), req, Capture(d));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(d->status()), reason::kBackendOverloaded);
  ASSERT_TRUE(transport_.Respond(200, kVo));
  std::optional<absl::StatusOr<v1::Certificate>> e;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req, Capture(e));
  EXPECT_FALSE(e.has_value()) << "a finished call frees its slot";
}

TEST_F(BackendConnectionTest, CreateWithSameRequestIdIsReplayed) {
  auto c = Make();
  auto req = Create("8f1f6c2e-1d1e-4e43-9a55-0d2c1e9b8f10");
  std::optional<absl::StatusOr<v1::Certificate>> first, joined, replayed;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(first));
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(joined));
  EXPECT_EQ(transport_.requests().size(), 1u) << "joined, not sent twice";
  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  ASSERT_TRUE(first->ok());
  ASSERT_TRUE(joined.has_value() && joined->ok());
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(replayed));
  ASSERT_TRUE(replayed.has_value() && replayed->ok());
  EXPECT_EQ((*replayed)->name(), (*first)->name());
  EXPECT_EQ(transport_.requests().size(), 1u);

  auto different = req;
  different.mutable_certificate()->mutable_leegality()->set_pkcs12_file("x");
  std::optional<absl::StatusOr<v1::Certificate>> mismatch;
  c->CreateCertificate(Context(), testing::KeptParent(different.parent()),
                       different, Capture(mismatch));
  EXPECT_EQ(mismatch->status().code(), absl::StatusCode::kInvalidArgument);
}

// Issue 10 finding 8: every 5xx counts for the breaker, not just the four
// that are retried.
TEST_F(BackendConnectionTest, BreakerCountsEveryFiveHundred) {
  config_.retry.max_attempts = 1;
  config_.circuit_breaker.consecutive_failures = 3;
  auto c = Make();
  auto req = Get();
  for (int status : {501, 505, 520}) {
    std::optional<absl::StatusOr<v1::Certificate>> out;
    c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
    ASSERT_TRUE(transport_.Respond(status, ""));
    ASSERT_TRUE(out.has_value());
  }
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                    Capture(out));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(Reason(out->status()), reason::kBackendCircuitOpen);
  EXPECT_EQ(transport_.requests().size(), 3u);
}

TEST_F(BackendConnectionTest, BreakerCountsTlsVerificationFailures) {
  config_.retry.max_attempts = 1;
  config_.circuit_breaker.consecutive_failures = 2;
  auto c = Make();
  auto req = Get();
  for (int i = 0; i < 2; ++i) {
    std::optional<absl::StatusOr<v1::Certificate>> out;
    c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
    ASSERT_TRUE(transport_.Complete(TransportError{
        TransportErrorKind::kTlsVerification, false, "unknown CA"}));
  }
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->GetCertificate(Context(), testing::KeptName(req.name()), req,
                    Capture(out));
  EXPECT_EQ(Reason(out->status()), reason::kBackendCircuitOpen);
}

// Issue 10 finding 9: a handshake broken off never sent the request, so a
// Create is retried like a refused connection.
TEST_F(BackendConnectionTest, CreateIsRetriedAfterABrokenTlsHandshake) {
  auto c = Make();
  auto req = Create();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(out));
  ASSERT_TRUE(transport_.Complete(TransportError{
      TransportErrorKind::kTlsHandshake, false, "connection reset"}));
  ASSERT_TRUE(transport_.FireTimer()) << "retried after a backoff";
  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  ASSERT_TRUE(out->ok()) << out->status();
}

// Issue 10 finding 7: an open circuit is not the backend's answer, so it is
// not replayed for the request_id: once the circuit closes, the repeat goes
// to the backend.
TEST_F(BackendConnectionTest, FailFastAnswersAreNotReplayedForARequestId) {
  config_.retry.max_attempts = 1;
  config_.circuit_breaker.consecutive_failures = 1;
  config_.circuit_breaker.open_duration = absl::Seconds(30);
  auto c = Make();
  auto get = Get();
  std::optional<absl::StatusOr<v1::Certificate>> failed;
  c->GetCertificate(Context(), testing::KeptName(get.name()), get,
                    Capture(failed));
  ASSERT_TRUE(transport_.Respond(503, ""));  // opens the circuit
  auto req = Create("8f1f6c2e-1d1e-4e43-9a55-0d2c1e9b8f10");
  std::optional<absl::StatusOr<v1::Certificate>> open;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(open));
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(Reason(open->status()), reason::kBackendCircuitOpen);
  EXPECT_EQ(transport_.requests().size(), 1u);
  clock_.Advance(absl::Seconds(31));
  std::optional<absl::StatusOr<v1::Certificate>> repeat;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(repeat));
  ASSERT_EQ(transport_.requests().size(), 2u) << "the repeat was sent";
  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  ASSERT_TRUE(repeat.has_value());
  EXPECT_TRUE(repeat->ok()) << repeat->status();
}

// Issue 10 finding 7: an overload rejection between two attempts keeps the
// first attempt's "outcome unknown", so the third still recovers: for
// Apinizer that is a read-back after "already exists".
TEST_F(BackendConnectionTest, OverloadBetweenRepeatsKeepsTheUnknownOutcome) {
  BackendConfig api = config_;
  api.name = "api";
  api.kind = "apinizer";
  api.base_url = "http://api.test/apiops";
  api.max_concurrent_calls = 1;
  auto stub = std::make_unique<ApinizerStub>(api, transport_,
                                             MakeStaticTokenSource("t"));
  auto c = std::make_unique<BackendConnection>(api, BuiltinVendor("apinizer"),
                                               std::move(stub), transport_,
                                               &store_, nullptr, clock_);
  v1::CreateCertificateRequest req;
  req.set_parent("backends/api/projects/p");
  req.set_certificate_id("root");
  req.set_request_id("8f1f6c2e-1d1e-4e43-9a55-0d2c1e9b8f10");
  auto* a = req.mutable_certificate()->mutable_apinizer();
  a->set_alias("root");
  a->add_environments("prod");
  a->set_pem_certificate(
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const ParentName& parent = testing::KeptParent(req.parent());
  std::optional<absl::StatusOr<v1::Certificate>> first;
  c->CreateCertificate(Context(), parent, req, Capture(first));
  ASSERT_TRUE(transport_.Complete(
      TransportError{TransportErrorKind::kConnectionReset, true, "reset"}));
  ASSERT_EQ(Reason(first->status()), reason::kBackendConnectionReset);
  // Another call holds the only slot, so the repeat is refused locally.
  v1::GetCertificateRequest get;
  get.set_name("backends/api/projects/p/certificates/other");
  std::optional<absl::StatusOr<v1::Certificate>> holder;
  c->GetCertificate(Context(), testing::KeptName(get.name()), get,
                    Capture(holder));
  std::optional<absl::StatusOr<v1::Certificate>> refused;
  c->CreateCertificate(Context(), parent, req, Capture(refused));
  ASSERT_EQ(Reason(refused->status()), reason::kBackendOverloaded);
  ASSERT_TRUE(transport_.Respond(400, R"({"status":"FAILURE"})"));  // Get
  std::optional<absl::StatusOr<v1::Certificate>> third;
  c->CreateCertificate(Context(), parent, req, Capture(third));
  ASSERT_EQ(transport_.requests().size(), 3u);
  ASSERT_TRUE(transport_.Respond(
      400,
      R"({"status":"FAILURE","resultMessage":"Certificate (name: root) is already exist!"})"));
  // The third call knows an earlier one may have created it: it reads the
  // certificate back instead of reporting the conflict.
  ASSERT_EQ(transport_.requests().size(), 4u);
  EXPECT_EQ(transport_.requests()[3].method, "GET");
}

// Issue 10 finding 13: a repeat joined to a running first call stops
// waiting when its own call is cancelled.
TEST_F(BackendConnectionTest, CancelledJoinedRepeatReturnsAtOnce) {
  auto c = Make();
  auto req = Create("8f1f6c2e-1d1e-4e43-9a55-0d2c1e9b8f10");
  std::optional<absl::StatusOr<v1::Certificate>> first, joined;
  c->CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                       Capture(first));
  auto joined_ctx = Context();
  c->CreateCertificate(joined_ctx, testing::KeptParent(req.parent()), req,
                       Capture(joined));
  EXPECT_FALSE(joined.has_value());
  joined_ctx->Cancel();
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->status().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(first.has_value()) << "the first call goes on";
  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  EXPECT_TRUE(first->ok());
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

// What the connection's layers report for a list: every exchange and retry
// under the operation label "list".
class OperationRecorder final : public BackendObserver {
 public:
  void OnHttpExchange(Operation op, int, absl::string_view,
                      absl::Duration) override {
    exchanges.push_back(std::string(OperationName(op)));
  }
  void OnRetry(const RetryEvent& e) override {
    retries.push_back(std::string(OperationName(e.operation)));
  }
  void OnRejected(absl::string_view reason) override {
    rejected.push_back(std::string(reason));
  }
  std::vector<std::string> exchanges, retries, rejected;
};

constexpr char kListBody[] =
    R"({"data":[{"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc","name":"a",)"
    R"("expiry":"2027-03-31T23:59:59Z"}]})";

class ListThroughConnectionTest : public BackendConnectionTest {
 protected:
  std::unique_ptr<BackendConnection> MakeObserved() {
    auto stub = std::make_unique<LeegalityStub>(
        config_, transport_, MakeStaticTokenSource("t"), recorder_);
    return std::make_unique<BackendConnection>(
        config_, BuiltinVendor("leegality"), std::move(stub), transport_,
        &store_, recorder_, clock_);
  }
  v1::ListCertificatesRequest request_ = [] {
    v1::ListCertificatesRequest r;
    r.set_parent("backends/lee");
    return r;
  }();
  std::shared_ptr<OperationRecorder> recorder_ =
      std::make_shared<OperationRecorder>();
};

TEST_F(ListThroughConnectionTest, ListIsRetriedLikeGetAndLabelledList) {
  auto c = MakeObserved();
  auto ctx = Context();
  std::optional<absl::StatusOr<CertificateList>> out;
  c->ListCertificates(ctx, testing::KeptParent("backends/lee"), request_,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(503, ""));
  ASSERT_TRUE(transport_.FireTimer());
  ASSERT_TRUE(transport_.Respond(200, kListBody));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status();
  ASSERT_EQ((*out)->certificates.size(), 1u);
  EXPECT_EQ((*out)->certificates[0].name(),
            "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc");
  EXPECT_EQ(ctx->attempts(), 2);
  ASSERT_EQ(transport_.requests().size(), 2u);
  EXPECT_EQ(transport_.requests()[0].method, "GET");
  EXPECT_EQ(transport_.requests()[0].url,
            "http://lee.test/api/api/v1/certificates/expiring-soon"
            "?days=3000000");
  EXPECT_EQ(recorder_->exchanges, (std::vector<std::string>{"list", "list"}));
  EXPECT_EQ(recorder_->retries, (std::vector<std::string>{"list"}));
}

TEST_F(ListThroughConnectionTest, OpenCircuitAndLimitRefuseListsToo) {
  config_.circuit_breaker.consecutive_failures = 1;
  config_.retry.max_attempts = 1;
  config_.circuit_breaker.open_duration = absl::Seconds(30);
  auto c = MakeObserved();
  std::optional<absl::StatusOr<CertificateList>> first, second;
  c->ListCertificates(Context(), testing::KeptParent("backends/lee"), request_,
                      Capture(first));
  ASSERT_TRUE(transport_.Respond(502, ""));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status().code(), absl::StatusCode::kUnavailable);
  c->ListCertificates(Context(), testing::KeptParent("backends/lee"), request_,
                      Capture(second));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(Reason(second->status()), "BACKEND_CIRCUIT_OPEN");
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(recorder_->rejected, (std::vector<std::string>{"circuit_open"}));
}

TEST_F(ListThroughConnectionTest, MoreThanTheCapIsListTooLarge) {
  auto c = Make();
  std::string body = R"({"data":[)";
  for (std::size_t i = 0; i <= kMaxListedCertificates; ++i) {
    if (i > 0) body += ",";
    body += R"({"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc"})";
  }
  body += "]}";
  std::optional<absl::StatusOr<CertificateList>> out;
  c->ListCertificates(Context(), testing::KeptParent("backends/lee"), request_,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(200, body));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Reason(out->status()), "BACKEND_LIST_TOO_LARGE");
  EXPECT_EQ(transport_.requests().size(), 1u) << "not retried";
}

TEST_F(ListThroughConnectionTest, AnEntryWithoutAUuidIsMalformed) {
  auto c = Make();
  std::optional<absl::StatusOr<CertificateList>> out;
  c->ListCertificates(Context(), testing::KeptParent("backends/lee"), request_,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(200, R"({"data":[{"id":"../admin"}]})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(Reason(out->status()), "BACKEND_MALFORMED_RESPONSE");
}

}  // namespace
}  // namespace certbridge

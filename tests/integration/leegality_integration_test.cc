// The Leegality path end to end: gRPC -> CertbridgeServer -> libcurl ->
// emulator, for each operation and each status on the vendor's four pages
// mapped as docs/errors.md says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMissingId[] = "0b7c2f7e-6d4a-4c1e-9a55-3b7e7c1f0a52";

std::string LeegalityError(int status, const std::string& top,
                           const std::string& inner,
                           const std::string& message) {
  return emulator::LeegalityErrorBody(status, top, inner, message);
}

emulator::FaultSpec StatusFault(const std::string& method, int status,
                                std::string body, int times = 1) {
  emulator::FaultSpec f;
  f.method = method;
  f.status = status;
  f.body = std::move(body);
  f.times = times;
  return f;
}

emulator::FaultSpec DelayFault(const std::string& method, int delay_ms,
                               int times = 1) {
  emulator::FaultSpec f;
  f.method = method;
  f.delay_ms = delay_ms;
  f.times = times;
  return f;
}

HarnessOptions Configure(std::function<void(ServerConfig&)> configure) {
  HarnessOptions options;
  options.configure = std::move(configure);
  return options;
}

class LeegalityIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // These tests pin down the status mapping one response at a time; the
    // breaker would (rightly) start failing fast after a few 5xx in a row.
    // resilience_integration_test covers it.
    h_ = Harness::Start(Configure([](ServerConfig& c) {
      for (auto& b : c.backends) b.circuit_breaker.enabled = false;
    }));
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Create(const v1::CreateCertificateRequest& request,
                      v1::Certificate* out) {
    auto ctx = Harness::Context();
    return h_->stub().CreateCertificate(ctx.get(), request, out);
  }

  // Creates a certificate on the emulator and returns it.
  v1::Certificate CreateOne(const std::string& file_name = "signer.p12") {
    v1::Certificate cert;
    const grpc::Status s = Create(LeegalityCreateRequest(file_name), &cert);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return cert;
  }

  grpc::Status Get(const std::string& name, v1::Certificate* out) {
    v1::GetCertificateRequest request;
    request.set_name(name);
    auto ctx = Harness::Context();
    return h_->stub().GetCertificate(ctx.get(), request, out);
  }

  grpc::Status Delete(const std::string& name) {
    v1::DeleteCertificateRequest request;
    request.set_name(name);
    v1::DeleteCertificateResponse response;
    auto ctx = Harness::Context();
    return h_->stub().DeleteCertificate(ctx.get(), request, &response);
  }

  grpc::Status UpdateDepartment(const std::string& name,
                                const std::string& department,
                                v1::Certificate* out) {
    v1::UpdateCertificateRequest request;
    request.mutable_certificate()->set_name(name);
    request.mutable_certificate()->mutable_leegality()->set_department_id(
        department);
    request.mutable_update_mask()->add_paths("leegality.department_id");
    auto ctx = Harness::Context();
    return h_->stub().UpdateCertificate(ctx.get(), request, out);
  }

  static std::string NameOf(const std::string& id) {
    return std::string(kLeegalityParent) + "/certificates/" + id;
  }

  std::size_t BackendRequests() {
    std::size_t n = 0;
    for (const auto& r : h_->emulator().Requests()) {
      if (r.api == "leegality") ++n;
    }
    return n;
  }

  void ExpectError(const grpc::Status& s, grpc::StatusCode code,
                   const std::string& reason, int http_status = 0) {
    RpcError e = DecodeRpcError(s);
    EXPECT_EQ(e.code, code) << e.message;
    EXPECT_EQ(e.reason, reason) << e.message;
    EXPECT_EQ(e.error_info_count, 1);
    if (http_status != 0) {
      EXPECT_EQ(e.metadata["httpStatus"], std::to_string(http_status));
      EXPECT_EQ(e.metadata["backend"], "leegality");
    }
  }

  std::unique_ptr<Harness> h_;
};

TEST_F(LeegalityIntegrationTest, CreateGetUpdateDeleteRoundTrip) {
  v1::Certificate created = CreateOne("signer.p12");
  const v1::LeegalityCertificate& l = created.leegality();
  EXPECT_TRUE(
      absl::StartsWith(created.name(), "backends/leegality/certificates/"));
  EXPECT_EQ(created.name(), NameOf(l.id()));
  EXPECT_EQ(l.certificate_type(), v1::LeegalityCertificate::PKCS12_PFX);
  EXPECT_EQ(l.department_id(), kHrDepartment);
  EXPECT_EQ(l.department_name(), "HR");
  EXPECT_TRUE(l.has_expire_time()) << l.expiry();
  EXPECT_GT(l.expire_time().seconds(), absl::ToUnixSeconds(absl::Now()));
  EXPECT_TRUE(l.passkey().empty()) << "the passkey is input only";
  EXPECT_TRUE(l.pkcs12_file().empty());

  v1::Certificate got;
  ASSERT_TRUE(Get(created.name(), &got).ok());
  EXPECT_EQ(got.leegality().id(), l.id());
  EXPECT_EQ(got.display_name(), created.display_name());

  v1::Certificate updated;
  const grpc::Status us =
      UpdateDepartment(created.name(), kLegalDepartment, &updated);
  ASSERT_TRUE(us.ok()) << us.error_message();
  EXPECT_EQ(updated.leegality().department_id(), kLegalDepartment);
  EXPECT_EQ(updated.leegality().department_name(), "Legal");

  ASSERT_TRUE(Delete(created.name()).ok());
  ExpectError(Get(created.name(), &got), grpc::StatusCode::NOT_FOUND,
              "CERTIFICATE_NOT_FOUND", 404);
}

TEST_F(LeegalityIntegrationTest, CreateSendsTheDocumentedRequest) {
  auto ctx = Harness::Context();
  ctx->AddMetadata("x-request-id", "trace-42");
  v1::Certificate out;
  const v1::CreateCertificateRequest request =
      LeegalityCreateRequest("upload.pfx", "pw-7781");
  ASSERT_TRUE(h_->stub().CreateCertificate(ctx.get(), request, &out).ok());
  const auto requests = h_->emulator().Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v1/certificates");
  EXPECT_EQ(r.headers.at("x-auth-token"),
            emulator::EmulatorOptions().leegality_token);
  EXPECT_EQ(r.headers.at("x-request-id"), "trace-42");
  EXPECT_THAT(r.headers.at("content-type"), HasSubstr("multipart/form-data"));
  EXPECT_THAT(r.body, HasSubstr("filename=\"upload.pfx\""));
  EXPECT_THAT(r.body,
              HasSubstr(request.certificate().leegality().pkcs12_file()));
}

TEST_F(LeegalityIntegrationTest, UpdateReplacesTheFile) {
  v1::Certificate created = CreateOne("rotating.p12");
  v1::UpdateCertificateRequest request;
  request.mutable_certificate()->set_name(created.name());
  *request.mutable_certificate()->mutable_leegality() =
      LeegalityCreateRequest("rotating.p12", "new-passkey")
          .certificate()
          .leegality();
  request.mutable_update_mask()->add_paths("leegality.pkcs12_file");
  request.mutable_update_mask()->add_paths("leegality.passkey");
  v1::Certificate updated;
  auto ctx = Harness::Context();
  const grpc::Status s =
      h_->stub().UpdateCertificate(ctx.get(), request, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto requests = h_->emulator().Requests();
  ASSERT_EQ(requests.back().method, "PUT");
  EXPECT_THAT(requests.back().body, HasSubstr("name=\"certificateFile\""));
  EXPECT_THAT(requests.back().body, HasSubstr("new-passkey"));
}

// --- local validation: nothing reaches the backend -------------------------

TEST_F(LeegalityIntegrationTest, NonUuidIdIsRefusedLocally) {
  v1::Certificate out;
  ExpectError(Get(NameOf("not-a-uuid"), &out),
              grpc::StatusCode::INVALID_ARGUMENT, "INVALID_NAME");
  EXPECT_EQ(BackendRequests(), 0u);
}

TEST_F(LeegalityIntegrationTest, UnknownBackendInstanceIsInvalidName) {
  v1::Certificate out;
  ExpectError(
      Get(std::string("backends/nope/certificates/") + kMissingId, &out),
      grpc::StatusCode::INVALID_ARGUMENT, "INVALID_NAME");
}

TEST_F(LeegalityIntegrationTest, WrongPasskeyIsRefusedBeforeAnyRequest) {
  auto request = LeegalityCreateRequest("a.p12", "right");
  request.mutable_certificate()->mutable_leegality()->set_passkey("wrong");
  v1::Certificate out;
  const grpc::Status s = Create(request, &out);
  ExpectError(s, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PKCS12");
  EXPECT_THAT(s.error_message(), Not(HasSubstr("wrong")));
  EXPECT_EQ(BackendRequests(), 0u);
}

TEST_F(LeegalityIntegrationTest, NotAPkcs12IsRefusedBeforeAnyRequest) {
  auto request = LeegalityCreateRequest("a.p12");
  request.mutable_certificate()->mutable_leegality()->set_pkcs12_file(
      MakePemCertificate());
  v1::Certificate out;
  ExpectError(Create(request, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_PKCS12");
  EXPECT_EQ(BackendRequests(), 0u);
}

TEST_F(LeegalityIntegrationTest, ExpiredCertificateIsRefusedBeforeAnyRequest) {
  Pkcs12Options options;
  options.valid_days = -1;
  auto request = LeegalityCreateRequest("old.p12");
  request.mutable_certificate()->mutable_leegality()->set_pkcs12_file(
      MakePkcs12(options));
  request.mutable_certificate()->mutable_leegality()->set_passkey(
      options.passkey);
  v1::Certificate out;
  ExpectError(Create(request, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_PKCS12");
  EXPECT_EQ(BackendRequests(), 0u);
}

TEST_F(LeegalityIntegrationTest, FiveMebibyteUploadSucceeds) {
  v1::Certificate out;
  const grpc::Status s = Create(
      LeegalityCreateRequest("big.p12", "test-passkey", 5 * 1024 * 1024), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto requests = h_->emulator().Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].status, 201);
}

TEST_F(LeegalityIntegrationTest, OneByteOverFiveMebibytesIsRefusedLocally) {
  v1::Certificate out;
  const grpc::Status s = Create(
      LeegalityCreateRequest("big.p12", "test-passkey", 5 * 1024 * 1024 + 1),
      &out);
  ExpectError(s, grpc::StatusCode::INVALID_ARGUMENT, "FILE_TOO_LARGE");
  EXPECT_EQ(BackendRequests(), 0u);
}

// --- every status on the four seed pages ---------------------------------

TEST_F(LeegalityIntegrationTest, Create400IsRejectedRequest) {
  // Unknown department: the emulator answers 400 with the page's body (top
  // code LE_ERR_SS_404, inner LE_ERR_SS_001 -- the documented quirk).
  auto request = LeegalityCreateRequest("a.p12");
  request.mutable_certificate()->mutable_leegality()->set_department_id(
      kMissingId);
  v1::Certificate out;
  const grpc::Status s = Create(request, &out);
  ExpectError(s, grpc::StatusCode::INVALID_ARGUMENT, "BACKEND_REJECTED_REQUEST",
              400);
  EXPECT_EQ(DecodeRpcError(s).metadata["backendCode"],
            "LE_ERR_SS_404/LE_ERR_SS_001");
}

TEST_F(LeegalityIntegrationTest, Create409IsAlreadyExists) {
  CreateOne("twice.p12");
  v1::Certificate out;
  const grpc::Status s = Create(LeegalityCreateRequest("twice.p12"), &out);
  ExpectError(s, grpc::StatusCode::ALREADY_EXISTS, "CERTIFICATE_ALREADY_EXISTS",
              409);
  EXPECT_EQ(DecodeRpcError(s).metadata["backendCode"],
            "LE_ERR_SS_409/LE_ERR_SS_1101");
}

TEST_F(LeegalityIntegrationTest, Get400InvalidUuidIsRejectedRequest) {
  // certbridge checks UUIDs itself, so the page's 400 only comes from a
  // backend that disagrees; inject it.
  h_->emulator().AddFault(StatusFault(
      "GET", 400,
      LeegalityError(400, "LE_ERR_SS_400", "", "Invalid UUID provided.")));
  v1::Certificate out;
  const grpc::Status s = Get(NameOf(kMissingId), &out);
  ExpectError(s, grpc::StatusCode::INVALID_ARGUMENT, "BACKEND_REJECTED_REQUEST",
              400);
  EXPECT_THAT(s.error_message(), HasSubstr("Invalid UUID provided."));
}

TEST_F(LeegalityIntegrationTest, Update400IsRejectedRequest) {
  v1::Certificate created = CreateOne();
  v1::Certificate out;
  ExpectError(UpdateDepartment(created.name(), kMissingId, &out),
              grpc::StatusCode::INVALID_ARGUMENT, "BACKEND_REJECTED_REQUEST",
              400);
}

TEST_F(LeegalityIntegrationTest, Get403IsPermissionDenied) {
  h_->emulator().AddFault(StatusFault(
      "GET", 403,
      LeegalityError(403, "LE_ERR_SS_403", "LE_ERR_SS_007",
                     "Access denied for the requested operation.")));
  v1::Certificate out;
  ExpectError(Get(NameOf(kMissingId), &out),
              grpc::StatusCode::PERMISSION_DENIED, "BACKEND_PERMISSION_DENIED",
              403);
}

TEST_F(LeegalityIntegrationTest, Get404UpdateAndDelete404AreNotFound) {
  v1::Certificate out;
  ExpectError(Get(NameOf(kMissingId), &out), grpc::StatusCode::NOT_FOUND,
              "CERTIFICATE_NOT_FOUND", 404);
  ExpectError(UpdateDepartment(NameOf(kMissingId), kHrDepartment, &out),
              grpc::StatusCode::NOT_FOUND, "CERTIFICATE_NOT_FOUND", 404);
  ExpectError(Delete(NameOf(kMissingId)), grpc::StatusCode::NOT_FOUND,
              "CERTIFICATE_NOT_FOUND", 404);
}

TEST_F(LeegalityIntegrationTest, BadTokenIs401OnEveryOperation) {
  setenv("CERTBRIDGE_IT_WRONG_TOKEN", "wrong-token-value", 1);
  auto h = Harness::Start(Configure([](ServerConfig& c) {
    c.backends[0].credentials.source = CredentialsConfig::Source::kEnv;
    c.backends[0].credentials.token_env = "CERTBRIDGE_IT_WRONG_TOKEN";
  }));
  ASSERT_NE(h, nullptr);
  v1::Certificate out;
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  auto ctx = Harness::Context();
  const grpc::Status s = h->stub().GetCertificate(ctx.get(), get, &out);
  RpcError e = DecodeRpcError(s);
  EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(e.reason, "BACKEND_AUTH_FAILED");
  EXPECT_EQ(e.metadata["httpStatus"], "401");
  EXPECT_EQ(e.metadata["backendCode"], "LE_ERR_SS_401/LE_ERR_SS_303");
  EXPECT_THAT(s.error_message(), Not(HasSubstr("wrong-token-value")));
}

TEST_F(LeegalityIntegrationTest, Backend500IsInternalOnEveryOperation) {
  v1::Certificate created = CreateOne();
  for (const char* method : {"POST", "GET", "PUT", "DELETE"}) {
    h_->emulator().AddFault(StatusFault(
        method, 500,
        LeegalityError(500, "LE_ERR_SS_500", "", "Internal server error"),
        /*times=*/-1));
  }
  v1::Certificate out;
  ExpectError(Create(LeegalityCreateRequest("other.p12"), &out),
              grpc::StatusCode::INTERNAL, "BACKEND_INTERNAL_ERROR", 500);
  ExpectError(Get(created.name(), &out), grpc::StatusCode::INTERNAL,
              "BACKEND_INTERNAL_ERROR", 500);
  ExpectError(UpdateDepartment(created.name(), kLegalDepartment, &out),
              grpc::StatusCode::INTERNAL, "BACKEND_INTERNAL_ERROR", 500);
  ExpectError(Delete(created.name()), grpc::StatusCode::INTERNAL,
              "BACKEND_INTERNAL_ERROR", 500);
}

TEST_F(LeegalityIntegrationTest, GatewayStatusesAreUnavailable) {
  struct Case {
    int status;
    const char* reason;
  };
  for (const Case& c :
       {Case{502, "BACKEND_UNAVAILABLE"}, Case{503, "BACKEND_UNAVAILABLE"},
        Case{504, "BACKEND_TIMEOUT"}}) {
    // Enough faults for whatever retries the resilience layer makes.
    h_->emulator().ClearFaults();
    h_->emulator().AddFault(StatusFault("GET", c.status, "<html/>", -1));
    v1::Certificate out;
    ExpectError(Get(NameOf(kMissingId), &out), grpc::StatusCode::UNAVAILABLE,
                c.reason, c.status);
  }
}

TEST_F(LeegalityIntegrationTest, Backend413IsFileTooLarge) {
  h_->emulator().AddFault(StatusFault(
      "POST", 413, LeegalityError(413, "LE_ERR_SS_413", "", "File too large")));
  v1::Certificate out;
  ExpectError(Create(LeegalityCreateRequest("a.p12"), &out),
              grpc::StatusCode::INVALID_ARGUMENT, "FILE_TOO_LARGE", 413);
}

TEST_F(LeegalityIntegrationTest, RateLimitCarriesRetryInfo) {
  emulator::FaultSpec limited = StatusFault("GET", 429, "{}", -1);
  limited.headers = {{"Retry-After", "30"}};
  h_->emulator().AddFault(limited);
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(2));
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  const grpc::Status s = h_->stub().GetCertificate(ctx.get(), get, &out);
  RpcError e = DecodeRpcError(s);
  // Retry-After is past the deadline, so certbridge must not wait for it.
  EXPECT_TRUE(e.code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              e.code == grpc::StatusCode::DEADLINE_EXCEEDED)
      << e.code;
  if (e.code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    EXPECT_EQ(e.reason, "BACKEND_RATE_LIMITED");
    EXPECT_TRUE(e.has_retry_info);
    EXPECT_EQ(e.retry_delay, absl::Seconds(30));
  }
}

TEST_F(LeegalityIntegrationTest, MalformedSuccessBodyIsInternal) {
  emulator::FaultSpec malformed;
  malformed.method = "GET";
  malformed.malformed = true;
  h_->emulator().AddFault(malformed);
  v1::Certificate out;
  ExpectError(Get(NameOf(kMissingId), &out), grpc::StatusCode::INTERNAL,
              "BACKEND_MALFORMED_RESPONSE", 200);
}

TEST_F(LeegalityIntegrationTest, ConnectionRefusedIsUnreachable) {
  auto h = Harness::Start(Configure(
      [](ServerConfig& c) { c.backends[0].base_url = Harness::DeadUrl(); }));
  ASSERT_NE(h, nullptr);
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  v1::Certificate out;
  auto ctx = Harness::Context();
  RpcError e = DecodeRpcError(h->stub().GetCertificate(ctx.get(), get, &out));
  EXPECT_EQ(e.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(e.reason, "BACKEND_UNREACHABLE");
  EXPECT_EQ(e.metadata["backend"], "leegality");
}

TEST_F(LeegalityIntegrationTest, ResetAfterSendIsConnectionReset) {
  emulator::FaultSpec reset;
  reset.method = "POST";
  reset.times = -1;
  reset.reset = true;
  h_->emulator().AddFault(reset);
  v1::Certificate out;
  ExpectError(Create(LeegalityCreateRequest("a.p12"), &out),
              grpc::StatusCode::UNAVAILABLE, "BACKEND_CONNECTION_RESET");
}

// --- deadlines, cancellation and concurrency -----------------------------

TEST_F(LeegalityIntegrationTest, DeadlineShorterThanBackendDelayEndsPromptly) {
  h_->emulator().AddFault(DelayFault("GET", 5000));
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  const grpc::Status s = h_->stub().GetCertificate(ctx.get(), get, &out);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // 10x the 300 ms deadline, and still short of the 5 s delay.
  EXPECT_LT(took, absl::Seconds(3));
  // The transfer was aborted, not left running for 5 s: the emulator sees
  // the connection dropped while it was still delaying (once the delay is
  // over without that, client_closed can no longer turn true).
  EXPECT_TRUE(h_->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.client_closed; },
      absl::Seconds(30)));
}

TEST_F(LeegalityIntegrationTest, CancelledCallAbortsItsTransfer) {
  h_->emulator().AddFault(DelayFault("GET", 5000));
  v1::GetCertificateRequest get;
  get.set_name(NameOf(kMissingId));
  v1::Certificate out;
  auto ctx = Harness::Context(absl::Seconds(10));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  h_->stub().async()->GetCertificate(ctx.get(), &get, &out,
                                     [&](grpc::Status s) {
                                       std::lock_guard<std::mutex> lock(mu);
                                       status = s;
                                       done = true;
                                       cv.notify_all();
                                     });
  // Cancel once the request has reached the emulator (the event, not a
  // guessed delay).
  EXPECT_TRUE(h_->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.method == "GET"; },
      absl::Seconds(30)));
  ctx->TryCancel();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return done; }));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h_->emulator().WaitForRequest(
      [](const emulator::RecordedRequest& r) { return r.client_closed; },
      absl::Seconds(30)));
}

TEST_F(LeegalityIntegrationTest, TwoHundredConcurrentGetsOverlap) {
  v1::Certificate created = CreateOne();
  // Every GET waits 200 ms in the emulator. A design that blocks a gRPC
  // thread per call (2 on this machine) would have at most 2 of them at
  // the backend at any time (and need ~20 s for 200 calls).
  constexpr absl::Duration kDelay = absl::Milliseconds(200);
  h_->emulator().AddFault(DelayFault(
      "GET", static_cast<int>(absl::ToInt64Milliseconds(kDelay)), -1));
  constexpr int kCalls = 200;
  struct Call {
    grpc::ClientContext ctx;
    v1::GetCertificateRequest request;
    v1::Certificate response;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::atomic<int> ok{0};
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    auto call = std::make_unique<Call>();
    call->ctx.set_deadline(absl::ToChronoTime(start + absl::Seconds(60)));
    call->request.set_name(created.name());
    h_->stub().async()->GetCertificate(&call->ctx, &call->request,
                                       &call->response, [&](grpc::Status s) {
                                         if (s.ok()) ok.fetch_add(1);
                                         std::lock_guard<std::mutex> lock(mu);
                                         ++finished;
                                         cv.notify_all();
                                       });
    calls.push_back(std::move(call));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(90),
                [&] { return finished == kCalls; });
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(finished, kCalls);
  EXPECT_EQ(ok.load(), kCalls);
  // Overlap, from what the backend saw rather than from the wall clock: a
  // GET is held for kDelay after it arrives, so all GETs arriving within
  // kDelay of one another were at the backend at the same moment.
  std::vector<absl::Time> arrivals;
  for (const auto& r : h_->emulator().Requests()) {
    if (r.method == "GET") arrivals.push_back(r.arrival);
  }
  std::sort(arrivals.begin(), arrivals.end());
  size_t most_at_once = 0;
  for (size_t first = 0, last = 0; last < arrivals.size(); ++last) {
    while (arrivals[last] - arrivals[first] >= kDelay) ++first;
    most_at_once = std::max(most_at_once, last - first + 1);
  }
  EXPECT_GE(most_at_once, 20u) << "calls did not overlap";
  std::cout << "200 concurrent Gets with 200 ms backend delay took "
            << absl::FormatDuration(took) << "; " << most_at_once
            << " at the backend at once\n";
}

}  // namespace
}  // namespace certbridge::testing

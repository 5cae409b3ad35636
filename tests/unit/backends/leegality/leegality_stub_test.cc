// The Leegality stub over a scripted transport: what goes on the wire for
// each operation and how each answer comes back, without sockets.
#include "server/backends/leegality/leegality_stub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/match.h"
#include "server/backends/call_context.h"
#include "server/common/errors.h"
#include "server/common/trace_context.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/names.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr char kId[] = "46d4e120-ed03-47cc-98c6-529bff3bbabc";
constexpr char kToken[] = "tok-9f8e7d";
constexpr char kVo[] = R"({"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc",
  "name":"signer","certificateType":"PKCS12_PFX",
  "expiry":"2027-03-31T23:59:59Z","createdAt":"2026-01-02T03:04:05Z",
  "departmentId":"18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52",
  "departmentName":"HR"})";

std::optional<std::string> HeaderOf(const HttpRequest& r,
                                    absl::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

class LeegalityStubTest : public ::testing::Test {
 protected:
  LeegalityStubTest() {
    config_.name = "lee";
    config_.kind = "leegality";
    config_.base_url = "http://signstation.test/api";
  }

  LeegalityStub MakeStub() {
    return LeegalityStub(config_, transport_, MakeStaticTokenSource(kToken));
  }

  std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Seconds(30),
                                         "req-1");
  }

  static std::string Name() {
    return std::string("backends/lee/certificates/") + kId;
  }

  template <typename T>
  static Done<T> Capture(std::optional<absl::StatusOr<T>>& out) {
    return [&out](absl::StatusOr<T> r) { out = std::move(r); };
  }

  BackendConfig config_;
  testing::FakeTransport transport_;
};

TEST_F(LeegalityStubTest, GetSendsDocumentedRequestAndParsesBareObject) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));

  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& sent = transport_.requests()[0];
  EXPECT_EQ(sent.method, "GET");
  // Server root ends in /api and the documented path starts with /api/v1.
  EXPECT_EQ(sent.url, std::string("http://signstation.test/api/api/v1/"
                                  "certificates/") +
                          kId);
  EXPECT_EQ(HeaderOf(sent, "X-Auth-Token"), kToken);
  EXPECT_EQ(HeaderOf(sent, "Authorization"), std::nullopt);
  EXPECT_EQ(HeaderOf(sent, "X-Request-ID"), "req-1");
  // A context made without a trace (the old constructor) starts its own.
  const auto traceparent = HeaderOf(sent, "traceparent");
  ASSERT_TRUE(traceparent.has_value());
  EXPECT_TRUE(TraceContext::Parse(*traceparent, "").has_value())
      << *traceparent;
  EXPECT_EQ(HeaderOf(sent, "tracestate"), std::nullopt);
  EXPECT_EQ(HeaderOf(sent, "Accept"), "application/json");
  EXPECT_LE(sent.timeout, absl::Seconds(30));
  EXPECT_FALSE(out.has_value()) << "completes only when the transfer does";

  ASSERT_TRUE(transport_.Respond(200, kVo));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), Name());
  EXPECT_EQ((*out)->leegality().department_name(), "HR");
}

TEST_F(LeegalityStubTest, BearerStyleIsSelectable) {
  config_.credentials.header = AuthHeaderStyle::kBearer;
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(HeaderOf(transport_.requests()[0], "Authorization"),
            std::string("Bearer ") + kToken);
  EXPECT_EQ(HeaderOf(transport_.requests()[0], "X-Auth-Token"), std::nullopt);
}

TEST_F(LeegalityStubTest, CreateUploadsMultipartAndParsesDataEnvelope) {
  auto stub = MakeStub();
  v1::CreateCertificateRequest req;
  req.set_parent("backends/lee");
  auto* l = req.mutable_certificate()->mutable_leegality();
  l->set_pkcs12_file(
      std::string("\x30\x82\x01\x00"
                  "binary",
                  10));
  l->set_passkey("pa55");
  l->set_file_name("signer.p12");
  l->set_department_id("18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52");
  l->set_enabled(false);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                         Capture(out));

  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& sent = transport_.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "http://signstation.test/api/api/v1/certificates");
  auto content_type = HeaderOf(sent, "Content-Type");
  ASSERT_TRUE(content_type.has_value());
  EXPECT_THAT(*content_type, HasSubstr("multipart/form-data; boundary="));
  EXPECT_THAT(std::string(sent.body_view()),
              HasSubstr("name=\"certificateFile\"; filename=\"signer.p12\""));
  EXPECT_THAT(std::string(sent.body_view()),
              HasSubstr(std::string("\x30\x82\x01\x00"
                                    "binary",
                                    10)));
  EXPECT_THAT(std::string(sent.body_view()),
              HasSubstr("name=\"passkey\"\r\n\r\npa55\r\n"));
  EXPECT_THAT(std::string(sent.body_view()),
              HasSubstr("name=\"departmentId\"\r\n\r\n"
                        "18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52\r\n"));
  EXPECT_THAT(std::string(sent.body_view()),
              HasSubstr("name=\"enabled\"\r\n\r\nfalse\r\n"));

  ASSERT_TRUE(transport_.Respond(201, std::string("{\"data\":") + kVo + "}"));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->leegality().id(), kId);
}

TEST_F(LeegalityStubTest, UpdateSendsOnlyMaskedPartsAndParsesNullCodeEnvelope) {
  auto stub = MakeStub();
  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(Name());
  auto* l = req.mutable_certificate()->mutable_leegality();
  l->set_department_id("7c1f0a52-3b7e-4b0c-9a55-0d2c1e9b8f10");
  l->set_enabled(true);
  req.mutable_update_mask()->add_paths("leegality.department_id");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.UpdateCertificate(Context(), testing::KeptName(req.certificate().name()),
                         req, Capture(out));

  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& sent = transport_.requests()[0];
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_THAT(sent.url, HasSubstr(std::string("/api/v1/certificates/") + kId));
  EXPECT_THAT(std::string(sent.body_view()), HasSubstr("departmentId"));
  EXPECT_THAT(std::string(sent.body_view()), Not(HasSubstr("certificateFile")));
  EXPECT_THAT(std::string(sent.body_view()), Not(HasSubstr("enabled")));

  ASSERT_TRUE(transport_.Respond(
      200, std::string(R"({"code":null,"message":null,"data":)") + kVo + "}"));
  ASSERT_TRUE(out->ok()) << out->status();
}

TEST_F(LeegalityStubTest, DeleteAcceptsDocumentedAck) {
  auto stub = MakeStub();
  v1::DeleteCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> out;
  stub.DeleteCertificate(Context(), testing::KeptName(req.name()), req,
                         Capture(out));
  ASSERT_EQ(transport_.requests()[0].method, "DELETE");
  ASSERT_TRUE(transport_.Respond(
      200,
      R"({"code":"LE_SS_002","message":"Requested record has been deleted.","data":{}})"));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), Name());
}

TEST_F(LeegalityStubTest, NotFoundMapsWithErrorInfo) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      404,
      R"({"code":"LE_ERR_SS_404","errors":[{"message":"Certificate with id x does not exist","path":"/api/v1/certificates/x","code":"LE_ERR_SS_001"}]})"));
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kNotFound);
  auto info = GetErrorInfo(out->status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, reason::kCertificateNotFound);
  EXPECT_THAT(info->metadata, ::testing::Contains(Pair("httpStatus", "404")));
  EXPECT_THAT(
      info->metadata,
      ::testing::Contains(Pair("backendCode", "LE_ERR_SS_404/LE_ERR_SS_001")));
}

TEST_F(LeegalityStubTest, SecretsEchoedByVendorAreRedacted) {
  auto stub = MakeStub();
  v1::CreateCertificateRequest req;
  req.set_parent("backends/lee");
  auto* l = req.mutable_certificate()->mutable_leegality();
  l->set_pkcs12_file("p12");
  l->set_passkey("hunter2-passkey");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                         Capture(out));
  ASSERT_TRUE(transport_.Respond(
      400,
      std::string(
          R"({"code":"LE_ERR_SS_400","errors":[{"message":"bad passkey hunter2-passkey for token )") +
          kToken + R"(","path":null,"code":null}]})"));
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out->status().message()),
              Not(HasSubstr("hunter2-passkey")));
  EXPECT_THAT(std::string(out->status().message()), Not(HasSubstr(kToken)));
}

TEST_F(LeegalityStubTest, MalformedSuccessBodyIsInternal) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(200, "<html>gateway</html>"));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(out->status())->reason,
            reason::kBackendMalformedResponse);
}

TEST_F(LeegalityStubTest, ConnectFailureIsUnavailable) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Complete(TransportError{
      TransportErrorKind::kConnectFailed, false, "Connection refused"}));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorInfo(out->status())->reason, reason::kBackendUnreachable);
}

TEST_F(LeegalityStubTest, CancellingTheCallAbortsTheTransfer) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  auto ctx = Context();
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(ctx, testing::KeptName(req.name()), req, Capture(out));
  ASSERT_EQ(transport_.pending_transfers(), 1u);
  ctx->Cancel();
  EXPECT_EQ(transport_.pending_transfers(), 0u);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kCancelled);
}

// An etag on a Leegality Update adds a read; a changed certificate is not
// written.
TEST_F(LeegalityStubTest, EtagMismatchWritesNothing) {
  auto stub = MakeStub();
  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(Name());
  req.mutable_certificate()->set_etag("\"stale\"");
  req.mutable_certificate()->mutable_leegality()->set_enabled(false);
  req.mutable_update_mask()->add_paths("leegality.enabled");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.UpdateCertificate(Context(), testing::KeptName(Name()), req,
                         Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].method, "GET");
  ASSERT_TRUE(transport_.Respond(200, kVo));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(transport_.requests().size(), 1u);

  // With the etag of what is there now, the PUT follows.
  std::optional<absl::StatusOr<v1::Certificate>> current;
  v1::GetCertificateRequest get;
  get.set_name(Name());
  stub.GetCertificate(Context(), testing::KeptName(Name()), get,
                      Capture(current));
  ASSERT_TRUE(transport_.Respond(200, kVo));
  req.mutable_certificate()->set_etag((*current)->etag());
  std::optional<absl::StatusOr<v1::Certificate>> written;
  stub.UpdateCertificate(Context(), testing::KeptName(Name()), req,
                         Capture(written));
  ASSERT_TRUE(transport_.Respond(200, kVo));
  ASSERT_EQ(transport_.requests().back().method, "PUT");
}

// Issue 10 finding 12: the body is not trusted over the request.
TEST_F(LeegalityStubTest, GetAnsweredWithAnotherCertificateIsMalformed) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      200, R"({"id":"0b6f9d1e-5c2a-4f7e-8d3b-2a9e6c4f1b7d","name":"other"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(out->status())->reason,
            reason::kBackendMalformedResponse);
}

TEST_F(LeegalityStubTest, CaseOfTheSameUuidDoesNotMatter) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(Name());
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      200, R"({"id":"46D4E120-ED03-47CC-98C6-529BFF3BBABC","name":"n"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->ok()) << out->status();
}

TEST_F(LeegalityStubTest, CreatedIdThatIsNotAUuidIsMalformed) {
  auto stub = MakeStub();
  v1::CreateCertificateRequest req;
  req.set_parent("backends/lee");
  req.mutable_certificate()->mutable_leegality()->set_pkcs12_file("p12");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                         Capture(out));
  ASSERT_TRUE(transport_.Respond(201, R"({"data":{"id":"../../admin"}})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(GetErrorInfo(out->status())->reason,
            reason::kBackendMalformedResponse);
  EXPECT_EQ(std::string(out->status().message()).find("\n"), std::string::npos);
}

}  // namespace
}  // namespace certbridge

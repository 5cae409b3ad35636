// The Apinizer stub over a scripted transport: URLs (trailing slash,
// escaping), multipart fields, the read-modify-write Update and the JWK
// parameters.
#include "server/backends/apinizer/apinizer_stub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/escaping.h"
#include "server/backends/apinizer/apinizer_json.h"
#include "server/backends/call_context.h"
#include "server/common/errors.h"
#include "tests/testing/fake_transport.h"
#include "tests/testing/names.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kName[] =
    "backends/api/projects/My%20Project/certificates/bank%20root";
constexpr char kBase[] = "http://manager.test/apiops";
constexpr char kCurrentPemBody[] = "MIIBszCCAVmgAwIBAgIUcurrent";

std::string GetBody(const std::string& description = "old description") {
  return std::string(R"({"success":true,"resultList":[{"name":"bank root",
    "description":")") +
         description + R"(","certificateEnvironmentList":[
    {"environmentName":"prod","alias":"bank","sha1Thumbprint":"ab",
     "base64EncodedContent":")" +
         kCurrentPemBody + R"("}]}]})";
}

constexpr char kDeployed[] = R"({"success":true,"deploymentResult":{
  "success":true,"message":"Deployment completed successfully",
  "environmentResults":[{"environmentName":"prod","success":true,"message":"ok"}]}})";

class ApinizerStubTest : public ::testing::Test {
 protected:
  ApinizerStubTest() {
    config_.name = "api";
    config_.kind = "apinizer";
    config_.base_url = kBase;
    config_.credentials.header = AuthHeaderStyle::kBearer;
  }
  ApinizerStub MakeStub() {
    return ApinizerStub(config_, transport_, MakeStaticTokenSource("tok"));
  }
  static std::shared_ptr<CallContext> Context() {
    return std::make_shared<CallContext>(absl::Now() + absl::Seconds(30), "r");
  }
  template <typename T>
  static Done<T> Capture(std::optional<absl::StatusOr<T>>& out) {
    return [&out](absl::StatusOr<T> r) { out = std::move(r); };
  }
  BackendConfig config_;
  testing::FakeTransport transport_;
};

TEST_F(ApinizerStubTest, GetUsesEscapedPathWithTrailingSlashAndBearer) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].url,
            "http://manager.test/apiops/projects/My%20Project/certificates/"
            "bank%20root/");
  bool bearer = false;
  for (const auto& [k, v] : transport_.requests()[0].headers) {
    if (k == "Authorization" && v == "Bearer tok") bearer = true;
  }
  EXPECT_TRUE(bearer);
  ASSERT_TRUE(transport_.Respond(200, GetBody()));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), kName);
}

// apinizer.md quirk 13: legacy Confluence shows the raw token, no Bearer.
TEST_F(ApinizerStubTest, LegacyRawAuthorizationHeaderIsSelectable) {
  config_.credentials.header = AuthHeaderStyle::kAuthorization;
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  int authorization = 0;
  for (const auto& [k, v] : transport_.requests()[0].headers) {
    if (k == "Authorization") {
      EXPECT_EQ(v, "tok");
      ++authorization;
    }
  }
  EXPECT_EQ(authorization, 1);
}

TEST_F(ApinizerStubTest, NotFoundIn400BodyIsNotFound) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      400,
      R"({"status":"FAILURE","resultMessage":"Certificate (name: bank root) is not found!"})"));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ApinizerStubTest, FailureEnvelopeIn200IsAnError) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      200,
      R"({"status":"FAILURE","resultMessage":"User does not have required permission for this operation!"})"));
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(GetErrorInfo(out->status())->metadata.at("httpStatus"), "200");
}

TEST_F(ApinizerStubTest, CreateSendsEveryRequiredFieldThenReadsBack) {
  auto stub = MakeStub();
  v1::CreateCertificateRequest req;
  req.set_parent("backends/api/projects/My%20Project");
  req.set_certificate_id("bank root");
  auto* a = req.mutable_certificate()->mutable_apinizer();
  a->set_alias("bank");
  a->set_description("Root CA");
  a->add_environments("prod");
  a->add_environments("uat");
  a->set_pem_certificate(
      "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                         Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  const HttpRequest& post = transport_.requests()[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.url,
            "http://manager.test/apiops/projects/My%20Project/certificates/");
  EXPECT_THAT(std::string(post.body_view()),
              HasSubstr("name=\"certificateName\"\r\n\r\nbank root\r\n"));
  EXPECT_THAT(std::string(post.body_view()),
              HasSubstr("name=\"alias\"\r\n\r\nbank\r\n"));
  EXPECT_THAT(std::string(post.body_view()),
              HasSubstr("name=\"certificateDescription\"\r\n\r\nRoot CA\r\n"));
  EXPECT_THAT(std::string(post.body_view()),
              HasSubstr("name=\"environmentList\"\r\n\r\nprod,uat\r\n"));
  EXPECT_THAT(std::string(post.body_view()),
              HasSubstr("name=\"pemEncodedFile\"; filename="));
  ASSERT_TRUE(transport_.Respond(200, kDeployed));
  ASSERT_EQ(transport_.requests().size(), 2u) << "reads the certificate back";
  EXPECT_EQ(transport_.requests()[1].method, "GET");
  ASSERT_TRUE(transport_.Respond(200, GetBody("Root CA")));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->apinizer().deployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
  EXPECT_EQ((*out)->apinizer().deployments(0).sha1_thumbprint(), "AB");
}

TEST_F(ApinizerStubTest, CreateSucceedsEvenIfReadBackFails) {
  auto stub = MakeStub();
  v1::CreateCertificateRequest req;
  req.set_parent("backends/api/projects/p");
  req.set_certificate_id("c");
  req.mutable_certificate()->mutable_apinizer()->set_alias("a");
  req.mutable_certificate()->mutable_apinizer()->add_environments("prod");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.CreateCertificate(Context(), testing::KeptParent(req.parent()), req,
                         Capture(out));
  ASSERT_TRUE(transport_.Respond(200, kDeployed));
  ASSERT_TRUE(transport_.Respond(500, "{}"));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->name(), "backends/api/projects/p/certificates/c");
  EXPECT_EQ((*out)->apinizer().alias(), "a");
  EXPECT_EQ((*out)->apinizer().deployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
}

TEST_F(ApinizerStubTest, PartialUpdateKeepsCurrentPemAndFields) {
  auto stub = MakeStub();
  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(kName);
  req.mutable_certificate()->mutable_apinizer()->set_description("new text");
  req.mutable_update_mask()->add_paths("apinizer.description");
  req.set_jwk_update_action(v1::JWK_UPDATE_ACTION_UPDATE);
  req.set_jwk_update_scope(v1::ALL_PROJECTS);
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.UpdateCertificate(Context(), testing::KeptName(req.certificate().name()),
                         req, Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].method, "GET") << "reads first";
  ASSERT_TRUE(transport_.Respond(200, GetBody()));
  ASSERT_EQ(transport_.requests().size(), 2u);
  const HttpRequest& put = transport_.requests()[1];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.url,
            "http://manager.test/apiops/projects/My%20Project/certificates/"
            "bank%20root/?jwkUpdateAction=UPDATE&updateScope=ALL_PROJECTS");
  EXPECT_THAT(std::string(put.body_view()), HasSubstr("new text"));
  EXPECT_THAT(std::string(put.body_view()), Not(HasSubstr("old description")));
  EXPECT_THAT(std::string(put.body_view()),
              HasSubstr("name=\"alias\"\r\n\r\nbank\r\n"));
  EXPECT_THAT(std::string(put.body_view()),
              HasSubstr("name=\"environmentList\"\r\n\r\nprod\r\n"));
  EXPECT_THAT(std::string(put.body_view()),
              HasSubstr("-----BEGIN CERTIFICATE-----\n"));
  EXPECT_THAT(std::string(put.body_view()), HasSubstr(kCurrentPemBody));
  ASSERT_TRUE(transport_.Respond(200, kDeployed));
  ASSERT_TRUE(transport_.Respond(200, GetBody("new text")));
  ASSERT_TRUE(out->ok()) << out->status();
  EXPECT_EQ((*out)->apinizer().description(), "new text");
}

TEST_F(ApinizerStubTest, FullUpdateSkipsTheRead) {
  auto stub = MakeStub();
  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(kName);
  auto* a = req.mutable_certificate()->mutable_apinizer();
  a->set_description("d");
  a->set_alias("al");
  a->add_environments("prod");
  a->set_pem_certificate("PEM");
  req.mutable_update_mask()->add_paths("*");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.UpdateCertificate(Context(), testing::KeptName(req.certificate().name()),
                         req, Capture(out));
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(transport_.requests()[0].method, "PUT");
  EXPECT_THAT(transport_.requests()[0].url, Not(HasSubstr("?")));
}

TEST_F(ApinizerStubTest, UpdateOfMissingCertificateIsNotFound) {
  auto stub = MakeStub();
  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(kName);
  req.mutable_update_mask()->add_paths("apinizer.alias");
  req.mutable_certificate()->mutable_apinizer()->set_alias("x");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.UpdateCertificate(Context(), testing::KeptName(req.certificate().name()),
                         req, Capture(out));
  ASSERT_TRUE(transport_.Respond(
      400,
      R"({"error":"bad_request","error_description":"Certificate (name: bank root) is not found!"})"));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(transport_.requests().size(), 1u) << "no PUT after a failed read";
}

TEST_F(ApinizerStubTest, DeletePassesJwkActionAndReportsUndeployment) {
  auto stub = MakeStub();
  v1::DeleteCertificateRequest req;
  req.set_name(kName);
  req.set_jwk_delete_action(v1::JWK_DELETE_ACTION_DELETE);
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> out;
  stub.DeleteCertificate(Context(), testing::KeptName(req.name()), req,
                         Capture(out));
  EXPECT_EQ(transport_.requests()[0].method, "DELETE");
  EXPECT_THAT(transport_.requests()[0].url,
              HasSubstr("/bank%20root/?jwkDeleteAction=DELETE"));
  ASSERT_TRUE(transport_.Respond(200, R"({"success":true,"deploymentResult":{
    "success":true,"message":"Undeployment completed successfully",
    "environmentResults":[{"environmentName":"prod","success":true,"message":"ok"}]}})"));
  ASSERT_TRUE(out->ok());
  EXPECT_EQ((*out)->name(), kName);
  EXPECT_EQ((*out)->undeployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
}

TEST_F(ApinizerStubTest, DeleteWithoutJwkActionSendsNoQuery) {
  auto stub = MakeStub();
  v1::DeleteCertificateRequest req;
  req.set_name(kName);
  std::optional<absl::StatusOr<v1::DeleteCertificateResponse>> out;
  stub.DeleteCertificate(Context(), testing::KeptName(req.name()), req,
                         Capture(out));
  EXPECT_THAT(transport_.requests()[0].url, Not(HasSubstr("?")));
}

// Issue 10 finding 16: with the etag of an earlier read, an Update whose
// read finds the certificate changed writes nothing.
TEST_F(ApinizerStubTest, EtagPinsTheStateTheCallerRead) {
  auto stub = MakeStub();
  v1::GetCertificateRequest get;
  get.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> read;
  stub.GetCertificate(Context(), testing::KeptName(get.name()), get,
                      Capture(read));
  ASSERT_TRUE(transport_.Respond(200, GetBody()));
  ASSERT_TRUE(read->ok());
  const std::string etag = (*read)->etag();
  EXPECT_FALSE(etag.empty());

  v1::UpdateCertificateRequest req;
  req.mutable_certificate()->set_name(kName);
  req.mutable_certificate()->set_etag(etag);
  auto* a = req.mutable_certificate()->mutable_apinizer();
  a->set_description("d");
  a->set_alias("al");
  a->add_environments("prod");
  a->set_pem_certificate("PEM");
  req.mutable_update_mask()->add_paths("*");
  // Someone else changed the description meanwhile.
  std::optional<absl::StatusOr<v1::Certificate>> stale;
  stub.UpdateCertificate(Context(), testing::KeptName(kName), req,
                         Capture(stale));
  ASSERT_EQ(transport_.requests().back().method, "GET")
      << "an etag makes even a full update read first";
  ASSERT_TRUE(transport_.Respond(200, GetBody("changed by someone else")));
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(GetErrorInfo(stale->status())->reason,
            reason::kConcurrentModification);
  EXPECT_EQ(transport_.requests().size(), 2u) << "nothing written";

  // Unchanged since the read: the write goes ahead.
  std::optional<absl::StatusOr<v1::Certificate>> fresh;
  stub.UpdateCertificate(Context(), testing::KeptName(kName), req,
                         Capture(fresh));
  ASSERT_TRUE(transport_.Respond(200, GetBody()));
  ASSERT_EQ(transport_.requests().back().method, "PUT");
}

TEST_F(ApinizerStubTest, EtagChangesWithTheCertificate) {
  auto a = ParseApinizerCertificate(GetBody(), "api", "p");
  auto b = ParseApinizerCertificate(GetBody(), "api", "p");
  auto c = ParseApinizerCertificate(GetBody("other"), "api", "p");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->etag(), b->etag());
  EXPECT_NE(a->etag(), c->etag());
}

// Issue 10 finding 12: a Get answered with another certificate is not the
// answer to this call.
TEST_F(ApinizerStubTest, GetAnsweredWithAnotherCertificateIsMalformed) {
  auto stub = MakeStub();
  v1::GetCertificateRequest req;
  req.set_name("backends/api/projects/p/certificates/wanted");
  std::optional<absl::StatusOr<v1::Certificate>> out;
  stub.GetCertificate(Context(), testing::KeptName(req.name()), req,
                      Capture(out));
  ASSERT_TRUE(transport_.Respond(
      200, R"({"success":true,"resultList":[{"name":"other"}]})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetErrorInfo(out->status())->reason,
            reason::kBackendMalformedResponse);
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

constexpr char kListBody[] = R"({"status":"SUCCESS","resultCount":2,
  "resultList":[
   {"name":"b","description":"B","certificateEnvironmentList":[
     {"environmentName":"prod","alias":"b","endDate":"2030-01-31T23:59:59.000Z",
      "base64EncodedContent":"QUJD"},
     {"environmentName":"uat","alias":"b","endDate":"2027-01-31T23:59:59.000Z"}]},
   {"name":"a b","description":"A","certificateEnvironmentList":[]}]})";

TEST_F(ApinizerStubTest, ListReadsTheWholeProjectInBothGenerations) {
  auto stub = MakeStub();
  v1::ListCertificatesRequest req;
  req.set_parent("backends/api/projects/My%20Project");
  for (
      const std::string& body :
      {std::string(kListBody),
       // Legacy {success, resultList} envelope.
       std::string(
           R"({"success":true,"resultList":[{"name":"b"},{"name":"a b"}]})")}) {
    std::optional<absl::StatusOr<CertificateList>> out;
    stub.ListCertificates(Context(), testing::KeptParent(req.parent()), req,
                          Capture(out));
    EXPECT_EQ(transport_.requests().back().method, "GET");
    EXPECT_EQ(transport_.requests().back().url,
              "http://manager.test/apiops/projects/My%20Project/"
              "certificates/");
    ASSERT_TRUE(transport_.Respond(200, body));
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE(out->ok()) << out->status();
    ASSERT_EQ((*out)->certificates.size(), 2u);
    EXPECT_EQ((*out)->certificates[0].name(),
              "backends/api/projects/My%20Project/certificates/b");
    EXPECT_EQ((*out)->certificates[1].name(),
              "backends/api/projects/My%20Project/certificates/a%20b");
  }
}

TEST_F(ApinizerStubTest, ListedCertificatesMatchWhatGetReturns) {
  // A list entry is the same resource as a Get of it: same fields, same
  // etag (an Update with a listed etag must not be refused).
  auto stub = MakeStub();
  v1::ListCertificatesRequest req;
  req.set_parent("backends/api/projects/My%20Project");
  std::optional<absl::StatusOr<CertificateList>> listed;
  stub.ListCertificates(Context(), testing::KeptParent(req.parent()), req,
                        Capture(listed));
  ASSERT_TRUE(transport_.Respond(
      200, std::string(R"({"status":"SUCCESS","resultList":[)") +
               GetBody().substr(GetBody().find('[') + 1)));
  ASSERT_TRUE(listed.has_value() && listed->ok()) << listed->status();
  v1::GetCertificateRequest get;
  get.set_name(kName);
  std::optional<absl::StatusOr<v1::Certificate>> got;
  stub.GetCertificate(Context(), testing::KeptName(get.name()), get,
                      Capture(got));
  ASSERT_TRUE(transport_.Respond(200, GetBody()));
  ASSERT_TRUE(got.has_value() && got->ok());
  ASSERT_EQ((*listed)->certificates.size(), 1u);
  EXPECT_EQ((*listed)->certificates[0].SerializeAsString(),
            (*got)->SerializeAsString());
}

TEST_F(ApinizerStubTest, ListErrorsMapLikeOtherCalls) {
  auto stub = MakeStub();
  v1::ListCertificatesRequest req;
  req.set_parent("backends/api/projects/Nope");
  std::optional<absl::StatusOr<CertificateList>> out;
  stub.ListCertificates(Context(), testing::KeptParent(req.parent()), req,
                        Capture(out));
  ASSERT_TRUE(transport_.Respond(
      400,
      R"({"status":"FAILURE","resultMessage":"Project(Nope) was not found or user does not have privilege to access it!"})"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), absl::StatusCode::kNotFound);
  // FAILURE inside a 200 is an error too, and a body without a list is
  // malformed.
  out.reset();
  stub.ListCertificates(Context(), testing::KeptParent(req.parent()), req,
                        Capture(out));
  ASSERT_TRUE(transport_.Respond(
      200,
      R"({"status":"FAILURE","resultMessage":"User does not have required permission for this operation!"})"));
  EXPECT_EQ(out->status().code(), absl::StatusCode::kPermissionDenied);
  out.reset();
  stub.ListCertificates(Context(), testing::KeptParent(req.parent()), req,
                        Capture(out));
  ASSERT_TRUE(transport_.Respond(200, R"({"status":"SUCCESS"})"));
  EXPECT_EQ(GetErrorInfo(out->status())->reason, "BACKEND_MALFORMED_RESPONSE");
}

}  // namespace
}  // namespace certbridge

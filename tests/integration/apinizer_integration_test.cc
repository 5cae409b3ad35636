// The Apinizer path end to end: gRPC -> CertbridgeServer -> libcurl ->
// emulator, for each operation and each quirk of apinizer.md §7 that
// touches them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "absl/strings/match.h"
#include "server/common/log.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kParent[] = "backends/apinizer/projects/Payments";

class ApinizerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = Harness::Start();
    ASSERT_NE(h_, nullptr);
  }

  emulator::ApinizerApi& apinizer() { return h_->emulator().apinizer(); }

  static v1::CreateCertificateRequest CreateRequest(
      const std::string& name, const std::string& parent = kParent,
      std::vector<std::string> environments = {"prod", "uat"}) {
    v1::CreateCertificateRequest r;
    r.set_parent(parent);
    r.set_certificate_id(name);
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias(name + "-alias");
    a->set_description("Root CA of " + name);
    for (auto& e : environments) a->add_environments(e);
    CertificateOptions options;
    options.common_name = name;
    a->set_pem_certificate(MakePemCertificate(options));
    return r;
  }

  grpc::Status Create(const v1::CreateCertificateRequest& r,
                      v1::Certificate* out) {
    auto ctx = Harness::Context();
    return h_->stub().CreateCertificate(ctx.get(), r, out);
  }
  grpc::Status Get(const std::string& name, v1::Certificate* out) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    auto ctx = Harness::Context();
    return h_->stub().GetCertificate(ctx.get(), r, out);
  }
  grpc::Status Update(const v1::UpdateCertificateRequest& r,
                      v1::Certificate* out) {
    auto ctx = Harness::Context();
    return h_->stub().UpdateCertificate(ctx.get(), r, out);
  }
  grpc::Status Delete(
      const std::string& name, v1::DeleteCertificateResponse* out,
      v1::JwkDeleteAction action = v1::JWK_DELETE_ACTION_UNSPECIFIED) {
    v1::DeleteCertificateRequest r;
    r.set_name(name);
    r.set_jwk_delete_action(action);
    auto ctx = Harness::Context();
    return h_->stub().DeleteCertificate(ctx.get(), r, out);
  }

  std::vector<emulator::RecordedRequest> ApinizerRequests() {
    std::vector<emulator::RecordedRequest> out;
    for (auto& r : h_->emulator().Requests()) {
      if (r.api == "apinizer") out.push_back(r);
    }
    return out;
  }

  static void ExpectError(const grpc::Status& s, grpc::StatusCode code,
                          const std::string& reason) {
    RpcError e = DecodeRpcError(s);
    EXPECT_EQ(e.code, code) << e.message;
    EXPECT_EQ(e.reason, reason) << e.message;
    EXPECT_EQ(e.metadata["backend"], "apinizer") << e.message;
  }

  std::unique_ptr<Harness> h_;
};

TEST_F(ApinizerIntegrationTest, CreateGetUpdateDeleteRoundTrip) {
  v1::Certificate created;
  const grpc::Status cs = Create(CreateRequest("partner-root"), &created);
  ASSERT_TRUE(cs.ok()) << cs.error_message();
  const std::string name = std::string(kParent) + "/certificates/partner-root";
  EXPECT_EQ(created.name(), name);
  const auto& a = created.apinizer();
  EXPECT_EQ(a.alias(), "partner-root-alias");
  EXPECT_THAT(a.environments(), ::testing::ElementsAre("prod", "uat"));
  ASSERT_EQ(a.deployments_size(), 2);
  EXPECT_EQ(a.deployments(0).sha1_thumbprint().size(), 40u);
  EXPECT_THAT(a.deployments(0).subject_dn(), HasSubstr("CN=partner-root"));
  EXPECT_TRUE(a.deployments(0).has_end_time());
  EXPECT_EQ(a.deployment_result().state(), v1::DeploymentResult::SUCCEEDED);
  EXPECT_TRUE(a.pem_certificate().empty());

  v1::Certificate got;
  ASSERT_TRUE(Get(name, &got).ok());
  EXPECT_EQ(got.apinizer().description(), "Root CA of partner-root");

  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(name);
  update.mutable_certificate()->mutable_apinizer()->add_environments("staging");
  update.mutable_update_mask()->add_paths("apinizer.environments");
  v1::Certificate updated;
  const grpc::Status us = Update(update, &updated);
  ASSERT_TRUE(us.ok()) << us.error_message();
  EXPECT_THAT(updated.apinizer().environments(),
              ::testing::ElementsAre("staging"));

  v1::DeleteCertificateResponse deleted;
  ASSERT_TRUE(Delete(name, &deleted).ok());
  EXPECT_EQ(deleted.name(), name);
  EXPECT_EQ(deleted.undeployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
  ExpectError(Get(name, &got), grpc::StatusCode::NOT_FOUND,
              "CERTIFICATE_NOT_FOUND");
}

TEST_F(ApinizerIntegrationTest, CreateSendsDocumentedMultipart) {
  v1::Certificate out;
  ASSERT_TRUE(Create(CreateRequest("c1"), &out).ok());
  const auto requests = ApinizerRequests();
  ASSERT_GE(requests.size(), 1u);
  const auto& post = requests[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.path, "/apiops/projects/Payments/certificates/");
  EXPECT_EQ(post.headers.at("authorization"),
            "Bearer " + emulator::EmulatorOptions().apinizer_token);
  EXPECT_THAT(post.body,
              HasSubstr("name=\"environmentList\"\r\n\r\nprod,uat\r\n"));
  EXPECT_THAT(post.body, HasSubstr("name=\"pemEncodedFile\""));
  EXPECT_THAT(post.body, HasSubstr("name=\"certificateDescription\""));
}

TEST_F(ApinizerIntegrationTest, ProjectNamesWithSpacesAndNonAsciiAreEscaped) {
  for (const std::string project :
       {"My%20Project", "%C3%96deme%20Sistemleri"}) {
    const std::string parent = "backends/apinizer/projects/" + project;
    v1::Certificate out;
    const grpc::Status s = Create(CreateRequest("esc", parent), &out);
    ASSERT_TRUE(s.ok()) << project << ": " << s.error_message();
    EXPECT_EQ(out.name(), parent + "/certificates/esc");
    v1::Certificate got;
    ASSERT_TRUE(Get(out.name(), &got).ok()) << project;
  }
  EXPECT_TRUE(apinizer().Find("My Project", "esc").has_value());
  EXPECT_TRUE(apinizer().Find("Ödeme Sistemleri", "esc").has_value());
  bool saw_escaped = false;
  for (const auto& r : ApinizerRequests()) {
    if (r.path ==
        "/apiops/projects/%C3%96deme%20Sistemleri/certificates/esc/") {
      saw_escaped = true;
    }
  }
  EXPECT_TRUE(saw_escaped);
}

TEST_F(ApinizerIntegrationTest, PartialUpdateKeepsThePem) {
  const auto request = CreateRequest("keep-pem");
  v1::Certificate out;
  ASSERT_TRUE(Create(request, &out).ok());
  const std::string pem_before = apinizer().Find("Payments", "keep-pem")->pem;
  ASSERT_EQ(pem_before, request.certificate().apinizer().pem_certificate());

  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(out.name());
  update.mutable_certificate()->mutable_apinizer()->set_description("new");
  update.mutable_update_mask()->add_paths("apinizer.description");
  v1::Certificate updated;
  const grpc::Status s = Update(update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.apinizer().description(), "new");
  const auto stored = apinizer().Find("Payments", "keep-pem");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->description, "new");
  EXPECT_EQ(stored->alias, "keep-pem-alias");
  ASSERT_EQ(stored->entries.size(), 2u);
  // Same certificate: the PEM re-sent from the read has the same thumbprint.
  EXPECT_EQ(stored->entries[0].sha1_thumbprint,
            out.apinizer().deployments(0).sha1_thumbprint());
  const auto requests = ApinizerRequests();
  ASSERT_GE(requests.size(), 3u);
  const auto& put = requests[requests.size() - 2];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(requests[requests.size() - 3].method, "GET") << "read first";
}

TEST_F(ApinizerIntegrationTest, JwkActionsArePassedThrough) {
  v1::Certificate out;
  ASSERT_TRUE(Create(CreateRequest("jwk"), &out).ok());
  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(out.name());
  update.mutable_certificate()->mutable_apinizer()->set_alias("jwk-2");
  update.mutable_update_mask()->add_paths("apinizer.alias");
  update.set_jwk_update_action(v1::JWK_UPDATE_ACTION_UPDATE);
  update.set_jwk_update_scope(v1::SAME_PROJECT);
  v1::Certificate updated;
  ASSERT_TRUE(Update(update, &updated).ok());
  v1::DeleteCertificateResponse deleted;
  ASSERT_TRUE(Delete(out.name(), &deleted, v1::JWK_DELETE_ACTION_DELETE).ok());
  std::vector<std::string> targets;
  for (const auto& r : ApinizerRequests()) {
    if (r.method == "PUT" || r.method == "DELETE") targets.push_back(r.path);
  }
  EXPECT_THAT(targets, ::testing::ElementsAre(
                           "/apiops/projects/Payments/certificates/jwk/"
                           "?jwkUpdateAction=UPDATE&updateScope=SAME_PROJECT",
                           "/apiops/projects/Payments/certificates/jwk/"
                           "?jwkDeleteAction=DELETE"));
}

TEST_F(ApinizerIntegrationTest, DeploymentFailingInOneEnvironmentIsReported) {
  std::mutex mu;
  std::vector<std::string> lines;
  Logger::Get().SetSink([&](absl::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  apinizer().SetEnvironmentFailing("uat", true);
  v1::Certificate out;
  const grpc::Status s = Create(CreateRequest("half"), &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const auto& result = out.apinizer().deployment_result();
  EXPECT_EQ(result.state(), v1::DeploymentResult::PARTIALLY_FAILED);
  ASSERT_EQ(result.environment_results_size(), 2);
  EXPECT_TRUE(result.environment_results(0).success());
  EXPECT_EQ(result.environment_results(1).environment(), "uat");
  EXPECT_FALSE(result.environment_results(1).success());
  EXPECT_FALSE(result.environment_results(1).message().empty());

  v1::DeleteCertificateResponse deleted;
  ASSERT_TRUE(Delete(out.name(), &deleted).ok());
  EXPECT_EQ(deleted.undeployment_result().state(),
            v1::DeploymentResult::PARTIALLY_FAILED);
  // Issue 11 finding 4: not invisible to operators -- a metric per
  // operation and a warning line naming the state and the environments
  // that failed.
  const std::string metrics = h_->server().metrics().Serialize();
  EXPECT_THAT(
      metrics,
      HasSubstr(
          R"(certbridge_backend_deployment_failures_total{backend="apinizer",operation="create"} 1)"));
  EXPECT_THAT(
      metrics,
      HasSubstr(
          R"(certbridge_backend_deployment_failures_total{backend="apinizer",operation="delete"} 1)"));
  h_.reset();
  Logger::Get().SetSink(nullptr);
  int warned = 0;
  for (const auto& line : lines) {
    if (absl::StrContains(line, R"("msg":"rpc")") &&
        absl::StrContains(line, R"("level":"warning")") &&
        absl::StrContains(line, R"("deployment":"PARTIALLY_FAILED")") &&
        absl::StrContains(line, R"("failed_environments":["uat"])")) {
      ++warned;
    }
  }
  EXPECT_EQ(warned, 2);
}

TEST_F(ApinizerIntegrationTest, Quirk400sMapByMessageInBothGenerations) {
  for (auto generation : {emulator::ApinizerErrorGeneration::kCurrent,
                          emulator::ApinizerErrorGeneration::kLegacy}) {
    apinizer().Reset();
    apinizer().SetErrorGeneration(generation);
    SCOPED_TRACE(generation == emulator::ApinizerErrorGeneration::kCurrent
                     ? "current"
                     : "legacy");
    v1::Certificate out;
    ASSERT_TRUE(Create(CreateRequest("dup"), &out).ok());
    // Not found (400 "... is not found!").
    v1::Certificate got;
    ExpectError(Get(std::string(kParent) + "/certificates/missing", &got),
                grpc::StatusCode::NOT_FOUND, "CERTIFICATE_NOT_FOUND");
    // Duplicate name (400 "... is already exist!").
    ExpectError(Create(CreateRequest("dup"), &out),
                grpc::StatusCode::ALREADY_EXISTS, "CERTIFICATE_ALREADY_EXISTS");
    // Alias in use (400 "Alias (...) is already used ...").
    auto alias_clash = CreateRequest("other");
    alias_clash.mutable_certificate()->mutable_apinizer()->set_alias(
        "dup-alias");
    ExpectError(Create(alias_clash, &out), grpc::StatusCode::ALREADY_EXISTS,
                "ALIAS_ALREADY_IN_USE");
    // Unknown environment (400, other message): invalid argument.
    ExpectError(Create(CreateRequest("env", kParent, {"nowhere"}), &out),
                grpc::StatusCode::INVALID_ARGUMENT, "BACKEND_REJECTED_REQUEST");
    // Missing permission (400 "does not have required permission").
    apinizer().SetReadOnly(true);
    v1::DeleteCertificateResponse deleted;
    ExpectError(Delete(std::string(kParent) + "/certificates/dup", &deleted),
                grpc::StatusCode::PERMISSION_DENIED,
                "BACKEND_PERMISSION_DENIED");
    apinizer().SetReadOnly(false);
    // Delete / update of a missing certificate.
    ExpectError(
        Delete(std::string(kParent) + "/certificates/missing", &deleted),
        grpc::StatusCode::NOT_FOUND, "CERTIFICATE_NOT_FOUND");
  }
}

TEST_F(ApinizerIntegrationTest, UnknownProjectIsNotFound) {
  v1::Certificate out;
  ExpectError(Get("backends/apinizer/projects/Nope/certificates/x", &out),
              grpc::StatusCode::NOT_FOUND, "CERTIFICATE_NOT_FOUND");
}

TEST_F(ApinizerIntegrationTest, BadTokenIsBackendAuthFailed) {
  setenv("CERTBRIDGE_IT_WRONG_APINIZER_TOKEN", "not-the-token", 1);
  HarnessOptions options;
  options.configure = [](ServerConfig& c) {
    c.backends[1].credentials.source = CredentialsConfig::Source::kEnv;
    c.backends[1].credentials.token_env = "CERTBRIDGE_IT_WRONG_APINIZER_TOKEN";
  };
  auto h = Harness::Start(options);
  ASSERT_NE(h, nullptr);
  v1::GetCertificateRequest r;
  r.set_name(std::string(kParent) + "/certificates/x");
  v1::Certificate out;
  auto ctx = Harness::Context();
  const grpc::Status s = h->stub().GetCertificate(ctx.get(), r, &out);
  RpcError e = DecodeRpcError(s);
  EXPECT_EQ(e.code, grpc::StatusCode::INTERNAL);
  EXPECT_EQ(e.reason, "BACKEND_AUTH_FAILED");
  EXPECT_THAT(s.error_message(), Not(HasSubstr("not-the-token")));
}

TEST_F(ApinizerIntegrationTest, InvalidPemIsRefusedBeforeAnyRequest) {
  auto r = CreateRequest("bad");
  r.mutable_certificate()->mutable_apinizer()->set_pem_certificate(
      MakePkcs12());
  v1::Certificate out;
  RpcError e = DecodeRpcError(Create(r, &out));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "INVALID_PEM");
  EXPECT_TRUE(ApinizerRequests().empty());
}

TEST_F(ApinizerIntegrationTest, BothBackendKindsServedAtOnce) {
  v1::Certificate a;
  ASSERT_TRUE(Create(CreateRequest("mixed"), &a).ok());
  v1::Certificate l;
  auto ctx = Harness::Context();
  const grpc::Status s = h_->stub().CreateCertificate(
      ctx.get(), LeegalityCreateRequest("mixed.p12"), &l);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::Certificate got;
  ASSERT_TRUE(Get(a.name(), &got).ok());
  ASSERT_TRUE(Get(l.name(), &got).ok());
  EXPECT_TRUE(got.has_leegality());
}

}  // namespace
}  // namespace certbridge::testing

#include "client/output.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

grpc::Status PackedStatus() {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  proto.set_message("certificate.leegality.department_id: must be a UUID");
  google::rpc::ErrorInfo info;
  info.set_reason("INVALID_ARGUMENT");
  info.set_domain("certbridge.v1");
  (*info.mutable_metadata())["httpStatus"] = "400";
  (*info.mutable_metadata())["backend"] = "le";
  proto.add_details()->PackFrom(info);
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("certificate.leegality.department_id");
  v->set_description("must be a UUID");
  proto.add_details()->PackFrom(bad);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(2);
  retry.mutable_retry_delay()->set_nanos(500000000);
  proto.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, proto.message(),
                      proto.SerializeAsString());
}

TEST(OutputTest, FormatsPackedDetails) {
  EXPECT_EQ(FormatRpcError(PackedStatus()),
            "ERROR: INVALID_ARGUMENT: certificate.leegality.department_id: "
            "must be a UUID\n"
            "reason: INVALID_ARGUMENT\n"
            "metadata: backend=le httpStatus=400\n"
            "field_violation: certificate.leegality.department_id: must be a "
            "UUID\n"
            "retry_after: 2.5s\n");
}

TEST(OutputTest, FixedOrderWhateverTheDetailsOrder) {
  google::rpc::Status proto;
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(3);
  proto.add_details()->PackFrom(retry);
  google::rpc::BadRequest bad;
  bad.add_field_violations()->set_field("name");
  proto.add_details()->PackFrom(bad);
  google::rpc::ErrorInfo info;
  info.set_reason("INVALID_NAME");
  proto.add_details()->PackFrom(info);
  EXPECT_EQ(FormatRpcError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "m",
                                        proto.SerializeAsString())),
            "ERROR: INVALID_ARGUMENT: m\nreason: INVALID_NAME\n"
            "field_violation: name: \nretry_after: 3s\n");
}

TEST(OutputTest, FormatsWithoutDetails) {
  EXPECT_EQ(FormatRpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                        "connection refused")),
            "ERROR: UNAVAILABLE: connection refused\n");
  // Garbage details are ignored rather than crashing.
  EXPECT_EQ(FormatRpcError(
                grpc::Status(grpc::StatusCode::INTERNAL, "x", "\xff\xff\xff")),
            "ERROR: INTERNAL: x\n");
}

TEST(OutputTest, EscapesControlCharacters) {
  EXPECT_EQ(
      FormatRpcError(grpc::Status(grpc::StatusCode::NOT_FOUND, "a\x1b[2Jb\nc")),
      "ERROR: NOT_FOUND: a\\x1b[2Jb\\x0ac\n");
}

TEST(OutputTest, StatusCodeNames) {
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::DEADLINE_EXCEEDED),
            "DEADLINE_EXCEEDED");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::ALREADY_EXISTS), "ALREADY_EXISTS");
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(99)), "CODE_99");
}

TEST(OutputTest, CertificateJsonUsesProtoNamesAndDropsSecrets) {
  const std::string p12 = testing::MakePkcs12();
  v1::Certificate cert;
  cert.set_name("backends/le/certificates/id");
  cert.set_display_name("Signer.p12");
  auto* l = cert.mutable_leegality();
  l->set_department_id("dep");
  l->set_enabled(false);
  l->set_certificate_type(v1::LeegalityCertificate::PKCS12_PFX);
  l->set_pkcs12_file(p12);
  l->set_passkey("super-secret-passkey");
  auto json = CertificateToJson(cert);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"department_id\": \"dep\""));
  EXPECT_THAT(*json, HasSubstr("\"enabled\": false"));
  EXPECT_THAT(*json, HasSubstr("\"certificate_type\": \"PKCS12_PFX\""));
  EXPECT_THAT(*json, Not(HasSubstr("super-secret-passkey")));
  EXPECT_THAT(*json, Not(HasSubstr("passkey")));
  EXPECT_THAT(*json, Not(HasSubstr("pkcs12_file")));
  EXPECT_THAT(*json, Not(HasSubstr(absl::Base64Escape(p12).substr(0, 40))));
}

TEST(OutputTest, ApinizerJsonDropsPem) {
  const std::string pem = testing::MakePemCertificate();
  v1::Certificate cert;
  cert.set_name("backends/ap/projects/p/certificates/c");
  auto* a = cert.mutable_apinizer();
  a->set_alias("al");
  a->add_environments("prod");
  a->set_pem_certificate(pem);
  auto json = CertificateToJson(cert);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"alias\": \"al\""));
  EXPECT_THAT(*json, Not(HasSubstr("pem_certificate")));
  EXPECT_THAT(*json, Not(HasSubstr(absl::Base64Escape(pem).substr(0, 40))));
}

TEST(OutputTest, DeleteResponseAndDeploymentWarning) {
  v1::DeleteCertificateResponse response;
  response.set_name("backends/ap/projects/p/certificates/c");
  auto* u = response.mutable_undeployment_result();
  u->set_state(v1::DeploymentResult::PARTIALLY_FAILED);
  auto* e = u->add_environment_results();
  e->set_environment("prod");
  e->set_success(false);
  e->set_message("timeout");
  auto json = DeleteResponseToJson(response);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"undeployment_result\""));
  EXPECT_EQ(DeploymentWarning(*u),
            "WARNING: deployment PARTIALLY_FAILED in: prod (timeout)\n");
  u->set_state(v1::DeploymentResult::SUCCEEDED);
  EXPECT_EQ(DeploymentWarning(*u), std::nullopt);
}

}  // namespace
}  // namespace certbridge::cli

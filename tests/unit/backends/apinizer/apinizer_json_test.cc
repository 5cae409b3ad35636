// Bodies from apinizer.md §4/§5.1, both response generations.
#include "server/backends/apinizer/apinizer_json.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "server/common/errors.h"

namespace certbridge {
namespace {

constexpr char kCertificate[] = R"({
  "name": "partner-bank-root", "description": "Root CA of partner bank",
  "certificateEnvironmentList": [
    {"environmentName": "prod", "startDate": "2025-02-01T00:00:00.000Z",
     "endDate": "2030-01-31T23:59:59.000Z", "base64EncodedContent": "TUlJ",
     "sha1Thumbprint": "3f2a9c0d5e7b11a4c6d8e0f2a4b6c8d0e2f4a6b8",
     "subjectDn": "CN=Partner Bank Root, O=Partner Bank, C=DE",
     "alias": "partner-bank-root"},
    {"environmentName": "uat", "startDate": "2025-02-01T00:00:00Z",
     "endDate": "2030-01-31T23:59:59Z", "alias": "partner-bank-root"},
    {"environmentName": "uat", "startDate": "2025-02-01T00:00:00Z",
     "endDate": "2030-01-31T23:59:59Z", "alias": "partner-bank-root"}]})";

TEST(ApinizerJsonTest, GetParsesBothSuccessGenerations) {
  for (const std::string& envelope :
       {std::string(R"({"success":true,"resultList":[)") + kCertificate + "]}",
        std::string(R"({"status":"SUCCESS","resultCount":1,"resultList":[)") +
            kCertificate + "]}"}) {
    std::string content;
    auto c = ParseApinizerCertificate(envelope, "api", "My Project", &content);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->name(),
              "backends/api/projects/My%20Project/certificates/"
              "partner-bank-root");
    EXPECT_EQ(c->display_name(), "partner-bank-root");
    const auto& a = c->apinizer();
    EXPECT_EQ(a.description(), "Root CA of partner bank");
    EXPECT_EQ(a.alias(), "partner-bank-root");
    // Duplicate environment entries (quirk 7) are listed once.
    ASSERT_EQ(a.environments_size(), 2);
    EXPECT_EQ(a.environments(0), "prod");
    EXPECT_EQ(a.environments(1), "uat");
    ASSERT_EQ(a.deployments_size(), 3);
    const auto& d = a.deployments(0);
    EXPECT_EQ(d.sha1_thumbprint(), "3F2A9C0D5E7B11A4C6D8E0F2A4B6C8D0E2F4A6B8");
    EXPECT_EQ(d.subject_dn(), "CN=Partner Bank Root, O=Partner Bank, C=DE");
    EXPECT_EQ(d.start_date(), "2025-02-01T00:00:00.000Z");
    EXPECT_EQ(d.start_time().seconds(), 1738368000);
    EXPECT_TRUE(a.deployments(1).has_end_time());
    EXPECT_TRUE(a.pem_certificate().empty()) << "no certificate bytes out";
    EXPECT_EQ(content, "TUlJ");
  }
}

TEST(ApinizerJsonTest, GetRejectsOddLists) {
  EXPECT_FALSE(ParseApinizerCertificate(R"({"success":true,"resultList":[]})",
                                        "api", "p")
                   .ok());
  EXPECT_FALSE(ParseApinizerCertificate("<html/>", "api", "p").ok());
  EXPECT_FALSE(ParseApinizerCertificate(
                   R"({"resultList":[{"description":"x"}]})", "api", "p")
                   .ok());
}

TEST(ApinizerJsonTest, DeploymentStates) {
  auto all_ok = ParseApinizerDeployment(R"({"success":true,"deploymentResult":{
    "success":true,"message":"Deployment completed successfully",
    "environmentResults":[{"environmentName":"prod","success":true,"message":"Deployed successfully"},
                          {"environmentName":"uat","success":true,"message":"Deployed successfully"}]}})");
  ASSERT_TRUE(all_ok.ok());
  EXPECT_EQ(all_ok->state(), v1::DeploymentResult::SUCCEEDED);
  EXPECT_EQ(all_ok->message(), "Deployment completed successfully");
  ASSERT_EQ(all_ok->environment_results_size(), 2);

  auto partial = ParseApinizerDeployment(R"({"success":true,"deploymentResult":{
    "success":false,"message":"Deployment failed for some environments",
    "environmentResults":[{"environmentName":"prod","success":true,"message":"ok"},
                          {"environmentName":"uat","success":false,"message":"worker unreachable"}]}})");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->state(), v1::DeploymentResult::PARTIALLY_FAILED);
  EXPECT_FALSE(partial->environment_results(1).success());
  EXPECT_EQ(partial->environment_results(1).message(), "worker unreachable");

  auto failed = ParseApinizerDeployment(R"({"success":true,"deploymentResult":{
    "success":false,"message":"x","environmentResults":[]}})");
  EXPECT_EQ(failed->state(), v1::DeploymentResult::FAILED);

  auto bare = ParseApinizerDeployment(R"({"status":"SUCCESS"})");
  EXPECT_EQ(bare->state(), v1::DeploymentResult::NOT_APPLICABLE);

  EXPECT_FALSE(ParseApinizerDeployment("[1]").ok());
}

TEST(ApinizerJsonTest, ErrorBodiesOfBothGenerations) {
  auto current = ParseApinizerError(
      R"({"status":"FAILURE","resultMessage":"Certificate (name: x) is not found!"})");
  EXPECT_EQ(current.message, "Certificate (name: x) is not found!");
  EXPECT_EQ(current.code, "FAILURE");
  auto legacy = ParseApinizerError(
      R"({"error":"bad_request","error_description":"Alias (a) is already used for another certificate, try changing this value!"})");
  EXPECT_EQ(legacy.code, "bad_request");
  EXPECT_EQ(legacy.message,
            "Alias (a) is already used for another certificate, try changing "
            "this value!");
  EXPECT_TRUE(ParseApinizerError("").message.empty());
}

TEST(ApinizerJsonTest, FailureHiddenIn200) {
  EXPECT_TRUE(
      ApinizerFailureIn200(
          R"({"status":"FAILURE","resultMessage":"Token is not valid!"})")
          .has_value());
  EXPECT_TRUE(ApinizerFailureIn200(R"({"success":false})").has_value());
  EXPECT_FALSE(ApinizerFailureIn200(
                   R"({"success":true,"deploymentResult":{"success":false}})")
                   .has_value());
  EXPECT_FALSE(ApinizerFailureIn200(R"({"status":"SUCCESS"})").has_value());
}

// apinizer.md §7.4: Apinizer answers not-found, duplicates and permission
// problems alike with HTTP 400; only the message tells them apart. Mapped
// end to end: the body as the vendor sends it, through MapHttpError.
struct Row {
  Operation op;
  int http;
  const char* message;
  absl::StatusCode code;
  const char* reason;
};

class ApinizerErrorMappingTest : public ::testing::TestWithParam<Row> {};

TEST_P(ApinizerErrorMappingTest, FourHundredsAreReadByTheirMessage) {
  const Row& row = GetParam();
  HttpErrorInput in;
  in.kind = "apinizer";
  in.operation = row.op;
  in.backend = "b1";
  in.http_status = row.http;
  in.body = ParseApinizerError(nlohmann::json{
      {"status", "FAILURE"},
      {"resultMessage",
       row.message}}.dump());
  absl::Status s = MapHttpError(in);
  EXPECT_EQ(s.code(), row.code) << row.message;
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason, row.reason) << row.message;
}

constexpr auto kCreate = Operation::kCreate;
constexpr auto kGet = Operation::kGet;
constexpr auto kDelete = Operation::kDelete;
using C = absl::StatusCode;

INSTANTIATE_TEST_SUITE_P(
    ApinizerMd, ApinizerErrorMappingTest,
    ::testing::Values(
        Row{kGet, 400, "Certificate (name: x) is not found!", C::kNotFound,
            "CERTIFICATE_NOT_FOUND"},
        Row{kGet, 400,
            "Project(P) was not found or user does not have privilege to "
            "access it!",
            C::kNotFound, "CERTIFICATE_NOT_FOUND"},
        Row{kCreate, 400,
            "Environment (qa) is not found or user does not have privilege "
            "to access it!",
            C::kInvalidArgument, "BACKEND_REJECTED_REQUEST"},
        Row{kCreate, 400, "Certificate (name: x) is already exist!",
            C::kAlreadyExists, "CERTIFICATE_ALREADY_EXISTS"},
        Row{kCreate, 400,
            "Alias (x) is already used for another certificate, try changing "
            "this value!",
            C::kAlreadyExists, "ALIAS_ALREADY_IN_USE"},
        Row{kDelete, 400,
            "User does not have required permission for this operation!",
            C::kPermissionDenied, "BACKEND_PERMISSION_DENIED"},
        Row{kCreate, 400, "alias value can not be empty!", C::kInvalidArgument,
            "BACKEND_REJECTED_REQUEST"},
        // The reading is for 400s: a 500 saying "not found" is still a 500.
        Row{kGet, 500, "Certificate (name: x) is not found!", C::kInternal,
            "BACKEND_INTERNAL_ERROR"}));

}  // namespace
}  // namespace certbridge

// The Apinizer emulator's handlers, called directly: the documented
// statuses, messages and envelopes (apinizer.md §4, §5, §7).
#include "tests/emulator/apinizer_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "server/http/multipart.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::emulator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kToken[] = "tok";
constexpr char kCerts[] = "/apiops/projects/Payments/certificates/";

struct Form {
  std::string name = "root";
  std::string alias = "root-alias";
  std::string description = "d";
  std::string environments = "prod,uat";
  std::string pem = testing::MakePemCertificate();
  bool send_name = true;
};

class ApinizerApiTest : public ::testing::Test {
 protected:
  HttpRequest Request(const std::string& method, const std::string& target,
                      const std::string& token = kToken) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return r;
  }
  HttpRequest Upload(const std::string& method, const std::string& target,
                     const Form& f) {
    HttpRequest r = Request(method, target);
    MultipartBuilder b("test-boundary-123");
    if (f.send_name) b.AddField("certificateName", f.name);
    b.AddField("alias", f.alias);
    b.AddField("certificateDescription", f.description);
    b.AddField("environmentList", f.environments);
    b.AddFile("pemEncodedFile", "c.pem", "application/x-pem-file", f.pem);
    r.body = b.Build();
    r.headers["content-type"] = b.ContentType();
    return r;
  }
  static std::string Message(const HttpResponse& r) {
    const json j = json::parse(r.body);
    return j.contains("resultMessage")
               ? j["resultMessage"].get<std::string>()
               : j["error_description"].get<std::string>();
  }
  ApinizerApi api_{kToken};
};

TEST_F(ApinizerApiTest, TokenIsRequiredInBothGenerations) {
  HttpResponse r = api_.Handle(Request("GET", kCerts, ""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["status"], "FAILURE");
  EXPECT_THAT(Message(r), HasSubstr("Empty Key!"));
  EXPECT_EQ(Message(api_.Handle(Request("GET", kCerts, "bad"))),
            "Token is not valid!");
  api_.SetErrorGeneration(ApinizerErrorGeneration::kLegacy);
  r = api_.Handle(Request("GET", kCerts, "bad"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(json::parse(r.body)["error"], "invalid_token");
}

TEST_F(ApinizerApiTest, TrailingSlashIsMandatory) {
  HttpResponse r =
      api_.Handle(Request("GET", "/apiops/projects/Payments/certificates"));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(ApinizerApiTest, CreateGetListDelete) {
  HttpResponse r = api_.Handle(Upload("POST", kCerts, Form()));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["success"], true);
  EXPECT_EQ(j["deploymentResult"]["success"], true);
  EXPECT_EQ(j["deploymentResult"]["environmentResults"].size(), 2u);

  r = api_.Handle(Request("GET", std::string(kCerts) + "root/"));
  ASSERT_EQ(r.status, 200);
  j = json::parse(r.body);
  EXPECT_EQ(j["success"], true);
  ASSERT_EQ(j["resultList"].size(), 1u);
  const json& entry = j["resultList"][0]["certificateEnvironmentList"][0];
  EXPECT_EQ(entry["environmentName"], "prod");
  EXPECT_EQ(entry["sha1Thumbprint"].get<std::string>().size(), 40u);
  EXPECT_THAT(entry["subjectDn"].get<std::string>(),
              HasSubstr("O=certbridge tests, CN=certbridge-test"));
  EXPECT_THAT(entry["endDate"].get<std::string>(), HasSubstr(".000Z"));

  r = api_.Handle(Request("GET", kCerts));
  j = json::parse(r.body);
  EXPECT_EQ(j["status"], "SUCCESS");
  EXPECT_EQ(j["resultCount"], 1);

  r = api_.Handle(
      Request("DELETE", std::string(kCerts) + "root/?jwkDeleteAction=DELETE"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["deploymentResult"]["message"],
            "Undeployment completed successfully");
  EXPECT_EQ(api_.CertificateCount(), 0u);
}

TEST_F(ApinizerApiTest, DocumentedBadRequests) {
  ASSERT_EQ(api_.Handle(Upload("POST", kCerts, Form())).status, 200);
  HttpResponse r = api_.Handle(Upload("POST", kCerts, Form()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Message(r), "Certificate (name: root) is already exist!");
  Form clash;
  clash.name = "other";
  r = api_.Handle(Upload("POST", kCerts, clash));
  EXPECT_EQ(Message(r),
            "Alias (root-alias) is already used for another certificate, try "
            "changing this value!");
  Form no_alias;
  no_alias.name = "x";
  no_alias.alias = "";
  EXPECT_EQ(Message(api_.Handle(Upload("POST", kCerts, no_alias))),
            "alias value can not be empty!");
  Form bad_env;
  bad_env.name = "y";
  bad_env.alias = "y";
  bad_env.environments = "prod,qa";
  EXPECT_THAT(Message(api_.Handle(Upload("POST", kCerts, bad_env))),
              HasSubstr("Environment (qa) is not found"));
  r = api_.Handle(Request("GET", std::string(kCerts) + "nope/"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Message(r), "Certificate (name: nope) is not found!");
  r = api_.Handle(Request("GET", "/apiops/projects/Nope/certificates/"));
  EXPECT_THAT(Message(r), HasSubstr("Project(Nope) was not found"));
  api_.SetReadOnly(true);
  EXPECT_EQ(
      Message(api_.Handle(Request("DELETE", std::string(kCerts) + "root/"))),
      "User does not have required permission for this operation!");
}

TEST_F(ApinizerApiTest, LegacyGenerationErrorBody) {
  api_.SetErrorGeneration(ApinizerErrorGeneration::kLegacy);
  HttpResponse r = api_.Handle(Request("GET", std::string(kCerts) + "nope/"));
  const json j = json::parse(r.body);
  EXPECT_EQ(j["error"], "bad_request");
  EXPECT_EQ(j["error_description"], "Certificate (name: nope) is not found!");
}

TEST_F(ApinizerApiTest, UpdateReplacesAndAcceptsMissingName) {
  ASSERT_EQ(api_.Handle(Upload("POST", kCerts, Form())).status, 200);
  Form f;
  f.send_name = false;  // the documented update examples omit it
  f.description = "new";
  f.environments = "staging";
  HttpResponse r = api_.Handle(
      Upload("PUT", std::string(kCerts) + "root/?jwkUpdateAction=UPDATE", f));
  ASSERT_EQ(r.status, 200) << r.body;
  auto stored = api_.Find("Payments", "root");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->description, "new");
  ASSERT_EQ(stored->entries.size(), 1u);
  EXPECT_EQ(stored->entries[0].environment, "staging");
  r = api_.Handle(
      Upload("PUT", std::string(kCerts) + "root/?jwkUpdateAction=MAYBE", f));
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApinizerApiTest, FailingEnvironmentYieldsPartialDeployment) {
  api_.SetEnvironmentFailing("uat", true);
  HttpResponse r = api_.Handle(Upload("POST", kCerts, Form()));
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  EXPECT_EQ(j["success"], true);
  EXPECT_EQ(j["deploymentResult"]["success"], false);
  EXPECT_EQ(j["deploymentResult"]["environmentResults"][1]["success"], false);
  EXPECT_EQ(j["deploymentResult"]["environmentResults"][0]["success"], true);
}

TEST_F(ApinizerApiTest, InvalidPemIsRejected) {
  Form f;
  f.pem = "not a certificate";
  HttpResponse r = api_.Handle(Upload("POST", kCerts, f));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(api_.CertificateCount(), 0u);
}

}  // namespace
}  // namespace certbridge::emulator

namespace certbridge::emulator {
namespace {

TEST_F(ApinizerApiTest, ListingTheAdminProjectListsEveryProject) {
  Form payments;
  payments.name = "pay-root";
  payments.alias = "pay";
  ASSERT_EQ(api_.Handle(Upload("POST", kCerts, payments)).status, 200);
  Form global;
  global.name = "global-root";
  global.alias = "global";
  ASSERT_EQ(api_.Handle(Upload("POST", "/apiops/projects/admin/certificates/",
                               global))
                .status,
            200);
  Form other;
  other.name = "pay-root";  // the same name in another project
  other.alias = "pay2";
  ASSERT_EQ(
      api_.Handle(Upload("POST", "/apiops/projects/My%20Project/certificates/",
                         other))
          .status,
      200);

  auto names = [this](const std::string& target) {
    HttpResponse r = api_.Handle(Request("GET", target));
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    EXPECT_EQ(j["status"], "SUCCESS");
    EXPECT_EQ(j["resultCount"], j["resultList"].size());
    std::vector<std::string> out;
    for (const json& c : j["resultList"]) {
      // Entries carry no project.
      EXPECT_FALSE(c.contains("projectName"));
      out.push_back(c["name"]);
    }
    return out;
  };
  EXPECT_THAT(names(kCerts), ::testing::ElementsAre("pay-root"));
  // admin's own first, then every other project's.
  EXPECT_THAT(names("/apiops/projects/admin/certificates/"),
              ::testing::ElementsAre("global-root", "pay-root", "pay-root"));
  // Unknown project: the documented 400.
  HttpResponse r =
      api_.Handle(Request("GET", "/apiops/projects/Nope/certificates/"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(Message(r), HasSubstr("Project(Nope) was not found"));
  // Legacy generation: {success, resultList}.
  api_.SetErrorGeneration(ApinizerErrorGeneration::kLegacy);
  const json legacy = json::parse(api_.Handle(Request("GET", kCerts)).body);
  EXPECT_EQ(legacy["success"], true);
  EXPECT_EQ(legacy["resultList"].size(), 1u);
}

}  // namespace
}  // namespace certbridge::emulator

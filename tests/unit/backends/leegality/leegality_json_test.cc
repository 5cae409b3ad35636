// Bodies copied from the vendor's SignStation certificate pages.
#include "server/backends/leegality/leegality_json.h"

#include <gtest/gtest.h>

namespace certbridge {
namespace {

constexpr char kVo[] = R"({
  "id": "46d4e120-ed03-47cc-98c6-529bff3bbabc",
  "name": "TestCertificate.leegality.com",
  "certificateType": "PKCS12_PFX",
  "expiry": "2027-03-31T23:59:59Z",
  "createdAt": "string",
  "departmentId": "18b45e41-5d8b-4417-bb83-1d769187aef9",
  "departmentName": "HR"
})";

void ExpectSeedCertificate(const v1::Certificate& c) {
  EXPECT_EQ(c.name(),
            "backends/lee/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc");
  EXPECT_EQ(c.display_name(), "TestCertificate.leegality.com");
  const auto& l = c.leegality();
  EXPECT_EQ(l.id(), "46d4e120-ed03-47cc-98c6-529bff3bbabc");
  EXPECT_EQ(l.certificate_type(), v1::LeegalityCertificate::PKCS12_PFX);
  EXPECT_EQ(l.expiry(), "2027-03-31T23:59:59Z");
  EXPECT_EQ(l.expire_time().seconds(), 1806537599);
  // "string" (the pages' placeholder) does not parse: raw kept, no time.
  EXPECT_EQ(l.created_at(), "string");
  EXPECT_FALSE(l.has_create_time());
  EXPECT_EQ(l.department_id(), "18b45e41-5d8b-4417-bb83-1d769187aef9");
  EXPECT_EQ(l.department_name(), "HR");
  EXPECT_FALSE(l.has_enabled());
  EXPECT_TRUE(l.pkcs12_file().empty());
  EXPECT_TRUE(l.passkey().empty());
}

TEST(LeegalityJsonTest, GetReturnsBareObject) {
  auto c = ParseLeegalityCertificate(kVo, "lee");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSeedCertificate(*c);
}

TEST(LeegalityJsonTest, CreateWrapsInData) {
  auto c =
      ParseLeegalityCertificate(std::string(R"({"data":)") + kVo + "}", "lee");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSeedCertificate(*c);
}

TEST(LeegalityJsonTest, UpdateWrapsWithNullCodeAndMessage) {
  auto c = ParseLeegalityCertificate(
      std::string(R"({"code":null,"message":null,"data":)") + kVo + "}", "lee");
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSeedCertificate(*c);
}

TEST(LeegalityJsonTest, ToleratesNullsEnabledAndEpochMillis) {
  auto c = ParseLeegalityCertificate(
      R"({"id":"46d4e120-ed03-47cc-98c6-529bff3bbabc","name":null,
          "certificateType":"SOMETHING_NEW","expiry":1806537599000,
          "departmentId":null,"departmentName":null,"enabled":false})",
      "lee");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->leegality().certificate_type(),
            v1::LeegalityCertificate::CERTIFICATE_TYPE_UNSPECIFIED);
  EXPECT_EQ(c->leegality().expire_time().seconds(), 1806537599);
  EXPECT_TRUE(c->leegality().has_enabled());
  EXPECT_FALSE(c->leegality().enabled());
}

class MalformedTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MalformedTest, IsRejected) {
  EXPECT_FALSE(ParseLeegalityCertificate(GetParam(), "lee").ok()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, MalformedTest,
    ::testing::Values("", "<html>502</html>", "[]", "{}", R"({"data":{}})",
                      R"({"data":null})", R"({"id":7})", R"({"id":""})",
                      R"({"id":"x","name":5})", R"({"id":"x","enabled":"yes"})",
                      R"({"id":"x","expiry":{}})",
                      R"({"code":"LE_SS_002","message":"ok","data":{}})"));

TEST(LeegalityJsonTest, DeleteAck) {
  EXPECT_TRUE(
      ParseLeegalityDeleteAck(
          R"({"code":"LE_SS_002","message":"Requested record has been deleted.","data":{}})")
          .ok());
  EXPECT_TRUE(ParseLeegalityDeleteAck("").ok());
  EXPECT_FALSE(ParseLeegalityDeleteAck("deleted").ok());
  EXPECT_FALSE(ParseLeegalityDeleteAck("[1]").ok());
}

TEST(LeegalityJsonTest, ErrorBodies) {
  auto e = ParseLeegalityError(
      R"({"code":"LE_ERR_SS_404","errors":[{"message":"Certificate with id x does not exist","path":"/api/v1/certificates/x","code":"LE_ERR_SS_001"}]})");
  EXPECT_EQ(e.code, "LE_ERR_SS_404");
  EXPECT_EQ(e.inner_code, "LE_ERR_SS_001");
  EXPECT_EQ(e.message, "Certificate with id x does not exist");
  e = ParseLeegalityError(
      R"({"code":"LE_ERR_SS_400","errors":[{"message":"Invalid UUID provided.","path":"/x","code":null}]})");
  EXPECT_EQ(e.code, "LE_ERR_SS_400");
  EXPECT_EQ(e.inner_code, "");
  EXPECT_EQ(e.message, "Invalid UUID provided.");
  e = ParseLeegalityError("<html>Bad Gateway</html>");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "");
}

}  // namespace
}  // namespace certbridge

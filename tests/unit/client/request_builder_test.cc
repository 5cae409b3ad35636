#include "client/request_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kLeName[] =
    "backends/le/certificates/0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr char kApName[] = "backends/ap/projects/p1/certificates/gw-cert";

Command MustParse(std::vector<std::string> args) {
  auto c = ParseCommandLine(args);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : Command{};
}

std::vector<std::string> Paths(const v1::UpdateCertificateRequest& r) {
  return {r.update_mask().paths().begin(), r.update_mask().paths().end()};
}

TEST(RequestBuilderTest, LeegalityCreate) {
  const std::string p12 = testing::MakePkcs12();
  Command c = MustParse({"create", "backends/le", "--file=/certs/Signer.P12",
                         "--passkey_env=PK", "--department_id=dep",
                         "--enabled=true", "--request_id=rid"});
  auto r = BuildCreateRequest(c, {p12, std::string("test-passkey")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->parent(), "backends/le");
  EXPECT_EQ(r->certificate_id(), "");
  EXPECT_EQ(r->request_id(), "rid");
  ASSERT_TRUE(r->certificate().has_leegality());
  const auto& l = r->certificate().leegality();
  EXPECT_EQ(l.pkcs12_file(), p12);
  EXPECT_EQ(l.passkey(), "test-passkey");
  EXPECT_EQ(l.file_name(), "Signer.P12");
  EXPECT_EQ(l.department_id(), "dep");
  ASSERT_TRUE(l.has_enabled());
  EXPECT_TRUE(l.enabled());
}

TEST(RequestBuilderTest, LeegalityCreateNeedsPasskey) {
  Command c = MustParse({"create", "backends/le", "--file=a.p12"});
  auto r = BuildCreateRequest(c, {"bytes", std::nullopt});
  EXPECT_FALSE(r.ok());
}

TEST(RequestBuilderTest, UploadFileName) {
  Command c = MustParse({"create", "backends/le", "--file=/x/y/cert.bin"});
  EXPECT_EQ(UploadFileName(c), "");
  c = MustParse({"create", "backends/le", "--file=cert.pfx"});
  EXPECT_EQ(UploadFileName(c), "cert.pfx");
  c = MustParse(
      {"create", "backends/le", "--file=/x/c.p12", "--file_name=Nice.p12"});
  EXPECT_EQ(UploadFileName(c), "Nice.p12");
}

TEST(RequestBuilderTest, ApinizerCreate) {
  const std::string pem = testing::MakePemCertificate();
  Command c = MustParse(
      {"create", "backends/ap/projects/p1", "--certificate_id=gw", "--alias=al",
       "--description=desc", "--environments=prod,test", "--file=c.pem"});
  auto r = BuildCreateRequest(c, {pem, std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->parent(), "backends/ap/projects/p1");
  EXPECT_EQ(r->certificate_id(), "gw");
  ASSERT_TRUE(r->certificate().has_apinizer());
  const auto& a = r->certificate().apinizer();
  EXPECT_EQ(a.pem_certificate(), pem);
  EXPECT_EQ(a.alias(), "al");
  EXPECT_EQ(a.description(), "desc");
  EXPECT_THAT(a.environments(), ElementsAre("prod", "test"));
}

TEST(RequestBuilderTest, LeegalityUpdateDerivesMask) {
  Command c = MustParse({"update", kLeName, "--enabled=false"});
  auto r = BuildUpdateRequest(c, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->certificate().name(), kLeName);
  EXPECT_THAT(Paths(*r), ElementsAre("leegality.enabled"));
  EXPECT_FALSE(r->certificate().leegality().enabled());
  EXPECT_TRUE(r->certificate().leegality().has_enabled());

  c = MustParse({"update", kLeName, "--department_id=dep", "--file=new.p12",
                 "--passkey_file=pk"});
  r = BuildUpdateRequest(c, {"P12BYTES", std::string("pk")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Paths(*r),
              ElementsAre("leegality.department_id", "leegality.pkcs12_file",
                          "leegality.passkey", "leegality.file_name"));
  EXPECT_EQ(r->certificate().leegality().pkcs12_file(), "P12BYTES");
  EXPECT_EQ(r->certificate().leegality().passkey(), "pk");
  EXPECT_FALSE(r->certificate().leegality().has_enabled());
}

TEST(RequestBuilderTest, ApinizerUpdateDerivesMask) {
  Command c = MustParse(
      {"update", kApName, "--description=d", "--environments=", "--file=c.pem",
       "--jwk_update_action=UPDATE", "--jwk_update_scope=SAME_PROJECT"});
  auto r = BuildUpdateRequest(c, {"PEM", std::nullopt});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Paths(*r),
              ElementsAre("apinizer.description", "apinizer.environments",
                          "apinizer.pem_certificate"));
  EXPECT_TRUE(r->certificate().apinizer().environments().empty());
  EXPECT_EQ(r->jwk_update_action(), v1::JWK_UPDATE_ACTION_UPDATE);
  EXPECT_EQ(r->jwk_update_scope(), v1::SAME_PROJECT);
}

TEST(RequestBuilderTest, UpdateWithNothingIsAnError) {
  auto r = BuildUpdateRequest(MustParse({"update", kApName}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("nothing to update"));
}

TEST(RequestBuilderTest, ExplicitMaskIsUsedAndMustCoverFlags) {
  // Clearing a field: in the mask, no flag.
  auto r = BuildUpdateRequest(
      MustParse({"update", kApName, "--update_mask=apinizer.description"}), {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Paths(*r), ElementsAre("apinizer.description"));
  EXPECT_TRUE(r->certificate().has_apinizer());

  r = BuildUpdateRequest(MustParse({"update", kApName, "--alias=x",
                                    "--update_mask=apinizer.description"}),
                         {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("--alias sets apinizer.alias"));

  r = BuildUpdateRequest(
      MustParse({"update", kLeName, "--enabled=true", "--update_mask=*"}), {});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Paths(*r), ElementsAre("*"));
}

TEST(RequestBuilderTest, GetAndDelete) {
  EXPECT_EQ(BuildGetRequest(MustParse({"get", kLeName})).name(), kLeName);
  auto d = BuildDeleteRequest(
      MustParse({"delete", kApName, "--jwk_delete_action=NULLIFY"}));
  EXPECT_EQ(d.name(), kApName);
  EXPECT_EQ(d.jwk_delete_action(), v1::JWK_DELETE_ACTION_NULLIFY);
}

}  // namespace
}  // namespace certbridge::cli

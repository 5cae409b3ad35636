// errors.md "Local validation": each row, for both backend kinds, decided
// before any backend I/O.
#include "server/service/request_validation.h"

#include <gtest/gtest.h>

#include "server/certificates/certificate_checks.h"
#include "server/common/errors.h"
#include "tests/testing/builtin_vendor.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge {
namespace {

constexpr char kUuid[] = "46d4e120-ed03-47cc-98c6-529bff3bbabc";

class RequestValidationTest : public ::testing::Test {
 protected:
  RequestValidationTest() {
    registry_.Add(std::make_unique<BackendConnection>(
        "lee", BuiltinVendor("leegality"), std::make_unique<BackendStub>()));
    registry_.Add(std::make_unique<BackendConnection>(
        "api", BuiltinVendor("apinizer"), std::make_unique<BackendStub>()));
  }

  static std::string Reason(const absl::Status& s) {
    auto info = GetErrorInfo(s);
    return info ? info->reason : "";
  }
  static std::string Field(const absl::Status& s) {
    auto v = GetFieldViolations(s);
    return v.empty() ? "" : v[0].field;
  }

  static v1::CreateCertificateRequest ApinizerCreate() {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/api/projects/p");
    r.set_certificate_id("bank-root");
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias("bank");
    a->add_environments("prod");
    a->set_pem_certificate(testing::MakePemCertificate());
    return r;
  }

  static v1::CreateCertificateRequest LeegalityCreate() {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/lee");
    auto* l = r.mutable_certificate()->mutable_leegality();
    l->set_pkcs12_file(testing::MakePkcs12());
    l->set_passkey("test-passkey");
    return r;
  }

  BackendRegistry registry_;
  const absl::Time now_ = absl::Now();
};

TEST_F(RequestValidationTest, NamesRouteToTheRightKind) {
  EXPECT_TRUE(
      RouteCertificateName(
          registry_, std::string("backends/lee/certificates/") + kUuid, "name")
          .ok());
  EXPECT_TRUE(
      RouteCertificateName(
          registry_, "backends/api/projects/My%20P/certificates/x", "name")
          .ok());
  for (const char* bad :
       {"backends/lee/certificates/not-a-uuid",  // Leegality ids are UUIDs
        "backends/nope/certificates/46d4e120-ed03-47cc-98c6-529bff3bbabc",
        "backends/api/certificates/x",  // Apinizer needs project
        ("backends/lee/projects/p/certificates/"
         "46d4e120-ed03-47cc-98c6-529bff3bbabc"),
        "certificates/x", ""}) {
    auto r = RouteCertificateName(registry_, bad, "name");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(Reason(r.status()), "INVALID_NAME") << bad;
  }
}

TEST_F(RequestValidationTest, ValidRequestsPass) {
  EXPECT_TRUE(
      ValidateCreate(BuiltinVendor("apinizer"), ApinizerCreate(), now_).ok());
  EXPECT_TRUE(
      ValidateCreate(BuiltinVendor("leegality"), LeegalityCreate(), now_).ok());
}

TEST_F(RequestValidationTest, LeegalityFileRules) {
  auto r = LeegalityCreate();
  r.mutable_certificate()->mutable_leegality()->set_passkey("nope");
  auto s = ValidateCreate(BuiltinVendor("leegality"), r, now_);
  EXPECT_EQ(Reason(s), "INVALID_PKCS12");
  EXPECT_EQ(Field(s), "certificate.leegality.pkcs12_file");

  r = LeegalityCreate();
  r.mutable_certificate()->mutable_leegality()->set_pkcs12_file(
      std::string(kMaxCertificateFileBytes + 1, 'x'));
  EXPECT_EQ(Reason(ValidateCreate(BuiltinVendor("leegality"), r, now_)),
            "FILE_TOO_LARGE");

  r = LeegalityCreate();
  r.mutable_certificate()->mutable_leegality()->set_department_id("hr");
  EXPECT_EQ(Field(ValidateCreate(BuiltinVendor("leegality"), r, now_)),
            "certificate.leegality.department_id");

  r = LeegalityCreate();
  r.set_certificate_id("chosen");
  EXPECT_EQ(Field(ValidateCreate(BuiltinVendor("leegality"), r, now_)),
            "certificate_id");

  r = LeegalityCreate();
  r.set_request_id("not-a-uuid");
  EXPECT_EQ(Field(ValidateCreate(BuiltinVendor("leegality"), r, now_)),
            "request_id");
}

TEST_F(RequestValidationTest, ApinizerCreateRules) {
  struct Case {
    const char* field;
    std::function<void(v1::CreateCertificateRequest&)> edit;
    const char* reason = "INVALID_ARGUMENT";
  };
  const std::vector<Case> cases = {
      {"certificate_id", [](auto& r) { r.clear_certificate_id(); }},
      {"certificate.apinizer.alias",
       [](auto& r) {
         r.mutable_certificate()->mutable_apinizer()->clear_alias();
       }},
      {"certificate.apinizer.environments",
       [](auto& r) {
         r.mutable_certificate()->mutable_apinizer()->clear_environments();
       }},
      {"certificate.apinizer.environments",
       [](auto& r) {
         r.mutable_certificate()->mutable_apinizer()->add_environments("a,b");
       }},
      {"certificate.apinizer.environments",
       [](auto& r) {
         r.mutable_certificate()->mutable_apinizer()->add_environments("prod");
       }},
      {"certificate.apinizer.pem_certificate",
       [](auto& r) {
         r.mutable_certificate()->mutable_apinizer()->set_pem_certificate(
             "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n");
       },
       "INVALID_PEM"},
      {"certificate.apinizer.pem_certificate",
       [](auto& r) {
         testing::CertificateOptions expired;
         expired.valid_days = -1;
         r.mutable_certificate()->mutable_apinizer()->set_pem_certificate(
             testing::MakePemCertificate(expired));
       },
       "INVALID_PEM"},
      {"certificate.leegality",
       [](auto& r) {
         r.mutable_certificate()->mutable_leegality()->set_passkey("x");
       }},
  };
  for (const Case& c : cases) {
    auto r = ApinizerCreate();
    c.edit(r);
    auto s = ValidateCreate(BuiltinVendor("apinizer"), r, now_);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(Reason(s), c.reason) << c.field;
    EXPECT_EQ(Field(s), c.field);
  }
}

TEST_F(RequestValidationTest, ApinizerUpdateMaskRules) {
  v1::UpdateCertificateRequest r;
  r.mutable_certificate()->set_name("backends/api/projects/p/certificates/c");
  r.mutable_certificate()->mutable_apinizer()->set_description("d");
  r.mutable_update_mask()->add_paths("apinizer.description");
  EXPECT_TRUE(ValidateUpdate(BuiltinVendor("apinizer"), r, now_).ok());

  auto bad_path = r;
  bad_path.mutable_update_mask()->add_paths("leegality.enabled");
  EXPECT_EQ(Field(ValidateUpdate(BuiltinVendor("apinizer"), bad_path, now_)),
            "update_mask");

  auto empty_alias = r;
  empty_alias.mutable_update_mask()->add_paths("apinizer.alias");
  EXPECT_EQ(Field(ValidateUpdate(BuiltinVendor("apinizer"), empty_alias, now_)),
            "certificate.apinizer.alias");

  auto scope_only = r;
  scope_only.set_jwk_update_scope(v1::ALL_PROJECTS);
  EXPECT_EQ(Field(ValidateUpdate(BuiltinVendor("apinizer"), scope_only, now_)),
            "jwk_update_scope");

  auto no_mask = r;
  no_mask.clear_update_mask();
  EXPECT_EQ(Field(ValidateUpdate(BuiltinVendor("apinizer"), no_mask, now_)),
            "update_mask");
}

TEST_F(RequestValidationTest, ApinizerOnlyFieldsAreRefusedOnLeegality) {
  v1::UpdateCertificateRequest r;
  r.mutable_certificate()->set_name(std::string("backends/lee/certificates/") +
                                    kUuid);
  r.mutable_certificate()->mutable_leegality()->set_enabled(true);
  r.mutable_update_mask()->add_paths("leegality.enabled");
  EXPECT_TRUE(ValidateUpdate(BuiltinVendor("leegality"), r, now_).ok());
  r.set_jwk_update_action(v1::JWK_UPDATE_ACTION_UPDATE);
  EXPECT_EQ(Field(ValidateUpdate(BuiltinVendor("leegality"), r, now_)),
            "jwk_update_action");

  v1::DeleteCertificateRequest d;
  d.set_name(std::string("backends/lee/certificates/") + kUuid);
  d.set_jwk_delete_action(v1::JWK_DELETE_ACTION_DELETE);
  EXPECT_EQ(Field(ValidateDelete(BuiltinVendor("leegality"), d)),
            "jwk_delete_action");
  EXPECT_TRUE(ValidateDelete(BuiltinVendor("apinizer"), d).ok());
}

// Issue 10 finding 11: an Update that would send SignStation an empty PUT
// (answered OK, nothing changed) is refused.
TEST_F(RequestValidationTest, LeegalityUpdateThatChangesNothingIsRefused) {
  v1::UpdateCertificateRequest r;
  r.mutable_certificate()->set_name(std::string("backends/lee/certificates/") +
                                    kUuid);
  r.mutable_certificate()->mutable_leegality();
  r.mutable_update_mask()->add_paths("*");
  auto s = ValidateUpdate(BuiltinVendor("leegality"), r, now_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Field(s), "update_mask");

  r.mutable_update_mask()->Clear();
  r.mutable_update_mask()->add_paths("leegality.file_name");
  r.mutable_certificate()->mutable_leegality()->set_file_name("new.p12");
  s = ValidateUpdate(BuiltinVendor("leegality"), r, now_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("together with leegality.pkcs12_file"),
            absl::string_view::npos)
      << s;

  // "*" with something set is fine: it changes what it carries.
  r.mutable_update_mask()->Clear();
  r.mutable_update_mask()->add_paths("*");
  r.mutable_certificate()->mutable_leegality()->set_enabled(false);
  EXPECT_TRUE(ValidateUpdate(BuiltinVendor("leegality"), r, now_).ok());
}

// Issue 10 finding 2: Create's certificate_id obeys the same segment rules
// as every name, so what Create refuses Get/Update/Delete refuse too.
TEST_F(RequestValidationTest, CertificateIdFollowsTheNameRules) {
  for (const std::string& bad :
       {std::string(".."), std::string("."), std::string("a/b"),
        std::string("a\0b", 3), std::string("a\nb"), std::string(256, 'x'),
        std::string("\xff")}) {
    auto r = ApinizerCreate();
    r.set_certificate_id(bad);
    auto s = ValidateCreate(BuiltinVendor("apinizer"), r, now_);
    EXPECT_EQ(Reason(s), "INVALID_NAME") << bad;
    const std::string name =
        "backends/api/projects/p/certificates/" + EscapeSegment(bad);
    EXPECT_EQ(Reason(RouteCertificateName(registry_, name, "name").status()),
              "INVALID_NAME")
        << name;
  }
}

}  // namespace
}  // namespace certbridge

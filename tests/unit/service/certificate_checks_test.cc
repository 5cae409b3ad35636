// What certbridge reads from uploaded certificates before any backend call.
#include "server/service/certificate_checks.h"

#include <gtest/gtest.h>

#include "server/common/errors.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge {
namespace {

std::string Reason(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

TEST(CheckPkcs12Test, ReadsSubjectAndValidity) {
  testing::Pkcs12Options o;
  o.common_name = "signer.example";
  o.valid_days = 30;
  auto facts = CheckPkcs12(testing::MakePkcs12(o), o.passkey, absl::Now(), "f");
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_NE(facts->subject.find("CN=signer.example"), std::string::npos);
  EXPECT_GT(facts->not_after, absl::Now() + absl::Hours(24 * 29));
  EXPECT_LT(facts->not_after, absl::Now() + absl::Hours(24 * 31));
}

TEST(CheckPkcs12Test, RefusesWhatCannotSign) {
  struct Case {
    const char* what;
    testing::Pkcs12Options options;
    std::string passkey;
  };
  testing::Pkcs12Options expired;
  expired.valid_days = -1;
  testing::Pkcs12Options future;
  future.starts_in_days = 10;
  testing::Pkcs12Options anonymous;
  anonymous.empty_subject = true;
  for (const Case& c : {Case{"wrong passkey", {}, "nope"},
                        Case{"expired", expired, expired.passkey},
                        Case{"not yet valid", future, future.passkey},
                        Case{"empty subject", anonymous, anonymous.passkey}}) {
    auto s = CheckPkcs12(testing::MakePkcs12(c.options), c.passkey, absl::Now(),
                         "certificate.leegality.pkcs12_file");
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(Reason(s.status()), reason::kInvalidPkcs12) << c.what;
    auto violations = GetFieldViolations(s.status());
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, "certificate.leegality.pkcs12_file");
    EXPECT_EQ(std::string(s.status().message()).find(c.passkey),
              std::string::npos)
        << "the passkey never appears";
  }
  EXPECT_FALSE(CheckPkcs12("not der", "x", absl::Now(), "f").ok());
  EXPECT_FALSE(
      CheckPkcs12(testing::MakePemCertificate(), "x", absl::Now(), "f").ok());
}

TEST(CheckPemCertificateTest, AcceptsCertificatesOnly) {
  EXPECT_TRUE(
      CheckPemCertificate(testing::MakePemCertificate(), absl::Now(), "f")
          .ok());
  testing::CertificateOptions expired;
  expired.valid_days = -1;
  auto s = CheckPemCertificate(testing::MakePemCertificate(expired),
                               absl::Now(), "f");
  EXPECT_EQ(Reason(s.status()), reason::kInvalidPem);
  EXPECT_EQ(Reason(CheckPemCertificate("hello", absl::Now(), "f").status()),
            reason::kInvalidPem);
  EXPECT_EQ(
      Reason(CheckPemCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                 "CERTIFICATE-----\n",
                                 absl::Now(), "f")
                 .status()),
      reason::kInvalidPem);
  // A future-dated CA may be deployed ahead of time.
  testing::CertificateOptions future;
  future.starts_in_days = 5;
  EXPECT_TRUE(
      CheckPemCertificate(testing::MakePemCertificate(future), absl::Now(), "f")
          .ok());
}

}  // namespace
}  // namespace certbridge

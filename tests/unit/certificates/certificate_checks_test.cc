// What certbridge reads from uploaded certificates before any backend call.
#include "server/certificates/certificate_checks.h"

#include <gtest/gtest.h>
#include <openssl/obj_mac.h>

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

// Issue 10 finding 6: the iteration counts come from the file; they are
// checked before any key derivation runs.
TEST(CheckPkcs12Test, IterationCountsAreCappedBeforeDeriving) {
  Pkcs12Limits limits;
  limits.max_iterations = 5000;
  testing::Pkcs12Options o;
  // What OpenSSL, Windows and Java keytool write passes the default cap.
  for (int iterations : {2000, 2048, 10000}) {
    o.mac_iterations = iterations;
    o.key_iterations = iterations;
    o.encrypt_certificate = true;
    EXPECT_TRUE(
        CheckPkcs12(testing::MakePkcs12(o), o.passkey, absl::Now(), "f").ok())
        << iterations;
  }
  // Over the configured cap: refused, for the MAC and for the key.
  o.mac_iterations = 6000;
  o.key_iterations = 2048;
  auto mac =
      CheckPkcs12(testing::MakePkcs12(o), o.passkey, absl::Now(), "f", limits);
  ASSERT_FALSE(mac.ok());
  EXPECT_EQ(Reason(mac.status()), reason::kInvalidPkcs12);
  EXPECT_NE(mac.status().message().find("6000 key-derivation iterations"),
            absl::string_view::npos)
      << mac.status();
  o.mac_iterations = 2048;
  o.key_iterations = 6000;
  EXPECT_FALSE(
      CheckPkcs12(testing::MakePkcs12(o), o.passkey, absl::Now(), "f", limits)
          .ok());
  // An attacker's count (2^31 - 1 would take minutes to derive) is refused
  // from the header alone.
  testing::Pkcs12Options forged;
  forged.forged_mac_iterations = 2147483647;
  auto huge = CheckPkcs12(testing::MakePkcs12(forged), forged.passkey,
                          absl::Now(), "f");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("2147483647"),
            absl::string_view::npos);
}

TEST(CheckPkcs12Test, EncryptedCertificateBagAndEmptyPasskeyOpen) {
  testing::Pkcs12Options o;
  o.encrypt_certificate = true;
  o.passkey = "";
  EXPECT_TRUE(CheckPkcs12(testing::MakePkcs12(o), "", absl::Now(), "f").ok());
}

// AES-CBC under PBKDF2-HMAC-SHA256 takes the fast path (pbes2_decrypt.h);
// the PBEs older exporters write go through OpenSSL. Both open, and both
// refuse a wrong passkey the same way.
TEST(CheckPkcs12Test, EveryPbeOpensThroughEitherPath) {
  struct Case {
    const char* what;
    int key_nid;
    int certificate_nid;
  };
  for (const Case& c :
       {Case{"AES-256 (fast path)", 0, 0},
        Case{"AES-128 (fast path)", NID_aes_128_cbc, NID_aes_128_cbc},
        Case{"3DES key, AES certificates",
             NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 0},
        Case{"3DES both (OpenSSL)", NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
             NID_pbe_WithSHA1And3_Key_TripleDES_CBC}}) {
    testing::Pkcs12Options o;
    o.encrypt_certificate = true;
    o.key_pbe_nid = c.key_nid;
    o.certificate_pbe_nid = c.certificate_nid;
    o.common_name = "pbe.example";
    const std::string der = testing::MakePkcs12(o);
    auto facts = CheckPkcs12(der, o.passkey, absl::Now(), "f");
    ASSERT_TRUE(facts.ok()) << c.what << ": " << facts.status();
    EXPECT_NE(facts->subject.find("CN=pbe.example"), std::string::npos)
        << c.what;
    // A wrong passkey is refused (by the MAC, before any bag is decrypted).
    auto wrong = CheckPkcs12(der, "wrong-passkey", absl::Now(), "f");
    ASSERT_FALSE(wrong.ok()) << c.what;
    EXPECT_EQ(Reason(wrong.status()), reason::kInvalidPkcs12) << c.what;
  }
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

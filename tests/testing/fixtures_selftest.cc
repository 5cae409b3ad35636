#include <openssl/pkcs12.h>

#include "gtest/gtest.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

TEST(CertificateFixtures, ExactSizePkcs12OpensWithItsPasskey) {
  Pkcs12Options options;
  options.passkey = "s3cret";
  options.exact_size = 200000;
  const std::string der = MakePkcs12(options);
  ASSERT_EQ(der.size(), 200000u);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(p12, nullptr);
  EXPECT_EQ(PKCS12_verify_mac(p12, "s3cret", -1), 1);
  EXPECT_EQ(PKCS12_verify_mac(p12, "wrong", -1), 0);
  PKCS12_free(p12);
}

TEST(CertificateFixtures, PemLooksLikeACertificate) {
  EXPECT_EQ(MakePemCertificate().rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
}

}  // namespace
}  // namespace certbridge::testing

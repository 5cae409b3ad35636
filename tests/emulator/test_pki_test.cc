// The test PKI's certificates, checked with OpenSSL's own chain verification:
// what a TLS peer would accept or refuse.
#include "tests/emulator/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace certbridge::emulator {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(cert, &X509_free);
}

// Verifies `leaf` against `ca` for `purpose` (X509_PURPOSE_SSL_SERVER or
// _CLIENT); with `host`/`ip` also the name. The OpenSSL verify error, or 0.
int Verify(const std::string& ca, const std::string& leaf, int purpose,
           const std::string& host = "", const std::string& ip = "") {
  X509Ptr ca_cert = Parse(ca);
  X509Ptr leaf_cert = Parse(leaf);
  if (!ca_cert || !leaf_cert) return -1;
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca_cert.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf_cert.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  if (!host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (!ip.empty()) X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? 0 : (error == 0 ? -1 : error);
}

// The certificate's SANs as "DNS:x", "IP:1.2.3.4", "URI:u".
std::vector<std::string> Sans(const std::string& pem) {
  std::vector<std::string> out;
  X509Ptr cert = Parse(pem);
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS || n->type == GEN_URI) {
      const ASN1_IA5STRING* s = n->d.ia5;
      out.push_back(
          std::string(n->type == GEN_DNS ? "DNS:" : "URI:") +
          std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const unsigned char* b = ASN1_STRING_get0_data(n->d.ip);
      if (ASN1_STRING_length(n->d.ip) == 4) {
        out.push_back("IP:" + std::to_string(b[0]) + "." +
                      std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
                      std::to_string(b[3]));
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

TEST(TestPkiTest, DefaultsVerifyForTheirPurposeAndNames) {
  const TestPki pki = MakeTestPki();
  X509Ptr ca = Parse(pki.ca_pem);
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_NE(pki.ca_key_pem.find("PRIVATE KEY"), std::string::npos);

  EXPECT_EQ(Verify(pki.ca_pem, pki.server_cert_pem, X509_PURPOSE_SSL_SERVER,
                   "localhost"),
            0);
  EXPECT_EQ(Verify(pki.ca_pem, pki.server_cert_pem, X509_PURPOSE_SSL_SERVER, "",
                   "127.0.0.1"),
            0);
  EXPECT_EQ(Verify(pki.ca_pem, pki.server_cert_pem, X509_PURPOSE_SSL_SERVER,
                   "example.com"),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(Verify(pki.ca_pem, pki.server_cert_pem, X509_PURPOSE_SSL_CLIENT),
            X509_V_ERR_INVALID_PURPOSE)
      << "serverAuth only";

  EXPECT_EQ(Verify(pki.ca_pem, pki.client_cert_pem, X509_PURPOSE_SSL_CLIENT),
            0);
  EXPECT_EQ(Verify(pki.ca_pem, pki.client_cert_pem, X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_INVALID_PURPOSE)
      << "clientAuth only";
  EXPECT_EQ(Sans(pki.client_cert_pem),
            std::vector<std::string>{"URI:spiffe://test/client"});
  EXPECT_EQ(Sans(pki.server_cert_pem),
            (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1"}));
}

TEST(TestPkiTest, SansAreConfigurable) {
  const TestPki pki = MakeTestPki({"emulator.test", "alt.test"}, {"10.0.0.7"},
                                  "spiffe://acme/ops", "ops.acme.test");
  EXPECT_EQ(Sans(pki.server_cert_pem),
            (std::vector<std::string>{"DNS:emulator.test", "DNS:alt.test",
                                      "IP:10.0.0.7"}));
  EXPECT_EQ(
      Sans(pki.client_cert_pem),
      (std::vector<std::string>{"URI:spiffe://acme/ops", "DNS:ops.acme.test"}));
  const TestPki no_client_sans = MakeTestPki({"localhost"}, {}, "", "");
  EXPECT_TRUE(Sans(no_client_sans.client_cert_pem).empty());
}

TEST(TestPkiTest, MoreCertificatesFromTheSameCaAndUnrelatedCas) {
  const TestPki pki = MakeTestPki();
  const IssuedCertificate second =
      IssueClientCertificate(pki, "spiffe://test/other", "other.test");
  EXPECT_EQ(Verify(pki.ca_pem, second.cert_pem, X509_PURPOSE_SSL_CLIENT), 0);
  EXPECT_EQ(
      Sans(second.cert_pem),
      (std::vector<std::string>{"URI:spiffe://test/other", "DNS:other.test"}));
  EXPECT_NE(second.key_pem, pki.client_key_pem);

  const IssuedCertificate server = IssueServerCertificate(pki, {"x.test"}, {});
  EXPECT_EQ(
      Verify(pki.ca_pem, server.cert_pem, X509_PURPOSE_SSL_SERVER, "x.test"),
      0);

  const TestPki unrelated = MakeTestPki();
  EXPECT_NE(unrelated.ca_pem, pki.ca_pem);
  EXPECT_NE(
      Verify(pki.ca_pem, unrelated.client_cert_pem, X509_PURPOSE_SSL_CLIENT),
      0);
  EXPECT_NE(
      Verify(unrelated.ca_pem, pki.server_cert_pem, X509_PURPOSE_SSL_SERVER),
      0);
}

TEST(TestPkiTest, WritesTheFiveFiles) {
  const TestPki pki = MakeTestPki();
  std::string dir = ::testing::TempDir() + "/test_pki_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ASSERT_TRUE(WritePkiFiles(pki, dir).ok());
  for (const char* name :
       {"ca.pem", "server.pem", "server.key", "client.pem", "client.key"}) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_GT(st.st_size, 0) << path;
    if (std::string(name).find(".key") != std::string::npos) {
      EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    }
    std::remove(path.c_str());
  }
  std::remove(dir.c_str());
  EXPECT_FALSE(WritePkiFiles(pki, dir + "/missing").ok());
}

}  // namespace
}  // namespace certbridge::emulator

#include "tests/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

namespace certbridge::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "test PKI: %s failed\n", what);
  std::abort();
}

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) Die("PEM_read_bio_X509");
  return cert;
}

EVP_PKEY* ReadKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) Die("PEM_read_bio_PrivateKey");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) Die("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Signs a new certificate for a fresh EC key; `issuer` null = self-signed.
KeyPair Issue(const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
              bool is_ca, const std::string& san, const std::string& eku) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) Die("EVP_EC_gen");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 7L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert, key);
  X509* ext_issuer = issuer ? issuer : cert;
  if (is_ca) {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, ext_issuer, NID_key_usage,
                 "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, ext_issuer, NID_basic_constraints, "CA:FALSE");
    AddExtension(cert, ext_issuer, NID_key_usage,
                 "critical,digitalSignature,keyEncipherment");
    AddExtension(cert, ext_issuer, NID_ext_key_usage, eku);
    if (!san.empty()) {
      AddExtension(cert, ext_issuer, NID_subject_alt_name, san);
    }
  }
  AddExtension(cert, ext_issuer, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
    Die("X509_sign");
  }
  KeyPair out{ToPem(cert), ToPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

KeyPair IssueFromCa(const TestCa& ca, const std::string& cn,
                    const std::string& san, const std::string& eku) {
  X509* ca_cert = ReadCert(ca.ca.cert_pem);
  EVP_PKEY* ca_key = ReadKey(ca.ca.key_pem);
  KeyPair out = Issue(cn, ca_cert, ca_key, false, san, eku);
  X509_free(ca_cert);
  EVP_PKEY_free(ca_key);
  return out;
}

}  // namespace

TestCa MakeTestCa(const std::string& name) {
  return TestCa{name, Issue(name, nullptr, nullptr, true, "", "")};
}

KeyPair IssueServerCertificate(const TestCa& ca) {
  return IssueFromCa(ca, "localhost", "DNS:localhost,IP:127.0.0.1",
                     "serverAuth");
}

KeyPair IssueClientCertificate(const TestCa& ca, const std::string& uri_san,
                               const std::string& dns_san) {
  std::string san;
  if (!uri_san.empty()) san = "URI:" + uri_san;
  if (!dns_san.empty()) san += (san.empty() ? "" : ",") + ("DNS:" + dns_san);
  return IssueFromCa(ca, "certbridge test client", san, "clientAuth");
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace certbridge::testing

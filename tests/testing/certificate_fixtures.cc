#include "tests/testing/certificate_fixtures.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace certbridge::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "certificate fixture: %s failed\n", what);
  std::abort();
}

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
struct P12Deleter {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;
using P12Ptr = std::unique_ptr<PKCS12, P12Deleter>;

// RSA key generation dominates fixture cost; one key serves every fixture.
EVP_PKEY* SharedKey() {
  static EVP_PKEY* key = [] {
    EVP_PKEY* k = EVP_RSA_gen(2048);
    if (k == nullptr) Die("EVP_RSA_gen");
    return k;
  }();
  return key;
}

CertPtr MakeCertificate(const CertificateOptions& options) {
  CertPtr cert(X509_new());
  if (!cert) Die("X509_new");
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  const long day = 24L * 60 * 60;
  if (options.valid_days >= 0) {
    X509_gmtime_adj(
        X509_getm_notBefore(cert.get()),
        options.starts_in_days > 0 ? day * options.starts_in_days : -day);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                    day * (options.valid_days + options.starts_in_days));
  } else {
    X509_gmtime_adj(X509_getm_notBefore(cert.get()),
                    day * (options.valid_days - 30));
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), day * options.valid_days);
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!options.empty_subject) {
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_UTF8,
        reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1,
        -1, 0);
    X509_NAME_add_entry_by_txt(
        name, "O", MBSTRING_UTF8,
        reinterpret_cast<const unsigned char*>("certbridge tests"), -1, -1, 0);
  }
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), SharedKey());
  if (X509_sign(cert.get(), SharedKey(), EVP_sha256()) == 0) Die("X509_sign");
  return cert;
}

std::string ToDer(PKCS12* p12) {
  unsigned char* out = nullptr;
  const int len = i2d_PKCS12(p12, &out);
  if (len <= 0) Die("i2d_PKCS12");
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

std::string BuildPkcs12(X509* cert, const Pkcs12Options& options,
                        const std::string& friendly_name, int salt_len) {
  // No MAC from PKCS12_create (-1) so the salt length can be chosen below;
  // the certificate bag stays unencrypted (-1) unless asked, so padding
  // grows linearly.
  const std::string& passkey = options.passkey;
  P12Ptr p12(PKCS12_create(
      passkey.c_str(), friendly_name.empty() ? nullptr : friendly_name.c_str(),
      SharedKey(), cert, nullptr, options.key_pbe_nid,
      options.encrypt_certificate ? options.certificate_pbe_nid : -1,
      options.key_iterations, -1, 0));
  if (!p12) Die("PKCS12_create");
  if (PKCS12_set_mac(p12.get(), passkey.c_str(), -1, nullptr, salt_len,
                     options.mac_iterations, EVP_sha256()) != 1) {
    Die("PKCS12_set_mac");
  }
  if (options.forged_mac_iterations != 0) {
    const ASN1_INTEGER* iter = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iter, p12.get());
    ASN1_INTEGER_set(const_cast<ASN1_INTEGER*>(iter),
                     options.forged_mac_iterations);
  }
  return ToDer(p12.get());
}

}  // namespace

std::string MakePkcs12(const Pkcs12Options& options) {
  CertPtr cert = MakeCertificate(options.certificate());
  std::string der = BuildPkcs12(cert.get(), options, "", 8);
  if (options.exact_size == 0) return der;
  if (options.exact_size < der.size() + 64) Die("exact_size too small");
  // The friendlyName is a BMPString in both bags (4 bytes per character);
  // the MAC salt length fixes the remainder. DER length prefixes shift as
  // the name grows, so converge in a few rounds.
  std::size_t chars = (options.exact_size - der.size()) / 4;
  for (int round = 0; round < 16; ++round) {
    for (int salt : {8, 9, 10, 11}) {
      der = BuildPkcs12(cert.get(), options, std::string(chars, 'p'), salt);
      if (der.size() == options.exact_size) return der;
    }
    const long diff =
        static_cast<long>(options.exact_size) - static_cast<long>(der.size());
    chars = static_cast<std::size_t>(
        static_cast<long>(chars) +
        (diff / 4 != 0 ? diff / 4 : (diff > 0 ? 1 : -1)));
  }
  Die("exact_size did not converge");
}

std::string MakePemCertificate(const CertificateOptions& options) {
  CertPtr cert = MakeCertificate(options);
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_X509(bio, cert.get()) != 1) {
    Die("PEM_write_bio_X509");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

}  // namespace certbridge::testing

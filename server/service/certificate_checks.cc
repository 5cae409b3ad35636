#include "server/service/certificate_checks.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct Pkcs12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

std::unique_ptr<BIO, BioFree> MemBio(absl::string_view data) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::Time AsnTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

CertificateFacts FactsOf(X509* cert) {
  CertificateFacts facts;
  std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  facts.subject.assign(data, static_cast<size_t>(len));
  facts.not_before = AsnTime(X509_get0_notBefore(cert));
  facts.not_after = AsnTime(X509_get0_notAfter(cert));
  return facts;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// What both kinds of upload must satisfy once parsed.
absl::Status CheckFacts(const CertificateFacts& facts, absl::Time now,
                        const char* error_reason, absl::string_view field) {
  if (facts.subject.empty()) {
    return MakeValidationError(error_reason, field,
                               "the certificate has an empty subject");
  }
  if (facts.not_after <= now) {
    return MakeValidationError(
        error_reason, field,
        absl::StrCat("the certificate expired at ", Rfc3339(facts.not_after)));
  }
  return absl::OkStatus();
}

}  // namespace

void LoadLegacyPkcs12Support() {
  // Loading "legacy" explicitly would replace the implicit default provider,
  // so both are loaded. Failure only means old RC2 files will not open.
  OSSL_PROVIDER_load(nullptr, "legacy");
  OSSL_PROVIDER_load(nullptr, "default");
  ERR_clear_error();
}

absl::StatusOr<CertificateFacts> CheckPkcs12(absl::string_view der,
                                             absl::string_view passkey,
                                             absl::Time now,
                                             absl::string_view field) {
  auto bio = MemBio(der);
  std::unique_ptr<PKCS12, Pkcs12Free> p12(d2i_PKCS12_bio(bio.get(), nullptr));
  ERR_clear_error();
  if (!p12) {
    return MakeValidationError(reason::kInvalidPkcs12, field,
                               "is not a PKCS#12 (.p12/.pfx) file");
  }
  const std::string pass(passkey);
  if (PKCS12_verify_mac(p12.get(), pass.c_str(),
                        static_cast<int>(pass.size())) != 1) {
    ERR_clear_error();
    return MakeValidationError(reason::kInvalidPkcs12, field,
                               "the passkey does not open this PKCS#12 file");
  }
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  const int ok =
      PKCS12_parse(p12.get(), pass.c_str(), &raw_key, &raw_cert, &raw_ca);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw_key);
  std::unique_ptr<X509, X509Free> cert(raw_cert);
  std::unique_ptr<STACK_OF(X509), X509StackFree> ca(raw_ca);
  ERR_clear_error();
  if (ok != 1) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        "the PKCS#12 file could not be decrypted with the passkey (or uses an "
        "unsupported algorithm)");
  }
  if (!cert) {
    return MakeValidationError(reason::kInvalidPkcs12, field,
                               "the PKCS#12 file holds no certificate");
  }
  if (!key) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        "the PKCS#12 file holds no private key (a signing certificate needs "
        "one)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        "the private key does not match the certificate");
  }
  CertificateFacts facts = FactsOf(cert.get());
  if (auto s = CheckFacts(facts, now, reason::kInvalidPkcs12, field); !s.ok()) {
    return s;
  }
  // A signing certificate that is not valid yet cannot sign anything now.
  if (facts.not_before > now) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        absl::StrCat("the certificate is not valid before ",
                     Rfc3339(facts.not_before)));
  }
  return facts;
}

absl::StatusOr<CertificateFacts> CheckPemCertificate(absl::string_view pem,
                                                     absl::Time now,
                                                     absl::string_view field) {
  if (!absl::StrContains(pem, "-----BEGIN CERTIFICATE-----")) {
    return MakeValidationError(
        reason::kInvalidPem, field,
        "is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)");
  }
  auto bio = MemBio(pem);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) {
    return MakeValidationError(
        reason::kInvalidPem, field,
        "the PEM block is not a valid X.509 certificate");
  }
  CertificateFacts facts = FactsOf(cert.get());
  if (auto s = CheckFacts(facts, now, reason::kInvalidPem, field); !s.ok()) {
    return s;
  }
  return facts;
}

}  // namespace certbridge

// Certificates made at test time with OpenSSL, so no key material is checked
// in and expiry never makes a test rot.
#ifndef CERTBRIDGE_TESTS_TESTING_CERTIFICATE_FIXTURES_H_
#define CERTBRIDGE_TESTS_TESTING_CERTIFICATE_FIXTURES_H_

#include <cstddef>
#include <string>

namespace certbridge::testing {

struct CertificateOptions {
  std::string common_name = "certbridge-test";
  /// Negative values make a certificate that has already expired.
  int valid_days = 365;
  /// Positive values make a certificate that is not valid yet.
  int starts_in_days = 0;
  /// No subject at all (common_name ignored).
  bool empty_subject = false;
};

// Not derived from CertificateOptions: GCC 12 at -O3 reports a false
// maybe-uninitialized for brace-initialised derived aggregates.
struct Pkcs12Options {
  std::string common_name = "certbridge-test";
  int valid_days = 365;
  int starts_in_days = 0;
  bool empty_subject = false;
  std::string passkey = "test-passkey";
  /// When non-zero, the PKCS#12 is padded to exactly this many DER bytes
  /// (with a long friendlyName and the MAC salt length), still valid.
  std::size_t exact_size = 0;
  /// Key-derivation iterations of the MAC and of the encrypted key (and of
  /// the certificate bag when `encrypt_certificate`).
  int mac_iterations = 2048;
  int key_iterations = 2048;
  bool encrypt_certificate = false;
  /// PKCS12_create's PBE NIDs for the key and (when encrypted) the
  /// certificate bag; 0 = OpenSSL 3's default, PBES2 with
  /// PBKDF2-HMAC-SHA256 and AES-256-CBC.
  int key_pbe_nid = 0;
  int certificate_pbe_nid = 0;
  /// Writes this MAC iteration count into the finished file without
  /// deriving anything (the MAC no longer verifies): an attacker's file.
  long forged_mac_iterations = 0;

  CertificateOptions certificate() const {
    CertificateOptions c;
    c.common_name = common_name;
    c.valid_days = valid_days;
    c.starts_in_days = starts_in_days;
    c.empty_subject = empty_subject;
    return c;
  }
};

/// A DER PKCS#12 holding a fresh RSA-2048 key and its self-signed
/// certificate, encrypted with `passkey`. Aborts the test binary on failure.
std::string MakePkcs12(const Pkcs12Options& options = {});

/// A PEM X.509 certificate (self-signed, RSA-2048).
std::string MakePemCertificate(const CertificateOptions& options = {});

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_CERTIFICATE_FIXTURES_H_

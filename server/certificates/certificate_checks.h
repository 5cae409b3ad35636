// Opens the certificate files callers upload, with OpenSSL, before anything
// is sent to a backend: a PKCS#12 must open with its passkey and hold a
// usable signing certificate; a PEM must be an X.509 certificate.
#ifndef CERTBRIDGE_SERVER_CERTIFICATES_CERTIFICATE_CHECKS_H_
#define CERTBRIDGE_SERVER_CERTIFICATES_CERTIFICATE_CHECKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certbridge {

/// What could be read from an uploaded certificate.
struct CertificateFacts {
  std::string subject;  // RFC 2253 form
  absl::Time not_before;
  absl::Time not_after;
};

/// What a PKCS#12 may cost to open. The iteration counts of its key
/// derivations come from the file itself, so an attacker picks them:
/// every count (the MAC's and each encrypted part's) is checked against the
/// cap before any derivation runs.
struct Pkcs12Limits {
  /// Per key derivation. OpenSSL writes 2048, Java keytool 10000, Windows
  /// 2000; 100000 leaves room for hardened exports and costs ~10-50 ms.
  int max_iterations = 100000;
  /// Key derivations in one file (the MAC plus encrypted parts and keys).
  int max_derivations = 8;
};

/// INVALID_ARGUMENT / INVALID_PKCS12 (naming `field`) when `der` is not a
/// PKCS#12, costs more than `limits` allow, `passkey` does not open it, it
/// lacks a certificate or private key, or the certificate expired before
/// `now`. The MAC is verified once. The passkey never appears in the
/// message. CPU-bound: callers run it off the gRPC and HTTP threads.
absl::StatusOr<CertificateFacts> CheckPkcs12(absl::string_view der,
                                             absl::string_view passkey,
                                             absl::Time now,
                                             absl::string_view field,
                                             const Pkcs12Limits& limits = {});

/// INVALID_ARGUMENT / INVALID_PEM when `pem` is not a PEM X.509 certificate
/// or has expired before `now`.
absl::StatusOr<CertificateFacts> CheckPemCertificate(absl::string_view pem,
                                                     absl::Time now,
                                                     absl::string_view field);

/// Makes OpenSSL's legacy provider available so older .pfx files (RC2/3DES)
/// open as the vendors' Java servers would. Call once at start-up.
void LoadLegacyPkcs12Support();

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_CERTIFICATES_CERTIFICATE_CHECKS_H_

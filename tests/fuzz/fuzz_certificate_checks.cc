// Uploaded certificate files (certificate_checks.h), opened with OpenSSL
// before anything reaches a backend. The input's first byte is the passkey
// length n, the next n bytes the passkey, the rest the file; the file is
// checked both as a PKCS#12 and as a PEM certificate. Seeds carry real
// files (passkey "fuzz") so the success paths are reached.
// Properties: no crash or leak; errors are INVALID_ARGUMENT and never
// contain the passkey (checked for passkeys no message could contain);
// accepted certificates have a subject and are valid at the check's time.
#include <openssl/provider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "server/certificates/certificate_checks.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Seeds are valid from their creation (2026-12) for 100 years; a fixed time
// keeps runs reproducible.
const absl::Time kNow = absl::FromUnixSeconds(1893456000);  // 2030-01-01

// The one call of CheckPkcs12: adapt here when its signature changes. The
// production limits (certificate_checks.h) are what is fuzzed: with them no
// input may run past libFuzzer's -timeout.
absl::StatusOr<certbridge::CertificateFacts> CallCheckPkcs12(
    absl::string_view der, absl::string_view passkey) {
  return certbridge::CheckPkcs12(der, passkey, kNow, "pkcs12_file",
                                 certbridge::Pkcs12Limits{});
}

// Messages are fixed English text, the field name and RFC 3339 times: a
// passkey with a control or non-ASCII byte in a message was leaked.
bool Distinctive(absl::string_view passkey) {
  for (char c : passkey) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return true;
  }
  return false;
}

void CheckResult(const absl::StatusOr<certbridge::CertificateFacts>& facts,
                 absl::string_view passkey) {
  if (!facts.ok()) {
    FUZZ_CHECK(facts.status().code() == absl::StatusCode::kInvalidArgument);
    if (Distinctive(passkey)) {
      FUZZ_CHECK(!absl::StrContains(facts.status().message(), passkey));
    }
    return;
  }
  FUZZ_CHECK(!facts->subject.empty());
  FUZZ_CHECK(facts->not_after > kNow);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  certbridge::LoadLegacyPkcs12Support();  // as certbridge-server's main does
  // It drops its provider handles on purpose (they live as long as the
  // process); after OpenSSL's exit-time cleanup nothing points to them and
  // LeakSanitizer reports them. References held here keep them reachable.
  static OSSL_PROVIDER* const legacy = OSSL_PROVIDER_load(nullptr, "legacy");
  static OSSL_PROVIDER* const base = OSSL_PROVIDER_load(nullptr, "default");
  (void)legacy;
  (void)base;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view input = certbridge::fuzz::AsText(data, size);
  const std::size_t n = std::min<std::size_t>(data[0], size - 1);
  const absl::string_view passkey = input.substr(1, n);
  const absl::string_view file = input.substr(1 + n);

  auto p12 = CallCheckPkcs12(file, passkey);
  CheckResult(p12, passkey);
  if (p12.ok()) FUZZ_CHECK(p12->not_before <= kNow);

  CheckResult(certbridge::CheckPemCertificate(file, kNow, "pem_certificate"),
              "");
  return 0;
}

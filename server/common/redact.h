// Keeps secrets out of text that leaves the process (error messages,
// ErrorInfo metadata, log lines). Vendor text is untrusted: a backend may
// echo a token, passkey or certificate bytes back in any form. Two layers:
//  - known secrets (tokens, passkeys, client secrets) are replaced wherever
//    they appear raw, base64 (standard or URL-safe, padded or not), hex
//    (either case) or %-encoded;
//  - anything shaped like key material is replaced whether or not it is
//    known: PEM blocks, long base64 runs with mixed classes, long hex runs.
//    Certificate files are too large to search for every fragment, so this
//    layer is what covers echoed PKCS#12/PEM bytes.
#ifndef CERTBRIDGE_SERVER_COMMON_REDACT_H_
#define CERTBRIDGE_SERVER_COMMON_REDACT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace certbridge {

inline constexpr char kRedacted[] = "[REDACTED]";

/// Secrets shorter than this are not searched for (they would shred
/// ordinary words); config validation keeps real secrets longer.
inline constexpr std::size_t kMinSecretBytes = 3;

/// `text` with every encoding of every secret in `secrets`, and everything
/// that looks like key material, replaced by [REDACTED].
std::string Redact(absl::string_view text,
                   const std::vector<std::string>& secrets);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_REDACT_H_

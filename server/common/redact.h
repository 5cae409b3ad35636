// Removes known secret values from text that may echo them (vendor error
// messages are untrusted and could quote a passkey or token back).
#ifndef CERTBRIDGE_SERVER_COMMON_REDACT_H_
#define CERTBRIDGE_SERVER_COMMON_REDACT_H_

#include <initializer_list>
#include <string>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace certbridge {

inline constexpr char kRedacted[] = "[REDACTED]";

/// Replaces every occurrence of each non-trivial secret (3+ bytes; shorter
/// ones would shred ordinary words) with [REDACTED].
inline std::string RedactSecrets(
    std::string text, std::initializer_list<absl::string_view> secrets) {
  for (absl::string_view secret : secrets) {
    if (secret.size() >= 3) {
      absl::StrReplaceAll({{secret, kRedacted}}, &text);
    }
  }
  return text;
}

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_REDACT_H_

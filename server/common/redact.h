// Removes known secret values from text that may echo them (vendor error
// messages are untrusted and could quote a passkey or token back).
#ifndef CERTBRIDGE_SERVER_COMMON_REDACT_H_
#define CERTBRIDGE_SERVER_COMMON_REDACT_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace certbridge {

inline constexpr char kRedacted[] = "[REDACTED]";

/// Replaces every occurrence of each non-trivial secret (3+ bytes; shorter
/// ones would shred ordinary words) with [REDACTED].
template <typename Secrets>
std::string RedactSecrets(std::string text, const Secrets& secrets) {
  for (const auto& secret : secrets) {
    const absl::string_view s(secret);
    if (s.size() >= 3) absl::StrReplaceAll({{s, kRedacted}}, &text);
  }
  return text;
}

inline std::string RedactSecrets(
    std::string text, std::initializer_list<absl::string_view> secrets) {
  return RedactSecrets<std::initializer_list<absl::string_view>>(
      std::move(text), secrets);
}

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_REDACT_H_

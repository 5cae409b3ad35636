#include "server/common/redact.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace certbridge {
namespace {

std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Every spelling of `secret` a backend could plausibly echo.
std::vector<std::string> Encodings(absl::string_view secret) {
  std::vector<std::string> out = {std::string(secret)};
  std::string b64 = absl::Base64Escape(secret);
  out.push_back(b64);
  out.emplace_back(absl::StripSuffix(absl::StripSuffix(b64, "="), "="));
  out.push_back(absl::WebSafeBase64Escape(secret));
  const std::string hex = absl::BytesToHexString(secret);
  out.push_back(hex);
  out.push_back(absl::AsciiStrToUpper(hex));
  out.push_back(PercentEncode(secret));
  // JSON- or form-escaped forms differ only for these characters.
  out.push_back(absl::StrReplaceAll(secret, {{"+", " "}}));
  out.push_back(absl::StrReplaceAll(secret, {{"\\", "\\\\"}, {"\"", "\\\""}}));
  return out;
}

bool IsBase64Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' ||
         c == '/' || c == '=';
}

// Runs of base64 or hex characters long enough to be key material rather
// than words, ids (UUIDs break at their hyphens) or codes.
std::string ScrubRuns(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!IsBase64Char(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    std::size_t j = i;
    bool upper = false, lower = false, digit = false, hex_only = true;
    while (j < text.size() && IsBase64Char(text[j])) {
      const auto c = static_cast<unsigned char>(text[j]);
      upper = upper || absl::ascii_isupper(c);
      lower = lower || absl::ascii_islower(c);
      digit = digit || absl::ascii_isdigit(c);
      hex_only = hex_only && absl::ascii_isxdigit(c);
      ++j;
    }
    const std::size_t len = j - i;
    const int classes = int{upper} + int{lower} + int{digit};
    const bool key_like = (len >= 32 && classes == 3) ||
                          (len >= 64 && classes >= 2) ||
                          (hex_only && digit && len >= 48);
    if (key_like) {
      out += kRedacted;
    } else {
      out.append(text.data() + i, len);
    }
    i = j;
  }
  return out;
}

// "-----BEGIN X-----" ... "-----END X-----" (or the end of the text).
std::string ScrubPem(absl::string_view text) {
  std::string out;
  while (true) {
    const std::size_t begin = text.find("-----BEGIN");
    if (begin == absl::string_view::npos) break;
    out.append(text.data(), begin);
    out += kRedacted;
    std::size_t end = text.find("-----END", begin);
    if (end == absl::string_view::npos) {
      text = absl::string_view();
      break;
    }
    const std::size_t close = text.find("-----", end + 8);
    text.remove_prefix(close == absl::string_view::npos ? text.size()
                                                        : close + 5);
  }
  out.append(text.data(), text.size());
  return out;
}

}  // namespace

std::string Redact(absl::string_view text,
                   const std::vector<std::string>& secrets) {
  std::string out(text);
  // Longest first, so a secret that contains another is replaced whole.
  std::vector<std::string> needles;
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinSecretBytes) continue;
    for (std::string& e : Encodings(secret)) {
      if (e.size() >= kMinSecretBytes) needles.push_back(std::move(e));
    }
  }
  std::sort(needles.begin(), needles.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() > b.size();
            });
  for (const std::string& needle : needles) {
    if (absl::StrContains(out, needle)) {
      absl::StrReplaceAll({{needle, kRedacted}}, &out);
    }
  }
  return ScrubRuns(ScrubPem(out));
}

}  // namespace certbridge

#include "server/service/page_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

constexpr char kVersion = '\x01';
constexpr std::size_t kKeyBytes = 32;
// 128 bits of the HMAC: forging one means guessing them.
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kHeadBytes = 1 + 8;  // version, offset

void AppendField(std::string& out, absl::string_view field) {
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  absl::StrAppend(&out, field.size(), ":", field, ";");
}

absl::Status InvalidToken() {
  return MakeValidationError(
      reason::kInvalidArgument, "page_token",
      "is not a token this server issued for this parent, filter and "
      "order_by (it was altered, comes from another server process, or was "
      "issued for other parameters); list again without a page_token");
}

}  // namespace

PageTokenCodec::PageTokenCodec() : key_(kKeyBytes, '\0') {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()),
                 static_cast<int>(key_.size())) != 1) {
    // Without randomness tokens could be forged; nothing sensible to do.
    std::abort();
  }
}

PageTokenCodec::PageTokenCodec(std::string key) : key_(std::move(key)) {}

std::string PageTokenCodec::Mac(const PageTokenScope& scope,
                                absl::string_view head) const {
  std::string message = "certbridge.v1.ListCertificates;";
  absl::StrAppend(&message, head);
  AppendField(message, scope.parent);
  AppendField(message, scope.filter);
  AppendField(message, scope.order_by);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       md, &md_len);
  return std::string(reinterpret_cast<const char*>(md), kMacBytes);
}

std::string PageTokenCodec::Encode(const PageTokenScope& scope,
                                   std::uint64_t offset) const {
  std::string raw(1, kVersion);
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((offset >> shift) & 0xff));
  }
  raw += Mac(scope, raw);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::uint64_t> PageTokenCodec::Decode(
    absl::string_view token, const PageTokenScope& scope) const {
  std::string raw;
  if (token.size() > kMaxTokenBytes ||
      !absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() != kHeadBytes + kMacBytes || raw[0] != kVersion ||
      // One spelling per token: padding or stray low bits are changes too.
      absl::WebSafeBase64Escape(raw) != token) {
    return InvalidToken();
  }
  const absl::string_view head(raw.data(), kHeadBytes);
  const std::string expected = Mac(scope, head);
  if (CRYPTO_memcmp(expected.data(), raw.data() + kHeadBytes, kMacBytes) != 0) {
    return InvalidToken();
  }
  std::uint64_t offset = 0;
  for (std::size_t i = 1; i < kHeadBytes; ++i) {
    offset = (offset << 8) | static_cast<unsigned char>(raw[i]);
  }
  return offset;
}

}  // namespace certbridge

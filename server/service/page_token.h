// ListCertificates page tokens (AIP-158): opaque to callers, tamper-evident
// and bound to the request they continue. A token carries the offset of the
// next certificate in the filtered, ordered collection and an HMAC-SHA256
// over that offset, the parent, the filter and the order_by, with the
// configured key (page_token_key_file) or, without one, a key made at
// random once per server process. A token that was altered, is used with
// other parameters, or was signed with another key (another replica or an
// earlier process without a shared key) does not verify.
#ifndef CERTBRIDGE_SERVER_SERVICE_PAGE_TOKEN_H_
#define CERTBRIDGE_SERVER_SERVICE_PAGE_TOKEN_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge {

/// What a token is bound to: the list request's parameters besides
/// page_size and page_token.
struct PageTokenScope {
  absl::string_view parent;
  absl::string_view filter;
  absl::string_view order_by;
};

class PageTokenCodec {
 public:
  /// Longest token Decode looks at; anything longer is refused unread.
  static constexpr std::size_t kMaxTokenBytes = 128;

  /// A codec with a fresh random key (OpenSSL's RAND_bytes).
  PageTokenCodec();
  /// A codec with `key` (tests; at least 16 bytes).
  explicit PageTokenCodec(std::string key);

  std::string Encode(const PageTokenScope& scope, std::uint64_t offset) const;
  /// The offset in a token this codec issued for `scope`; INVALID_ARGUMENT
  /// (field page_token, the token never quoted) otherwise.
  absl::StatusOr<std::uint64_t> Decode(absl::string_view token,
                                       const PageTokenScope& scope) const;

 private:
  std::string Mac(const PageTokenScope& scope, absl::string_view head) const;

  std::string key_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_PAGE_TOKEN_H_

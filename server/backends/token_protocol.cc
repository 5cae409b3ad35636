#include "server/backends/token_protocol.h"

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace certbridge {
namespace {

using nlohmann::json;

const json* Find(const json& obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return nullptr;
  for (const char* k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

}  // namespace

std::string FormEscape(absl::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<absl::Time> JwtExpiry(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return std::nullopt;
  std::string payload;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload)) return std::nullopt;
  const json claims = json::parse(payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return std::nullopt;
  // Converting an out-of-range double to an integer is undefined.
  const double seconds = exp->get<double>();
  if (!(seconds > 0 && seconds < 1e11)) return std::nullopt;
  return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
}

absl::StatusOr<IssuedToken> ParseTokenJson(absl::string_view body,
                                           absl::Time now,
                                           absl::string_view envelope) {
  const json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("token response is not a JSON object");
  }
  const json* inner = nullptr;
  if (!envelope.empty()) {
    auto it = doc.find(std::string(envelope));
    if (it != doc.end() && it->is_object()) inner = &*it;
  }
  const json* token = nullptr;
  const json* expires_in = nullptr;
  for (const json* scope : {inner, &doc}) {
    if (scope == nullptr) continue;
    if (token == nullptr) {
      token = Find(*scope,
                   {"access_token", "accessToken", "token", "jwt", "idToken"});
    }
    if (expires_in == nullptr) {
      expires_in = Find(*scope, {"expires_in", "expiresIn"});
    }
  }
  if (token == nullptr || !token->is_string() ||
      token->get<std::string>().empty()) {
    return absl::InvalidArgumentError("token response carries no token");
  }
  for (char c : token->get_ref<const std::string&>()) {
    // It goes into a header: a CR/LF from the endpoint must not inject one.
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "token response carries a token with characters a header cannot "
          "carry");
    }
  }
  IssuedToken out;
  out.token = token->get<std::string>();
  if (expires_in != nullptr && expires_in->is_number() &&
      expires_in->get<double>() > 0) {
    out.expires = now + absl::Seconds(expires_in->get<double>());
  } else {
    out.expires = JwtExpiry(out.token);
  }
  return out;
}

}  // namespace certbridge

#include "tests/emulator/token_issuer.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "tests/emulator/leegality_api.h"

namespace certbridge::emulator {
namespace {

using nlohmann::json;

constexpr char kLeegalityTokenPath[] = "/api/v1/auth/token";

int HexValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded value decoding; a malformed %-escape is
// kept verbatim (it then simply fails to match the credentials).
std::string FormDecode(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
      continue;
    }
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::map<std::string, std::string> ParseForm(absl::string_view body) {
  std::map<std::string, std::string> form;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    form.emplace(FormDecode(kv.first), FormDecode(kv.second));
  }
  return form;
}

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump();
  return r;
}

HttpResponse LeegalityError(int status, const std::string& code,
                            const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = LeegalityErrorBody(status, code, "", message, kLeegalityTokenPath);
  return r;
}

std::string RandomSignature() {
  absl::BitGen gen;
  std::string raw(32, '\0');
  for (char& c : raw) c = static_cast<char>(absl::Uniform<int>(gen, 0, 256));
  return absl::WebSafeBase64Escape(raw);
}

// exp in whole unix seconds: rounded up for a positive lifetime (never
// shorter than asked), down otherwise (born expired).
std::int64_t ExpirySeconds(absl::Time now, absl::Duration lifetime) {
  const absl::Time exp = now + lifetime;
  std::int64_t seconds = absl::ToUnixSeconds(exp);  // floor
  if (lifetime > absl::ZeroDuration() && absl::FromUnixSeconds(seconds) < exp) {
    ++seconds;
  }
  return seconds;
}

}  // namespace

TokenIssuer::TokenIssuer(Format format, std::string client_id,
                         std::string client_secret, absl::Duration lifetime)
    : format_(format),
      client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      default_lifetime_(lifetime),
      signature_(RandomSignature()),
      lifetime_(lifetime) {}

void TokenIssuer::SetTokenLifetime(absl::Duration lifetime) {
  std::lock_guard<std::mutex> lock(mu_);
  lifetime_ = lifetime;
}

void TokenIssuer::RevokeIssuedTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  issued_.clear();
}

void TokenIssuer::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  issued_.clear();
  lifetime_ = default_lifetime_;
  requests_ = 0;
}

TokenIssuer::Validity TokenIssuer::Check(const std::string& token) const {
  if (token.empty()) return Validity::kUnknown;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = issued_.find(token);
  if (it == issued_.end()) return Validity::kUnknown;
  return absl::Now() < it->second ? Validity::kValid : Validity::kExpired;
}

HttpResponse TokenIssuer::Issue() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  const std::int64_t exp = ExpirySeconds(now, lifetime_);
  const std::string payload = json{
      {"sub", client_id_},
      {"iat", absl::ToUnixSeconds(now)},
      {"exp", exp},
      {"jti", ++serial_}}.dump();
  const std::string token =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"HS256","typ":"JWT"})"),
                   ".", absl::WebSafeBase64Escape(payload), ".", signature_);
  issued_[token] = absl::FromUnixSeconds(exp);
  // Whole seconds left, rounded down: a client adding it to its own clock
  // never believes in a token longer than the server does.
  const std::int64_t expires_in = std::max<std::int64_t>(
      0, absl::ToInt64Seconds(absl::FromUnixSeconds(exp) - now));
  if (format_ == Format::kApinizerForm) {
    return Json(200, {{"access_token", token},
                      {"token_type", "Bearer"},
                      {"expires_in", expires_in}});
  }
  return Json(200, {{"code", nullptr},
                    {"message", nullptr},
                    {"data", {{"token", token}, {"expiresIn", expires_in}}}});
}

HttpResponse TokenIssuer::Handle(const HttpRequest& request) {
  requests_++;
  return format_ == Format::kApinizerForm ? HandleApinizer(request)
                                          : HandleLeegality(request);
}

HttpResponse TokenIssuer::HandleApinizer(const HttpRequest& request) {
  if (request.method != "POST") {
    return Json(405, {{"error", "invalid_request"},
                      {"error_description",
                       absl::StrCat("Request method '", request.method,
                                    "' is not supported")}});
  }
  // apinizer.md §2.1: form encoding, not JSON. Any other body carries no
  // form fields, hence no grant_type: the documented 400.
  const bool form = absl::StartsWithIgnoreCase(
      request.Header("content-type"), "application/x-www-form-urlencoded");
  std::map<std::string, std::string> fields;
  if (form) fields = ParseForm(request.body);
  if (fields["grant_type"] != "client_credentials") {
    return Json(400, {{"error", "unsupported_grant_type"},
                      {"error_description",
                       "GrantType value must be client_credentials!"}});
  }
  if (fields["client_id"] != client_id_ ||
      fields["client_secret"] != client_secret_) {
    return Json(401, {{"error", "unauthorized_client"},
                      {"error_description", "Bad credentials"}});
  }
  return Issue();
}

HttpResponse TokenIssuer::HandleLeegality(const HttpRequest& request) {
  if (request.method != "POST") {
    return LeegalityError(
        405, "",
        absl::StrCat("Request method '", request.method, "' is not supported"));
  }
  if (!absl::StartsWithIgnoreCase(request.Header("content-type"),
                                  "application/json")) {
    return LeegalityError(415, "", "Content-Type must be application/json");
  }
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) {
    return LeegalityError(400, "LE_ERR_SS_400",
                          "Invalid request parameter: malformed JSON body");
  }
  auto text = [&body](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>()
                                               : std::string();
  };
  const std::string id = text("clientId");
  const std::string secret = text("clientSecret");
  if (id.empty() || secret.empty()) {
    return LeegalityError(
        400, "LE_ERR_SS_400",
        "Invalid request parameter: clientId and clientSecret are required");
  }
  if (id != client_id_ || secret != client_secret_) {
    return LeegalityError(401, "LE_ERR_SS_401", "Invalid client credentials");
  }
  return Issue();
}

}  // namespace certbridge::emulator

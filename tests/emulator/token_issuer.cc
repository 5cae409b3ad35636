#include "tests/emulator/token_issuer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace certbridge::emulator {
namespace {

using nlohmann::json;

std::string FormDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size()) {
      int v = 0;
      for (int k = 1; k <= 2; ++k) {
        const char c = in[i + k];
        v = v * 16 + (absl::ascii_isdigit(c)
                          ? c - '0'
                          : absl::ascii_tolower(c) - 'a' + 10);
      }
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

}  // namespace

void TokenIssuer::SetTokenLifetime(absl::Duration ttl) {
  std::lock_guard<std::mutex> lock(mu_);
  ttl_ = ttl;
}

void TokenIssuer::RevokeIssuedTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  issued_.clear();
}

void TokenIssuer::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  issued_.clear();
  ttl_ = absl::Hours(1);
  requests_ = 0;
}

TokenIssuer::Validity TokenIssuer::Check(const std::string& token) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = issued_.find(token);
  if (it == issued_.end()) return Validity::kUnknown;
  return absl::Now() < it->second ? Validity::kValid : Validity::kExpired;
}

HttpResponse TokenIssuer::Issue() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  const absl::Time exp = now + ttl_;
  const std::string payload = json{
      {"sub", client_id_},
      {"iat", absl::ToUnixSeconds(now)},
      {"exp", absl::ToUnixSeconds(exp)},
      {"jti", ++serial_}}.dump();
  const std::string token =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"HS256","typ":"JWT"})"),
                   ".", absl::WebSafeBase64Escape(payload), ".emulator");
  issued_[token] = exp;
  const int64_t seconds = absl::ToInt64Seconds(ttl_);
  if (format_ == Format::kApinizerForm) {
    return Json(200, {{"access_token", token},
                      {"token_type", "Bearer"},
                      {"expires_in", seconds}});
  }
  // Leegality's response envelope is not documented (leegality.md §2.2);
  // the emulator uses the {code, message, data} envelope of its other
  // pages with the JWT in data.token.
  return Json(200, {{"code", "LE_SS_200"},
                    {"message", "Token generated successfully."},
                    {"data", {{"token", token}, {"expiresIn", seconds}}}});
}

HttpResponse TokenIssuer::Handle(const HttpRequest& request) {
  requests_++;
  if (request.method != "POST") {
    return Json(405, {{"error", "method_not_allowed"}});
  }
  const std::string type =
      absl::AsciiStrToLower(request.Header("content-type"));
  if (format_ == Format::kApinizerForm) {
    // apinizer.md §2.1: form encoding, not JSON.
    if (!absl::StartsWith(type, "application/x-www-form-urlencoded")) {
      return Json(400,
                  {{"error", "invalid_request"},
                   {"error_description",
                    "Content-Type must be application/x-www-form-urlencoded"}});
    }
    std::map<std::string, std::string> form;
    for (absl::string_view kv : absl::StrSplit(request.body, '&')) {
      std::pair<std::string, std::string> p =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      form[FormDecode(p.first)] = FormDecode(p.second);
    }
    if (form["grant_type"] != "client_credentials") {
      return Json(400, {{"error", "unsupported_grant_type"},
                        {"error_description",
                         "GrantType value must be client_credentials!"}});
    }
    if (form["client_id"] != client_id_ ||
        form["client_secret"] != client_secret_) {
      return Json(401, {{"error", "unauthorized_client"},
                        {"error_description", "Bad credentials"}});
    }
    return Issue();
  }
  if (!absl::StartsWith(type, "application/json")) {
    return Json(415, {{"code", "LE_ERR_SS_415"},
                      {"errors",
                       {{{"message", "Content type must be application/json"},
                         {"path", "/api/v1/auth/token"},
                         {"code", nullptr}}}}});
  }
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || body.value("clientId", "") != client_id_ ||
      body.value("clientSecret", "") != client_secret_) {
    return Json(401, {{"code", "LE_ERR_SS_401"},
                      {"errors",
                       {{{"message", "Invalid client credentials"},
                         {"path", "/api/v1/auth/token"},
                         {"code", "LE_ERR_SS_303"}}}}});
  }
  return Issue();
}

}  // namespace certbridge::emulator

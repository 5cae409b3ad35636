#include "server/backends/client_credentials_token_source.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/log.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
namespace {

using nlohmann::json;

// RFC 3986 unreserved characters stay; everything else is %XX (form
// encoding of the credentials).
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

const json* Find(const json& obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return nullptr;
  for (const char* k : keys) {
    auto it = obj.find(k);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

}  // namespace

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

absl::StatusOr<IssuedToken> ParseTokenResponse(BackendKind kind,
                                               absl::string_view body,
                                               absl::Time now) {
  const json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("token response is not a JSON object");
  }
  const json* data =
      kind == BackendKind::kLeegality ? Find(doc, {"data"}) : nullptr;
  const json* token = nullptr;
  const json* expires_in = nullptr;
  for (const json* scope : {data, &doc}) {
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

absl::Duration ClientCredentialsTokenSource::RefreshMargin(
    absl::Duration lifetime) {
  return std::clamp(lifetime / 10, absl::Seconds(5), absl::Seconds(60));
}

ClientCredentialsTokenSource::ClientCredentialsTokenSource(
    BackendConfig config, std::string client_secret, HttpTransport& transport,
    std::shared_ptr<BackendObserver> observer, const Clock& clock)
    : config_(std::move(config)),
      client_secret_(std::move(client_secret)),
      transport_(transport),
      observer_(observer != nullptr
                    ? std::move(observer)
                    : std::shared_ptr<BackendObserver>(
                          &BackendObserver::Noop(), [](BackendObserver*) {})),
      clock_(clock) {}

HttpRequest ClientCredentialsTokenSource::TokenRequest() const {
  const CredentialsConfig& c = config_.credentials;
  HttpRequest r;
  r.method = "POST";
  r.timeout = config_.request_timeout;
  r.connect_timeout = config_.connect_timeout;
  r.ca_file = config_.ca_file;
  r.headers.emplace_back("Accept", "application/json");
  if (config_.kind == BackendKind::kLeegality) {
    // leegality.md §2.2: JSON, no grant_type.
    r.url = c.token_url.empty()
                ? absl::StrCat(config_.base_url, "/api/v1/auth/token")
                : c.token_url;
    r.headers.emplace_back("Content-Type", "application/json");
    // Config validation admits only UTF-8 credentials for this vendor, and
    // the replacing handler keeps dump() from ever throwing on this thread.
    r.SetBody(
        json{{"clientId", c.client_id}, {"clientSecret", client_secret_}}.dump(
            -1, ' ', false, json::error_handler_t::replace));
  } else {
    // apinizer.md §2.1: form-encoded, "not JSON".
    r.url = c.token_url.empty() ? absl::StrCat(config_.base_url, "/auth/token")
                                : c.token_url;
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.SetBody(absl::StrCat(
        "grant_type=client_credentials&client_id=", FormEscape(c.client_id),
        "&client_secret=", FormEscape(client_secret_)));
  }
  return r;
}

void ClientCredentialsTokenSource::GetToken(CallContext& ctx,
                                            TokenCallback done) {
  std::string current;
  const CallContext::Ticket ticket = ctx.NextTicket();
  std::uint64_t waiter = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    const bool valid = !token_.empty() && (!expires_ || now < *expires_);
    if (valid) {
      // Refresh ahead of expiry in the background; callers keep going with
      // the still-valid token.
      if (now >= refresh_at_ && !fetching_) StartFetchLocked();
      current = token_;
    } else {
      waiter = ++next_waiter_;
      // exchange, not move: `done` stays valid (empty) for the reader.
      waiters_.emplace(waiter, std::exchange(done, nullptr));
      if (!fetching_) StartFetchLocked();
    }
  }
  if (waiter == 0) {
    done(std::move(current));
    return;
  }
  std::weak_ptr<ClientCredentialsTokenSource> weak = weak_from_this();
  ctx.OnCancel(ticket, [weak, waiter] {
    if (auto self = weak.lock()) self->Abandon(waiter);
  });
}

void ClientCredentialsTokenSource::Abandon(std::uint64_t waiter) {
  TokenCallback done;
  {
    absl::MutexLock lock(&mu_);
    auto it = waiters_.find(waiter);
    if (it == waiters_.end()) return;
    done = std::move(it->second);
    waiters_.erase(it);
  }
  done(MakeError(absl::StatusCode::kCancelled,
                 "the call was cancelled while waiting for a token",
                 reason::kCancelled));
}

void ClientCredentialsTokenSource::Invalidate(const std::string& token) {
  absl::MutexLock lock(&mu_);
  if (token == token_) {
    token_.clear();
    expires_.reset();
    refresh_at_ = absl::InfiniteFuture();
  }
}

void ClientCredentialsTokenSource::StartFetchLocked() {
  fetching_ = true;
  std::weak_ptr<ClientCredentialsTokenSource> weak = weak_from_this();
  transport_.Send(TokenRequest(), [weak](HttpResult result) {
    if (auto self = weak.lock()) self->OnFetched(std::move(result));
  });
}

void ClientCredentialsTokenSource::OnFetched(HttpResult result) {
  absl::StatusOr<IssuedToken> issued;
  const absl::Time now = clock_.Now();
  FailureFacts facts;
  facts.source = FailureFacts::Source::kTokenEndpoint;
  if (auto* error = std::get_if<TransportError>(&result)) {
    absl::Status mapped = MapTransportError(*error, config_.name, false);
    if (auto transport = GetFailureFacts(mapped)) {
      facts.transport = transport->transport;
    }
    issued = MakeError(mapped.code(),
                       absl::StrCat("backend ", config_.name,
                                    ": token endpoint: ", mapped.message()),
                       GetErrorInfo(mapped) ? GetErrorInfo(mapped)->reason
                                            : reason::kBackendAuthFailed);
  } else {
    const auto& response = std::get<HttpResponse>(result);
    facts.http_status = response.status_code;
    if (response.status_code / 100 == 2) {
      issued = ParseTokenResponse(config_.kind, response.body, now);
      if (!issued.ok()) {
        issued = MakeError(
            absl::StatusCode::kInternal,
            absl::StrCat("backend ", config_.name,
                         ": token endpoint: ", issued.status().message()),
            reason::kBackendAuthFailed);
      }
    } else {
      // The body may echo what was sent; only the status is reported. A
      // token endpoint that is down or rate limiting says nothing about
      // the credentials: callers see it as the outage it is.
      const int http = response.status_code;
      absl::StatusCode code = absl::StatusCode::kInternal;
      const char* why = reason::kBackendAuthFailed;
      std::string what = "refused the client credentials";
      if (http == 429) {
        code = absl::StatusCode::kResourceExhausted;
        why = reason::kBackendRateLimited;
        what = "is rate limiting";
      } else if (http >= 500 && http < 600) {
        code = absl::StatusCode::kUnavailable;
        why = reason::kBackendUnavailable;
        what = "failed";
      }
      issued =
          MakeError(code,
                    absl::StrCat("backend ", config_.name, ": token endpoint ",
                                 what, " (HTTP ", http, ")"),
                    why, {{metadata::kHttpStatus, absl::StrCat(http)}});
    }
  }
  if (!issued.ok()) {
    absl::Status failed = issued.status();
    SetFailureFacts(failed, facts);
    issued = std::move(failed);
  }
  observer_->OnTokenRefresh(issued.ok());
  // Once per transition, so a failing endpoint is one line, not one per
  // call; the message names the backend and the HTTP status, never a body.
  if (issued.ok() == failing_) {
    failing_ = !issued.ok();
    if (failing_) {
      LogWarning("token endpoint failing",
                 {{"backend", config_.name},
                  {"error", std::string(issued.status().message())}});
    } else {
      LogInfo("token endpoint recovered", {{"backend", config_.name}});
    }
  }
  std::map<std::uint64_t, TokenCallback> waiters;
  absl::StatusOr<std::string> outcome;
  {
    absl::MutexLock lock(&mu_);
    fetching_ = false;
    waiters.swap(waiters_);
    if (issued.ok()) {
      token_ = issued->token;
      expires_ = issued->expires;
      refresh_at_ = expires_ ? *expires_ - RefreshMargin(*expires_ - now)
                             : absl::InfiniteFuture();
      outcome = token_;
    } else if (!token_.empty() && (!expires_ || now < *expires_)) {
      // A failed background refresh: keep using the valid token.
      refresh_at_ = now + absl::Seconds(5);
      outcome = token_;
    } else {
      outcome = issued.status();
    }
  }
  for (auto& [id, w] : waiters) w(outcome);
}

}  // namespace certbridge

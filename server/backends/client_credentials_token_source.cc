#include "server/backends/client_credentials_token_source.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/failure.h"
#include "server/common/log.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
absl::Duration ClientCredentialsTokenSource::RefreshMargin(
    absl::Duration lifetime) {
  return std::clamp(lifetime / 10, absl::Seconds(5), absl::Seconds(60));
}

ClientCredentialsTokenSource::ClientCredentialsTokenSource(
    BackendConfig config, const TokenProtocol& protocol,
    std::string client_secret, HttpTransport& transport,
    std::shared_ptr<BackendObserver> observer, const Clock& clock)
    : config_(std::move(config)),
      protocol_(protocol),
      client_secret_(std::move(client_secret)),
      transport_(transport),
      observer_(BackendObserver::OrNoop(std::move(observer))),
      clock_(clock) {}

HttpRequest ClientCredentialsTokenSource::TokenRequest() const {
  HttpRequest r;
  r.method = "POST";
  r.timeout = config_.request_timeout;
  r.connect_timeout = config_.connect_timeout;
  r.ca_file = config_.ca_file;
  r.headers.emplace_back("Accept", "application/json");
  protocol_.BuildTokenRequest(config_, client_secret_, r);
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
      issued = protocol_.ParseTokenResponse(response.body, now);
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
  observer_->OnTokenRefresh(issued.status());
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

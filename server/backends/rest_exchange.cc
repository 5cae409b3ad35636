#include "server/backends/rest_exchange.h"

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/errors.h"
#include "server/common/log.h"
#include "server/common/redact.h"
#include "server/common/trace_context.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
namespace {

absl::string_view ErrorLabel(TransportErrorKind kind) {
  switch (kind) {
    case TransportErrorKind::kDnsFailure:
    case TransportErrorKind::kConnectFailed:
    case TransportErrorKind::kConnectTimeout:
      return "connect";
    case TransportErrorKind::kTlsHandshake:
    case TransportErrorKind::kTlsVerification:
      return "tls";
    case TransportErrorKind::kTimeout:
      return "timeout";
    case TransportErrorKind::kConnectionReset:
      return "reset";
    case TransportErrorKind::kCancelled:
      // The caller gave up (or its deadline passed): not a backend failure,
      // and alerts on backend health must be able to leave it out.
      return "cancelled";
    default:
      return "other";
  }
}

}  // namespace

RestExchange::RestExchange(const BackendConfig& config,
                           HttpTransport& transport,
                           std::shared_ptr<TokenSource> tokens,
                           ErrorParser parse_error,
                           std::shared_ptr<BackendObserver> observer)
    : config_(config),
      transport_(transport),
      tokens_(std::move(tokens)),
      parse_error_(parse_error),
      observer_(BackendObserver::OrNoop(std::move(observer))) {}

BackendConfig WithDefaultAuthHeader(BackendConfig config,
                                    AuthHeaderStyle style) {
  if (!config.credentials.header) config.credentials.header = style;
  return config;
}

absl::Status RestExchange::MapBodyError(const CallContext& ctx, Operation op,
                                        int http_status,
                                        BackendErrorBody body) const {
  HttpErrorInput in;
  in.kind = config_.kind;
  in.operation = op;
  in.backend = config_.name;
  in.http_status = http_status;
  in.body = std::move(body);
  in.body.message = Redact(in.body.message, ctx.secrets());
  return MapHttpError(in);
}

void RestExchange::Send(std::shared_ptr<CallContext> ctx, Operation op,
                        HttpRequest request, ResponseHandler done) {
  for (std::string& secret : tokens_->Secrets()) {
    ctx->AddSecret(std::move(secret));
  }
  Attempt(std::move(ctx), op,
          std::make_shared<const HttpRequest>(std::move(request)),
          std::move(done), /*rejected=*/std::nullopt);
}

void RestExchange::Attempt(std::shared_ptr<CallContext> ctx, Operation op,
                           std::shared_ptr<const HttpRequest> base,
                           ResponseHandler done,
                           std::optional<Rejection> rejected) {
  CallContext& call = *ctx;
  tokens_->GetToken(call, [this, ctx, op, base, done = std::move(done),
                           rejected = std::move(rejected)](
                              absl::StatusOr<std::string> token) mutable {
    if (!token.ok()) {
      absl::Status status = token.status();
      if (!GetErrorInfo(status)) {
        status = MakeError(absl::StatusCode::kInternal,
                           absl::StrCat("backend ", config_.name,
                                        ": no credentials: ", status.message()),
                           reason::kBackendAuthFailed);
      }
      done(std::move(status));
      return;
    }
    ctx->AddSecret(*token);
    if (rejected && *token == rejected->token) {
      // No newer token to be had: the 401 stands.
      done(MapResponse(*ctx, op, rejected->response));
      return;
    }
    // A copy of the small parts only: the body is shared.
    HttpRequest request = *base;
    // The vendor's stub filled in its default (WithDefaultAuthHeader).
    switch (config_.credentials.header.value_or(AuthHeaderStyle::kBearer)) {
      case AuthHeaderStyle::kBearer:
        request.headers.emplace_back("Authorization",
                                     absl::StrCat("Bearer ", *token));
        break;
      case AuthHeaderStyle::kAuthorization:
        request.headers.emplace_back("Authorization", *token);
        break;
      case AuthHeaderStyle::kXAuthToken:
        request.headers.emplace_back("X-Auth-Token", *token);
        break;
    }
    request.headers.emplace_back("Accept", "application/json");
    request.headers.emplace_back("X-Request-ID", ctx->request_id());
    // A span per attempt (retries and the resend after a 401 included), so
    // the vendor's logs tell the attempts of one call apart.
    const TraceContext& trace = ctx->trace();
    request.headers.emplace_back(
        "traceparent",
        trace.NewChild(TraceContext::NewSpanId()).ToTraceparent());
    if (!trace.tracestate().empty()) {
      request.headers.emplace_back("tracestate", trace.tracestate());
    }
    request.timeout = ctx->AttemptTimeout(config_.request_timeout, absl::Now());
    request.connect_timeout = config_.connect_timeout;
    request.ca_file = config_.ca_file;
    const absl::Time sent = absl::Now();
    const bool may_refresh = !rejected.has_value();
    // The URL holds names, never credentials (config refuses userinfo).
    std::string debug_target;
    if (Logger::Get().Enabled(LogLevel::kDebug)) {
      debug_target = absl::StrCat(request.method, " ", request.url);
    }
    ctx->Send(
        transport_, std::move(request),
        [this, ctx, op, sent, base, may_refresh, token = *std::move(token),
         debug_target = std::move(debug_target),
         done = std::move(done)](HttpResult result) mutable {
          const absl::Duration took = absl::Now() - sent;
          if (!debug_target.empty()) {
            const auto* error = std::get_if<TransportError>(&result);
            LogDebug(
                "backend exchange",
                {{"backend", config_.name},
                 {"request", debug_target},
                 {"status", error == nullptr
                                ? std::get<HttpResponse>(result).status_code
                                : 0},
                 {"error",
                  error == nullptr
                      ? "none"
                      : std::string(TransportErrorKindName(error->kind))},
                 {"latency_us", absl::ToInt64Microseconds(took)},
                 {"request_id", ctx->request_id()},
                 {"trace_id", ctx->trace().trace_id()}});
          }
          if (auto* error = std::get_if<TransportError>(&result)) {
            observer_->OnHttpExchange(op, 0, ErrorLabel(error->kind), took);
            done(MapTransportError(*error, config_.name,
                                   ctx->DeadlinePassed(absl::Now())));
            return;
          }
          auto& response = std::get<HttpResponse>(result);
          observer_->OnHttpExchange(op, response.status_code, "none", took);
          if (response.status_code >= 200 && response.status_code < 300) {
            done(std::move(response));
            return;
          }
          if (response.status_code == 401 && may_refresh && !ctx->cancelled()) {
            // errors.md: refresh the token once and send again once.
            tokens_->Invalidate(token);
            Attempt(ctx, op, base, std::move(done),
                    Rejection{std::move(token), std::move(response)});
            return;
          }
          done(MapResponse(*ctx, op, response));
        });
  });
}

absl::Status RestExchange::MapResponse(const CallContext& ctx, Operation op,
                                       const HttpResponse& response) const {
  HttpErrorInput in;
  in.kind = config_.kind;
  in.operation = op;
  in.backend = config_.name;
  in.http_status = response.status_code;
  in.body = parse_error_(response.body);
  in.body.message = Redact(in.body.message, ctx.secrets());
  if (auto ra = response.Header("retry-after")) {
    in.retry_after = ParseRetryAfter(*ra, absl::Now());
  }
  return MapHttpError(in);
}

}  // namespace certbridge

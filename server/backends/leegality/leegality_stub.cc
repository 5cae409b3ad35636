#include "server/backends/leegality/leegality_stub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/backends/leegality/leegality_json.h"
#include "server/backends/update_mask.h"
#include "server/common/errors.h"
#include "server/common/redact.h"
#include "server/common/resource_name.h"
#include "server/http/multipart.h"
#include "server/mapping/http_status_mapping.h"
#include "server/mapping/transport_error_mapping.h"

namespace certbridge {
namespace {

constexpr char kPkcs12ContentType[] = "application/x-pkcs12";
constexpr char kDefaultFileName[] = "certificate.p12";

std::string IdOf(absl::string_view name) {
  auto parsed = ParseCertificateName(name, "name");
  return parsed.ok() ? parsed->certificate : std::string();
}

// The multipart body shared by create and update: every field is optional on
// the wire (the vendor pages mark all four optional); which ones are sent is
// decided by the caller.
struct UploadParts {
  bool file = false;
  bool department = false;
  bool enabled = false;
};

HttpRequest MultipartRequest(const v1::LeegalityCertificate& cert,
                             const UploadParts& parts) {
  MultipartBuilder builder(RandomBoundary());
  if (parts.file) {
    builder.AddFile("certificateFile",
                    cert.file_name().empty() ? kDefaultFileName
                                             : cert.file_name(),
                    kPkcs12ContentType, cert.pkcs12_file());
    builder.AddField("passkey", cert.passkey());
  }
  if (parts.department) builder.AddField("departmentId", cert.department_id());
  if (parts.enabled && cert.has_enabled()) {
    builder.AddField("enabled", cert.enabled() ? "true" : "false");
  }
  HttpRequest request;
  request.body = builder.Build();
  request.headers.emplace_back("Content-Type", builder.ContentType());
  return request;
}

}  // namespace

LeegalityStub::LeegalityStub(BackendConfig config, HttpTransport& transport,
                             std::shared_ptr<TokenSource> tokens)
    : config_(std::move(config)),
      transport_(transport),
      tokens_(std::move(tokens)) {}

std::string LeegalityStub::CertificatesUrl() const {
  // The documented server root already ends in /api and every path starts
  // with /api/v1, so real URLs contain /api/api/v1 (leegality.md §1).
  return absl::StrCat(config_.base_url, "/api/v1/certificates");
}

std::string LeegalityStub::CertificateUrl(const std::string& id) const {
  return absl::StrCat(CertificatesUrl(), "/", EscapeSegment(id));
}

void LeegalityStub::Exchange(std::shared_ptr<CallContext> ctx, Operation op,
                             HttpRequest request, std::string passkey,
                             ResponseHandler on_success) {
  tokens_->GetToken([this, ctx, op, request = std::move(request),
                     passkey = std::move(passkey),
                     on_success = std::move(on_success)](
                        absl::StatusOr<std::string> token) mutable {
    if (!token.ok()) {
      on_success(MakeError(
          absl::StatusCode::kInternal,
          absl::StrCat("backend ", config_.name,
                       ": no credentials: ", token.status().message()),
          reason::kBackendAuthFailed));
      return;
    }
    if (config_.credentials.header == AuthHeaderStyle::kBearer) {
      request.headers.emplace_back("Authorization",
                                   absl::StrCat("Bearer ", *token));
    } else {
      request.headers.emplace_back("X-Auth-Token", *token);
    }
    request.headers.emplace_back("Accept", "application/json");
    request.headers.emplace_back("X-Request-ID", ctx->request_id());
    const absl::Time now = absl::Now();
    request.timeout = ctx->AttemptTimeout(config_.request_timeout, now);
    request.connect_timeout = config_.connect_timeout;
    request.ca_file = config_.ca_file;
    ctx->Send(transport_, std::move(request),
              [this, ctx, op, token = *std::move(token),
               passkey = std::move(passkey), on_success = std::move(on_success)](HttpResult result) mutable {
                if (auto* error = std::get_if<TransportError>(&result)) {
                  on_success(MapTransportError(
                      *error, config_.name, ctx->DeadlinePassed(absl::Now())));
                  return;
                }
                auto& response = std::get<HttpResponse>(result);
                if (response.status_code >= 200 &&
                    response.status_code < 300) {
                  on_success(std::move(response));
                  return;
                }
                HttpErrorInput in;
                in.kind = BackendKind::kLeegality;
                in.operation = op;
                in.backend = config_.name;
                in.http_status = response.status_code;
                in.body = ParseLeegalityError(response.body);
                in.body.message =
                    RedactSecrets(in.body.message, {token, passkey});
                if (auto ra = response.Header("retry-after")) {
                  in.retry_after = ParseRetryAfter(*ra, absl::Now());
                }
                on_success(MapHttpError(in));
              });
  });
}

LeegalityStub::ResponseHandler LeegalityStub::CertificateHandler(
    Done<v1::Certificate> done) const {
  return [this, done = std::move(done)](
             absl::StatusOr<HttpResponse> r) mutable {
    if (!r.ok()) {
      done(r.status());
      return;
    }
    auto cert = ParseLeegalityCertificate(r->body, config_.name);
    if (!cert.ok()) {
      done(MalformedResponseError(config_.name, r->status_code,
                                  cert.status().message()));
      return;
    }
    done(*std::move(cert));
  };
}

void LeegalityStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  const v1::LeegalityCertificate& cert = request.certificate().leegality();
  HttpRequest http = MultipartRequest(
      cert, {/*file=*/true, /*department=*/!cert.department_id().empty(),
             /*enabled=*/true});
  http.method = "POST";
  http.url = CertificatesUrl();
  Exchange(ctx, Operation::kCreate, std::move(http), cert.passkey(),
           CertificateHandler(std::move(done)));
}

void LeegalityStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                   const v1::GetCertificateRequest& request,
                                   Done<v1::Certificate> done) {
  HttpRequest http;
  http.method = "GET";
  http.url = CertificateUrl(IdOf(request.name()));
  Exchange(ctx, Operation::kGet, std::move(http), /*passkey=*/"",
           CertificateHandler(std::move(done)));
}

void LeegalityStub::UpdateCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  const v1::LeegalityCertificate& cert = request.certificate().leegality();
  const auto& mask = request.update_mask();
  // "*" replaces what can be replaced; an absent file is kept by the vendor.
  UploadParts parts;
  parts.file = MaskCovers(mask, "leegality.pkcs12_file") &&
               !cert.pkcs12_file().empty();
  parts.department = MaskCovers(mask, "leegality.department_id") &&
                     !cert.department_id().empty();
  parts.enabled = MaskCovers(mask, "leegality.enabled");
  HttpRequest http = MultipartRequest(cert, parts);
  http.method = "PUT";
  http.url = CertificateUrl(IdOf(request.certificate().name()));
  Exchange(ctx, Operation::kUpdate, std::move(http), cert.passkey(),
           CertificateHandler(std::move(done)));
}

void LeegalityStub::DeleteCertificate(
    std::shared_ptr<CallContext> ctx,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  HttpRequest http;
  http.method = "DELETE";
  http.url = CertificateUrl(IdOf(request.name()));
  Exchange(ctx, Operation::kDelete, std::move(http), /*passkey=*/"",
           [this, done = std::move(done),
            name = request.name()](absl::StatusOr<HttpResponse> r) mutable {
             if (!r.ok()) {
               done(r.status());
               return;
             }
             if (auto s = ParseLeegalityDeleteAck(r->body); !s.ok()) {
               done(MalformedResponseError(config_.name, r->status_code,
                                           s.message()));
               return;
             }
             v1::DeleteCertificateResponse response;
             response.set_name(name);
             done(std::move(response));
           });
}

}  // namespace certbridge

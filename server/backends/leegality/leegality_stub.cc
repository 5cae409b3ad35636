#include "server/backends/leegality/leegality_stub.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/backends/etag.h"
#include "server/backends/leegality/leegality_json.h"
#include "server/backends/leegality/leegality_update.h"
#include "server/backends/update_mask.h"
#include "server/common/errors.h"
#include "server/common/quote.h"
#include "server/common/resource_name.h"
#include "server/http/multipart.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {
namespace {

constexpr char kPkcs12ContentType[] = "application/x-pkcs12";
constexpr char kDefaultFileName[] = "certificate.p12";

// The multipart body shared by create and update: every field is optional on
// the wire (the vendor pages mark all four optional); which ones are sent is
// decided by the caller.
HttpRequest MultipartRequest(const v1::LeegalityCertificate& cert,
                             const LeegalityUploadParts& parts) {
  MultipartBuilder builder(RandomBoundary());
  if (parts.file) {
    builder.AddFile(
        "certificateFile",
        cert.file_name().empty() ? kDefaultFileName : cert.file_name(),
        kPkcs12ContentType, cert.pkcs12_file());
    builder.AddField("passkey", cert.passkey());
  }
  if (parts.department) builder.AddField("departmentId", cert.department_id());
  if (parts.enabled && cert.has_enabled()) {
    builder.AddField("enabled", cert.enabled() ? "true" : "false");
  }
  HttpRequest request;
  request.SetBody(builder.Build());
  request.headers.emplace_back("Content-Type", builder.ContentType());
  return request;
}

}  // namespace

LeegalityStub::LeegalityStub(BackendConfig config, HttpTransport& transport,
                             std::shared_ptr<TokenSource> tokens,
                             std::shared_ptr<BackendObserver> observer)
    : config_(WithDefaultAuthHeader(std::move(config),
                                    AuthHeaderStyle::kXAuthToken)),
      exchange_(config_, transport, std::move(tokens), &ParseLeegalityError,
                std::move(observer)) {}

std::string LeegalityStub::CertificatesUrl() const {
  // The documented server root already ends in /api and every path starts
  // with /api/v1, so real URLs contain /api/api/v1 (leegality.md §1).
  return absl::StrCat(config_.base_url, "/api/v1/certificates");
}

std::string LeegalityStub::CertificateUrl(const std::string& id) const {
  return absl::StrCat(CertificatesUrl(), "/", EscapeSegment(id));
}

LeegalityStub::ResponseHandler LeegalityStub::CertificateHandler(
    std::string expected_id, Done<v1::Certificate> done) const {
  return [this, expected_id = std::move(expected_id),
          done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
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
    const std::string& id = cert->leegality().id();
    if (expected_id.empty() ? !IsUuid(id)
                            : !absl::EqualsIgnoreCase(id, expected_id)) {
      // A certificate the caller did not ask for (or an id no resource name
      // can hold) must not be passed off as the answer.
      done(MalformedResponseError(
          config_.name, r->status_code,
          expected_id.empty()
              ? absl::StrCat("certificate id ", QuoteInput(id),
                             " is not a UUID")
              : absl::StrCat("the body describes certificate ", QuoteInput(id),
                             ", not ", QuoteInput(expected_id))));
      return;
    }
    done(*std::move(cert));
  };
}

void LeegalityStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& /*parent*/,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  const v1::LeegalityCertificate& cert = request.certificate().leegality();
  ctx->AddSecret(cert.passkey());
  LeegalityUploadParts parts;
  parts.file = true;
  parts.department = !cert.department_id().empty();
  parts.enabled = cert.has_enabled();
  HttpRequest http = MultipartRequest(cert, parts);
  http.method = "POST";
  http.url = CertificatesUrl();
  exchange_.Send(ctx, Operation::kCreate, std::move(http),
                 CertificateHandler("", std::move(done)));
}

void LeegalityStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                   const CertificateName& name,
                                   const v1::GetCertificateRequest& /*request*/,
                                   Done<v1::Certificate> done) {
  HttpRequest http;
  http.method = "GET";
  http.url = CertificateUrl(name.certificate);
  exchange_.Send(ctx, Operation::kGet, std::move(http),
                 CertificateHandler(name.certificate, std::move(done)));
}

void LeegalityStub::UpdateCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  const v1::LeegalityCertificate& cert = request.certificate().leegality();
  ctx->AddSecret(cert.passkey());
  auto put = [this, ctx, &cert, &request,
              id = name.certificate](Done<v1::Certificate> finish) {
    HttpRequest http = MultipartRequest(cert, LeegalityUpdateParts(request));
    http.method = "PUT";
    http.url = CertificateUrl(id);
    exchange_.Send(ctx, Operation::kUpdate, std::move(http),
                   CertificateHandler(id, std::move(finish)));
  };
  const std::string& etag = request.certificate().etag();
  if (etag.empty()) {
    put(std::move(done));
    return;
  }
  // SignStation has no conditional PUT: read, compare, then write.
  HttpRequest read;
  read.method = "GET";
  read.url = CertificateUrl(name.certificate);
  exchange_.Send(ctx, Operation::kUpdate, std::move(read),
                 CertificateHandler(
                     name.certificate,
                     [this, etag, put = std::move(put), done = std::move(done)](
                         absl::StatusOr<v1::Certificate> current) mutable {
                       if (!current.ok()) {
                         done(current.status());
                         return;
                       }
                       if (auto s = CheckEtag(etag, *current, config_.name);
                           !s.ok()) {
                         done(std::move(s));
                         return;
                       }
                       put(std::move(done));
                     }));
}

void LeegalityStub::DeleteCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::DeleteCertificateRequest& /*request*/,
    Done<v1::DeleteCertificateResponse> done) {
  HttpRequest http;
  http.method = "DELETE";
  http.url = CertificateUrl(name.certificate);
  exchange_.Send(
      ctx, Operation::kDelete, std::move(http),
      [this, done = std::move(done), name = FormatCertificateName(name)](
          absl::StatusOr<HttpResponse> r) mutable {
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

void LeegalityStub::ListCertificates(
    std::shared_ptr<CallContext> ctx, const ParentName& /*parent*/,
    const v1::ListCertificatesRequest& /*request*/,
    Done<CertificateList> done) {
  HttpRequest http;
  http.method = "GET";
  http.url =
      absl::StrCat(CertificatesUrl(), "/expiring-soon?days=", kListHorizonDays);
  exchange_.Send(
      ctx, Operation::kList, std::move(http),
      [this, done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
        if (!r.ok()) {
          done(r.status());
          return;
        }
        auto list = ListedCertificates(
            ParseLeegalityCertificateList(r->body, config_.name,
                                          kMaxListedCertificates),
            config_.name, r->status_code);
        if (!list.ok()) {
          done(list.status());
          return;
        }
        for (const v1::Certificate& cert : list->certificates) {
          if (!IsUuid(cert.leegality().id())) {
            // Its name would not parse back: no caller could use it.
            done(MalformedResponseError(
                config_.name, r->status_code,
                absl::StrCat("listed certificate id ",
                             QuoteInput(cert.leegality().id()),
                             " is not a UUID")));
            return;
          }
        }
        done(*std::move(list));
      });
}

}  // namespace certbridge

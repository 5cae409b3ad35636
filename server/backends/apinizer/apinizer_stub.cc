#include "server/backends/apinizer/apinizer_stub.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/backends/apinizer/apinizer_json.h"
#include "server/backends/etag.h"
#include "server/backends/update_mask.h"
#include "server/common/errors.h"
#include "server/common/quote.h"
#include "server/common/resource_name.h"
#include "server/http/multipart.h"
#include "server/mapping/http_status_mapping.h"

namespace certbridge {
namespace {

constexpr char kPemContentType[] = "application/x-pem-file";

// The fields Apinizer requires on every create and update (§5 A3/A4).
struct Fields {
  std::string name;
  std::string alias;
  std::string description;
  std::vector<std::string> environments;
  std::string pem;
};

HttpRequest MultipartRequest(const Fields& f) {
  MultipartBuilder builder(RandomBoundary());
  // Sent on update too, equal to the path value (§7.6).
  builder.AddField("certificateName", f.name);
  builder.AddField("alias", f.alias);
  builder.AddField("certificateDescription", f.description);
  // One comma-separated value, not repeated fields (§7.5).
  builder.AddField("environmentList", absl::StrJoin(f.environments, ","));
  builder.AddFile("pemEncodedFile", f.name + ".pem", kPemContentType, f.pem);
  HttpRequest request;
  request.SetBody(builder.Build());
  request.headers.emplace_back("Content-Type", builder.ContentType());
  return request;
}

// Get returns base64EncodedContent per environment. It is documented only
// as "base64 certificate content": DER (what Java's getEncoded() gives) is
// re-wrapped as PEM; already-PEM text is used as is.
std::string PemFromBase64(absl::string_view b64) {
  std::string decoded;
  if (!absl::Base64Unescape(b64, &decoded)) return "";
  if (absl::StartsWith(decoded, "-----BEGIN")) return decoded;
  std::string clean;
  for (char c : b64) {
    if (c != '\n' && c != '\r' && c != ' ') clean.push_back(c);
  }
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < clean.size(); i += 64) {
    absl::StrAppend(&pem, clean.substr(i, 64), "\n");
  }
  absl::StrAppend(&pem, "-----END CERTIFICATE-----\n");
  return pem;
}

// Two PEM certificates are the same when their base64 bodies are.
bool SameCertificate(absl::string_view a, absl::string_view b) {
  auto body = [](absl::string_view pem) {
    std::string out;
    for (absl::string_view line : absl::StrSplit(pem, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || absl::StartsWith(line, "-----")) continue;
      absl::StrAppend(&out, line);
    }
    return out;
  };
  const std::string x = body(a);
  return !x.empty() && x == body(b);
}

absl::string_view JwkUpdateActionParam(v1::JwkUpdateAction a) {
  switch (a) {
    case v1::JWK_UPDATE_ACTION_NULLIFY:
      return "NULLIFY";
    case v1::JWK_UPDATE_ACTION_UPDATE:
      return "UPDATE";
    default:
      return "";
  }
}

absl::string_view JwkUpdateScopeParam(v1::JwkUpdateScope s) {
  switch (s) {
    case v1::SAME_PROJECT:
      return "SAME_PROJECT";
    case v1::ALL_PROJECTS:
      return "ALL_PROJECTS";
    default:
      return "";
  }
}

absl::string_view JwkDeleteActionParam(v1::JwkDeleteAction a) {
  switch (a) {
    case v1::JWK_DELETE_ACTION_NULLIFY:
      return "NULLIFY";
    case v1::JWK_DELETE_ACTION_DELETE:
      return "DELETE";
    default:
      return "";
  }
}

// Only what the caller chose is sent: servers older than the 2026-01-15
// docs do not know these parameters, and omitting them means the
// documented default (NULLIFY) on newer ones.
std::string Query(
    const std::vector<std::pair<const char*, absl::string_view>>& kv) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : kv) {
    if (!v.empty()) parts.push_back(absl::StrCat(k, "=", v));
  }
  return parts.empty() ? "" : absl::StrCat("?", absl::StrJoin(parts, "&"));
}

}  // namespace

ApinizerStub::ApinizerStub(BackendConfig config, HttpTransport& transport,
                           std::shared_ptr<TokenSource> tokens,
                           std::shared_ptr<BackendObserver> observer)
    : config_(
          WithDefaultAuthHeader(std::move(config), AuthHeaderStyle::kBearer)),
      exchange_(config_, transport, std::move(tokens), &ParseApinizerError,
                std::move(observer)) {}

std::string ApinizerStub::CertificatesUrl(const std::string& project) const {
  return absl::StrCat(absl::StripSuffix(config_.base_url, "/"), "/projects/",
                      EscapeSegment(project), "/certificates/");
}

std::string ApinizerStub::CertificateUrl(const Target& target) const {
  return absl::StrCat(CertificatesUrl(target.project),
                      EscapeSegment(target.certificate), "/");
}

void ApinizerStub::Send(std::shared_ptr<CallContext> ctx, Operation op,
                        HttpRequest request, ParsedHandler done) {
  exchange_.Send(
      ctx, op, std::move(request),
      [this, ctx, op,
       done = std::move(done)](absl::StatusOr<HttpResponse> r) mutable {
        if (!r.ok()) {
          done(r.status());
          return;
        }
        ParsedResponse parsed{r->status_code, ParseApinizerBody(r->body)};
        // "HTTP 200 can hide failure" (§7.2): read it as the 400 it means.
        if (auto failure = ApinizerFailureIn200(parsed.body)) {
          absl::Status s =
              exchange_.MapBodyError(*ctx, op, 400, *std::move(failure));
          SetErrorMetadata(s, metadata::kHttpStatus,
                           std::to_string(r->status_code));
          done(std::move(s));
          return;
        }
        done(std::move(parsed));
      });
}

void ApinizerStub::ReportDeployment(Operation op,
                                    const v1::DeploymentResult& result) const {
  if (result.state() == v1::DeploymentResult::PARTIALLY_FAILED ||
      result.state() == v1::DeploymentResult::FAILED) {
    exchange_.observer().OnDeploymentFailed(op);
  }
}

void ApinizerStub::Fetch(std::shared_ptr<CallContext> ctx, Operation op,
                         const Target& target, Done<v1::Certificate> done) {
  HttpRequest http;
  http.method = "GET";
  http.url = CertificateUrl(target);
  Send(ctx, op, std::move(http),
       [this, target,
        done = std::move(done)](absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(r.status());
           return;
         }
         auto cert = ParseCurrent(*r, target, nullptr);
         if (!cert.ok()) {
           done(cert.status());
           return;
         }
         done(*std::move(cert));
       });
}

void ApinizerStub::GetCertificate(std::shared_ptr<CallContext> ctx,
                                  const CertificateName& name,
                                  const v1::GetCertificateRequest& /*request*/,
                                  Done<v1::Certificate> done) {
  Fetch(ctx, Operation::kGet, {name.project, name.certificate},
        std::move(done));
}

absl::StatusOr<v1::Certificate> ApinizerStub::ParseCurrent(
    const ParsedResponse& response, const Target& target,
    std::string* base64_content) const {
  auto cert = ParseApinizerCertificate(response.body, config_.name,
                                       target.project, base64_content);
  if (!cert.ok()) {
    return MalformedResponseError(config_.name, response.status_code,
                                  cert.status().message());
  }
  // The body is not trusted over the request: a different certificate is
  // not an answer to this call.
  if (cert->display_name() != target.certificate) {
    return MalformedResponseError(
        config_.name, response.status_code,
        absl::StrCat("the body describes certificate ",
                     QuoteInput(cert->display_name()), ", not ",
                     QuoteInput(target.certificate)));
  }
  return cert;
}

void ApinizerStub::WriteAndReadBack(std::shared_ptr<CallContext> ctx,
                                    Operation op, const Target& target,
                                    HttpRequest request,
                                    v1::Certificate fallback,
                                    Done<v1::Certificate> done) {
  Send(ctx, op, std::move(request),
       [this, ctx, op, target, fallback = std::move(fallback),
        done = std::move(done)](absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(r.status());
           return;
         }
         auto deployment = ParseApinizerDeployment(r->body);
         if (!deployment.ok()) {
           done(MalformedResponseError(config_.name, r->status_code,
                                       deployment.status().message()));
           return;
         }
         ReportDeployment(op, *deployment);
         // The write happened; reading back only adds the deployed state
         // (thumbprints, validity), so a failed read does not fail the call.
         Fetch(ctx, Operation::kGet, target,
               [fallback = std::move(fallback),
                deployment = *std::move(deployment), done = std::move(done)](
                   absl::StatusOr<v1::Certificate> read) mutable {
                 v1::Certificate out =
                     read.ok() ? *std::move(read) : std::move(fallback);
                 *out.mutable_apinizer()->mutable_deployment_result() =
                     std::move(deployment);
                 done(std::move(out));
               });
       });
}

void ApinizerStub::CreateCertificate(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::CreateCertificateRequest& request, Done<v1::Certificate> done) {
  const v1::ApinizerCertificate& a = request.certificate().apinizer();
  Fields f{request.certificate_id(),
           a.alias(),
           a.description(),
           {a.environments().begin(), a.environments().end()},
           a.pem_certificate()};
  HttpRequest http = MultipartRequest(f);
  http.method = "POST";
  http.url = CertificatesUrl(parent.project);
  const Target target{parent.project, request.certificate_id()};
  v1::Certificate fallback;
  fallback.set_name(FormatCertificateName(
      {config_.name, true, target.project, target.certificate}));
  fallback.set_display_name(target.certificate);
  v1::ApinizerCertificate* fa = fallback.mutable_apinizer();
  fa->set_description(a.description());
  fa->set_alias(a.alias());
  *fa->mutable_environments() = a.environments();
  WriteAndReadBack(ctx, Operation::kCreate, target, std::move(http),
                   std::move(fallback), std::move(done));
}

void ApinizerStub::UpdateCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::UpdateCertificateRequest& request, Done<v1::Certificate> done) {
  const Target target{name.project, name.certificate};
  const auto& mask = request.update_mask();
  const v1::ApinizerCertificate& in = request.certificate().apinizer();
  const bool wildcard = MaskCovers(mask, "*");
  // Named paths replace; "*" replaces what the request carries. Everything
  // else is sent again as it is now, because Apinizer's PUT requires every
  // field (§5 A4) and replaces the certificate (§7.6).
  auto take = [&](const char* path, bool present) {
    if (!MaskCovers(mask, path)) return false;
    const bool named = std::find(mask.paths().begin(), mask.paths().end(),
                                 path) != mask.paths().end();
    return named || !wildcard || present;
  };
  Fields f;
  f.name = target.certificate;
  const bool take_description =
      take("apinizer.description", !in.description().empty());
  const bool take_alias = take("apinizer.alias", !in.alias().empty());
  const bool take_envs =
      take("apinizer.environments", !in.environments().empty());
  const bool take_pem =
      take("apinizer.pem_certificate", !in.pem_certificate().empty());
  if (take_description) f.description = in.description();
  if (take_alias) f.alias = in.alias();
  if (take_envs)
    f.environments.assign(in.environments().begin(), in.environments().end());
  if (take_pem) f.pem = in.pem_certificate();
  const std::string query = Query(
      {{"jwkUpdateAction", JwkUpdateActionParam(request.jwk_update_action())},
       {"updateScope", JwkUpdateScopeParam(request.jwk_update_scope())}});

  auto write = [this, ctx, target, query](Fields fields,
                                          Done<v1::Certificate> finish) {
    HttpRequest http = MultipartRequest(fields);
    http.method = "PUT";
    http.url = CertificateUrl(target) + query;
    v1::Certificate fallback;
    fallback.set_name(FormatCertificateName(
        {config_.name, true, target.project, target.certificate}));
    fallback.set_display_name(target.certificate);
    v1::ApinizerCertificate* fa = fallback.mutable_apinizer();
    fa->set_description(fields.description);
    fa->set_alias(fields.alias);
    for (const auto& e : fields.environments) fa->add_environments(e);
    WriteAndReadBack(ctx, Operation::kUpdate, target, std::move(http),
                     std::move(fallback), std::move(finish));
  };
  const std::string& etag = request.certificate().etag();
  if (take_description && take_alias && take_envs && take_pem && etag.empty()) {
    write(std::move(f), std::move(done));
    return;
  }
  // Read first. The read is part of the Update: a missing certificate is
  // NOT_FOUND for the Update. The PUT replaces the whole certificate, so
  // what the mask leaves alone is sent back as read; a change landing
  // between this read and the PUT would be undone, which is why a caller
  // can pin the state it saw with an etag.
  HttpRequest http;
  http.method = "GET";
  http.url = CertificateUrl(target);
  Send(ctx, Operation::kUpdate, std::move(http),
       [this, f = std::move(f), take_description, take_alias, take_envs,
        take_pem, write = std::move(write), target, etag,
        done = std::move(done)](absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(r.status());
           return;
         }
         std::string content;
         auto current = ParseCurrent(*r, target, &content);
         if (!current.ok()) {
           done(current.status());
           return;
         }
         if (auto s = CheckEtag(etag, *current, config_.name); !s.ok()) {
           done(std::move(s));
           return;
         }
         const v1::ApinizerCertificate& cur = current->apinizer();
         if (!take_description) f.description = cur.description();
         if (!take_alias) f.alias = cur.alias();
         if (!take_envs) {
           f.environments.assign(cur.environments().begin(),
                                 cur.environments().end());
         }
         if (!take_pem) {
           f.pem = PemFromBase64(content);
           if (f.pem.empty()) {
             done(MalformedResponseError(
                 config_.name, r->status_code,
                 "the current certificate's base64EncodedContent is missing "
                 "or not base64, so it cannot be sent again"));
             return;
           }
         }
         write(std::move(f), std::move(done));
       });
}

void ApinizerStub::RecoverCreate(std::shared_ptr<CallContext> ctx,
                                 const ParentName& parent,
                                 const v1::CreateCertificateRequest& request,
                                 absl::Status conflict,
                                 Done<v1::Certificate> done) {
  const Target target{parent.project, request.certificate_id()};
  HttpRequest http;
  http.method = "GET";
  http.url = CertificateUrl(target);
  Send(ctx, Operation::kGet, std::move(http),
       [this, &request, target, conflict = std::move(conflict),
        done = std::move(done)](absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(std::move(conflict));
           return;
         }
         std::string content;
         auto cert = ParseCurrent(*r, target, &content);
         if (!cert.ok()) {
           done(std::move(conflict));
           return;
         }
         const v1::ApinizerCertificate& want = request.certificate().apinizer();
         const v1::ApinizerCertificate& got = cert->apinizer();
         std::vector<std::string> want_envs(want.environments().begin(),
                                            want.environments().end());
         std::vector<std::string> got_envs(got.environments().begin(),
                                           got.environments().end());
         std::sort(want_envs.begin(), want_envs.end());
         std::sort(got_envs.begin(), got_envs.end());
         const bool same =
             got.alias() == want.alias() &&
             got.description() == want.description() && got_envs == want_envs &&
             SameCertificate(PemFromBase64(content), want.pem_certificate());
         if (!same) {
           done(std::move(conflict));
           return;
         }
         done(*std::move(cert));
       });
}

void ApinizerStub::ListCertificates(
    std::shared_ptr<CallContext> ctx, const ParentName& parent,
    const v1::ListCertificatesRequest& /*request*/,
    Done<CertificateList> done) {
  HttpRequest http;
  http.method = "GET";
  http.url = CertificatesUrl(parent.project);
  Send(ctx, Operation::kList, std::move(http),
       [this, project = parent.project,
        done = std::move(done)](absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(r.status());
           return;
         }
         done(ListedCertificates(
             ParseApinizerCertificateList(r->body, config_.name, project,
                                          kMaxListedCertificates),
             config_.name, r->status_code));
       });
}

void ApinizerStub::DeleteCertificate(
    std::shared_ptr<CallContext> ctx, const CertificateName& name,
    const v1::DeleteCertificateRequest& request,
    Done<v1::DeleteCertificateResponse> done) {
  HttpRequest http;
  http.method = "DELETE";
  http.url = CertificateUrl({name.project, name.certificate}) +
             Query({{"jwkDeleteAction",
                     JwkDeleteActionParam(request.jwk_delete_action())}});
  Send(ctx, Operation::kDelete, std::move(http),
       [this, done = std::move(done), resource = FormatCertificateName(name)](
           absl::StatusOr<ParsedResponse> r) mutable {
         if (!r.ok()) {
           done(r.status());
           return;
         }
         auto undeploy = ParseApinizerDeployment(r->body);
         if (!undeploy.ok()) {
           done(MalformedResponseError(config_.name, r->status_code,
                                       undeploy.status().message()));
           return;
         }
         ReportDeployment(Operation::kDelete, *undeploy);
         v1::DeleteCertificateResponse response;
         response.set_name(resource);
         *response.mutable_undeployment_result() = *std::move(undeploy);
         done(std::move(response));
       });
}

}  // namespace certbridge

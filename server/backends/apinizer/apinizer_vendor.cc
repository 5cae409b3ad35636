#include "server/backends/apinizer/apinizer_vendor.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/backends/apinizer/apinizer_stub.h"
#include "server/backends/request_checks.h"
#include "server/backends/update_mask.h"
#include "server/common/quote.h"
#include "server/common/resource_name.h"

namespace certbridge {
namespace {

// Apinizer joins environments into one comma-separated form value (§7.5),
// so a name with a comma would silently become two environments.
absl::Status CheckEnvironments(const v1::ApinizerCertificate& cert) {
  constexpr absl::string_view kField = "certificate.apinizer.environments";
  if (cert.environments().empty()) {
    return InvalidField(kField, "must name at least one environment");
  }
  std::set<std::string> seen;
  for (const std::string& env : cert.environments()) {
    if (env.empty() || absl::StrContains(env, ',') ||
        absl::StripAsciiWhitespace(env) != env) {
      return InvalidField(kField,
                          "entries must be non-empty, without commas or "
                          "surrounding spaces");
    }
    if (!seen.insert(env).second) {
      return InvalidField(kField,
                          absl::StrCat(QuoteInput(env), " is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPemUpload(const v1::ApinizerCertificate& cert, absl::Time now,
                            const FileChecks& checks) {
  constexpr absl::string_view kField = "certificate.apinizer.pem_certificate";
  if (cert.pem_certificate().empty())
    return InvalidField(kField, "is required");
  if (auto s = CheckFileSize(cert.pem_certificate(), kField); !s.ok()) {
    return s;
  }
  return RunOrDefer(checks, [&cert, now] {
    return CheckPemCertificate(cert.pem_certificate(), now,
                               "certificate.apinizer.pem_certificate")
        .status();
  });
}

absl::Status RejectOtherVendorFields(const v1::Certificate& cert) {
  if (cert.has_leegality()) {
    return InvalidField("certificate.leegality",
                        "does not apply to an Apinizer backend; set "
                        "certificate.apinizer");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApinizerVendor::ValidateCreate(
    const v1::CreateCertificateRequest& r, absl::Time now,
    const FileChecks& checks) const {
  if (r.certificate_id().empty()) {
    return InvalidField("certificate_id", "is required");
  }
  // It becomes the last segment of the name and of the vendor URL, so it
  // obeys the same rules as every name segment.
  if (auto s = CheckNameSegment(r.certificate_id(), "certificate_id");
      !s.ok()) {
    return s;
  }
  if (auto s = RejectOtherVendorFields(r.certificate()); !s.ok()) return s;
  if (!r.certificate().has_apinizer()) {
    return InvalidField("certificate.apinizer",
                        "is required for an Apinizer backend");
  }
  const v1::ApinizerCertificate& cert = r.certificate().apinizer();
  if (auto s = CheckDisplayText(cert.alias(), "certificate.apinizer.alias");
      !s.ok()) {
    return s;
  }
  if (auto s = CheckEnvironments(cert); !s.ok()) return s;
  return CheckPemUpload(cert, now, checks);
}

absl::Status ApinizerVendor::ValidateUpdate(
    const v1::UpdateCertificateRequest& r, absl::Time now,
    const FileChecks& checks) const {
  static const std::set<std::string> kPaths = {
      "*", "apinizer.description", "apinizer.alias", "apinizer.environments",
      "apinizer.pem_certificate"};
  const auto& mask = r.update_mask();
  if (auto s = CheckMaskPaths(mask, kPaths, "an Apinizer certificate");
      !s.ok()) {
    return s;
  }
  if (auto s = RejectOtherVendorFields(r.certificate()); !s.ok()) return s;
  const v1::ApinizerCertificate& cert = r.certificate().apinizer();
  const bool wildcard = MaskCovers(mask, "*");
  // "*" replaces what the request carries; absent fields keep their value.
  if (MaskCovers(mask, "apinizer.alias") &&
      (!wildcard || !cert.alias().empty())) {
    if (auto s = CheckDisplayText(cert.alias(), "certificate.apinizer.alias");
        !s.ok()) {
      return s;
    }
  }
  if (MaskCovers(mask, "apinizer.environments") &&
      (!wildcard || !cert.environments().empty())) {
    if (auto s = CheckEnvironments(cert); !s.ok()) return s;
  }
  if (MaskCovers(mask, "apinizer.pem_certificate") &&
      (!wildcard || !cert.pem_certificate().empty())) {
    if (auto s = CheckPemUpload(cert, now, checks); !s.ok()) return s;
  }
  if (!v1::JwkUpdateAction_IsValid(r.jwk_update_action())) {
    return InvalidField("jwk_update_action", "unknown value");
  }
  if (!v1::JwkUpdateScope_IsValid(r.jwk_update_scope())) {
    return InvalidField("jwk_update_scope", "unknown value");
  }
  if (r.jwk_update_scope() != v1::JWK_UPDATE_SCOPE_UNSPECIFIED &&
      r.jwk_update_action() != v1::JWK_UPDATE_ACTION_UPDATE) {
    return InvalidField("jwk_update_scope",
                        "is only meaningful with JWK_UPDATE_ACTION_UPDATE");
  }
  return absl::OkStatus();
}

absl::Status ApinizerVendor::ValidateDelete(
    const v1::DeleteCertificateRequest& r) const {
  if (!v1::JwkDeleteAction_IsValid(r.jwk_delete_action())) {
    return InvalidField("jwk_delete_action", "unknown value");
  }
  return absl::OkStatus();
}

const v1::DeploymentResult* ApinizerVendor::DeploymentOf(
    const v1::Certificate& certificate) const {
  return certificate.has_apinizer()
             ? &certificate.apinizer().deployment_result()
             : nullptr;
}

std::optional<absl::Time> ApinizerVendor::ExpireTimeOf(
    const v1::Certificate& certificate) const {
  std::optional<absl::Time> earliest;
  if (!certificate.has_apinizer()) return earliest;
  for (const v1::EnvironmentDeployment& d :
       certificate.apinizer().deployments()) {
    if (!d.has_end_time()) continue;
    const absl::Time t = absl::FromUnixSeconds(d.end_time().seconds()) +
                         absl::Nanoseconds(d.end_time().nanos());
    if (!earliest || t < *earliest) earliest = t;
  }
  return earliest;
}

std::vector<EnvironmentExpiry> ApinizerVendor::ExpiriesOf(
    const v1::Certificate& certificate) const {
  std::vector<EnvironmentExpiry> out;
  if (!certificate.has_apinizer()) return out;
  for (const v1::EnvironmentDeployment& d :
       certificate.apinizer().deployments()) {
    if (!d.has_end_time()) continue;
    out.push_back(
        {d.environment(), absl::FromUnixSeconds(d.end_time().seconds()) +
                              absl::Nanoseconds(d.end_time().nanos())});
  }
  return out;
}

std::unique_ptr<BackendStub> ApinizerVendor::MakeStub(
    const BackendConfig& config, HttpTransport& transport,
    std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer) const {
  return std::make_unique<ApinizerStub>(config, transport, std::move(tokens),
                                        std::move(observer));
}

void ApinizerVendor::BuildTokenRequest(const BackendConfig& config,
                                       absl::string_view client_secret,
                                       HttpRequest& request) const {
  const CredentialsConfig& c = config.credentials;
  // apinizer.md §2.1: form-encoded, "not JSON".
  request.url = c.token_url.empty()
                    ? absl::StrCat(config.base_url, "/auth/token")
                    : c.token_url;
  request.headers.emplace_back("Content-Type",
                               "application/x-www-form-urlencoded");
  request.SetBody(absl::StrCat(
      "grant_type=client_credentials&client_id=", FormEscape(c.client_id),
      "&client_secret=", FormEscape(client_secret)));
}

absl::StatusOr<IssuedToken> ApinizerVendor::ParseTokenResponse(
    absl::string_view body, absl::Time now) const {
  return ParseTokenJson(body, now);
}

}  // namespace certbridge

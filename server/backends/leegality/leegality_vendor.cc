#include "server/backends/leegality/leegality_vendor.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/backends/leegality/leegality_stub.h"
#include "server/backends/leegality/leegality_update.h"
#include "server/backends/request_checks.h"
#include "server/backends/update_mask.h"
#include "server/common/quote.h"
#include "server/common/resource_name.h"

namespace certbridge {
namespace {

absl::Status CheckFileName(const std::string& name) {
  if (name.empty()) return absl::OkStatus();
  constexpr absl::string_view kField = "certificate.leegality.file_name";
  if (name.size() > 255)
    return InvalidField(kField, "is longer than 255 bytes");
  for (char c : name) {
    if (c == '/' || c == '\\' || absl::ascii_iscntrl(c)) {
      return InvalidField(
          kField, "must not contain path separators or control characters");
    }
  }
  const std::string lower = absl::AsciiStrToLower(name);
  if (!absl::EndsWith(lower, ".p12") && !absl::EndsWith(lower, ".pfx")) {
    // SignStation accepts .p12/.pfx uploads only.
    return InvalidField(kField, "must end in .p12 or .pfx");
  }
  return absl::OkStatus();
}

absl::Status CheckPkcs12Upload(const v1::LeegalityCertificate& cert,
                               absl::Time now, const FileChecks& checks) {
  constexpr absl::string_view kField = "certificate.leegality.pkcs12_file";
  if (cert.pkcs12_file().empty()) return InvalidField(kField, "is required");
  if (auto s = CheckFileSize(cert.pkcs12_file(), kField); !s.ok()) return s;
  const Pkcs12Limits limits = checks.pkcs12;
  return RunOrDefer(checks, [&cert, now, limits] {
    return CheckPkcs12(cert.pkcs12_file(), cert.passkey(), now,
                       "certificate.leegality.pkcs12_file", limits)
        .status();
  });
}

absl::Status CheckDepartment(const std::string& id) {
  if (!id.empty() && !IsUuid(id)) {
    return InvalidField("certificate.leegality.department_id",
                        "must be a UUID");
  }
  return absl::OkStatus();
}

absl::Status RejectOtherVendorFields(const v1::UpdateCertificateRequest& r) {
  if (r.certificate().has_apinizer()) {
    return InvalidField("certificate.apinizer",
                        "does not apply to a Leegality backend");
  }
  if (r.jwk_update_action() != v1::JWK_UPDATE_ACTION_UNSPECIFIED ||
      r.jwk_update_scope() != v1::JWK_UPDATE_SCOPE_UNSPECIFIED) {
    return InvalidField("jwk_update_action",
                        "applies to Apinizer backends only");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LeegalityVendor::CheckCertificateId(
    absl::string_view id, absl::string_view field) const {
  if (!IsUuid(id)) {
    return InvalidName(field, absl::StrCat("Leegality certificate ids are "
                                           "UUIDs; ",
                                           QuoteInput(id), " is not"));
  }
  return absl::OkStatus();
}

std::optional<absl::Time> LeegalityVendor::ExpireTimeOf(
    const v1::Certificate& certificate) const {
  if (!certificate.has_leegality() ||
      !certificate.leegality().has_expire_time()) {
    return std::nullopt;
  }
  const google::protobuf::Timestamp& t = certificate.leegality().expire_time();
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

absl::Status LeegalityVendor::ValidateCreate(
    const v1::CreateCertificateRequest& r, absl::Time now,
    const FileChecks& checks) const {
  if (!r.certificate_id().empty()) {
    return InvalidField("certificate_id",
                        "must be empty for Leegality backends (SignStation "
                        "assigns the id)");
  }
  if (r.certificate().has_apinizer()) {
    return InvalidField("certificate.apinizer",
                        "does not apply to a Leegality backend");
  }
  if (!r.certificate().has_leegality()) {
    return InvalidField("certificate.leegality",
                        "is required for a Leegality backend");
  }
  const v1::LeegalityCertificate& cert = r.certificate().leegality();
  if (auto s = CheckFileName(cert.file_name()); !s.ok()) return s;
  if (auto s = CheckDepartment(cert.department_id()); !s.ok()) return s;
  return CheckPkcs12Upload(cert, now, checks);
}

absl::Status LeegalityVendor::ValidateUpdate(
    const v1::UpdateCertificateRequest& r, absl::Time now,
    const FileChecks& checks) const {
  if (auto s = RejectOtherVendorFields(r); !s.ok()) return s;
  static const std::set<std::string> kPaths = {"*",
                                               "leegality.enabled",
                                               "leegality.department_id",
                                               "leegality.pkcs12_file",
                                               "leegality.passkey",
                                               "leegality.file_name"};
  const auto& mask = r.update_mask();
  if (auto s = CheckMaskPaths(mask, kPaths, "a Leegality certificate");
      !s.ok()) {
    return s;
  }
  if (!r.certificate().has_leegality()) {
    return InvalidField("certificate.leegality",
                        "is required for a Leegality backend");
  }
  const v1::LeegalityCertificate& cert = r.certificate().leegality();
  const bool wildcard = MaskCovers(mask, "*") && mask.paths_size() == 1;
  if (MaskCovers(mask, "leegality.enabled") && !cert.has_enabled() &&
      !wildcard) {
    return InvalidField("certificate.leegality.enabled",
                        "is in update_mask but not set");
  }
  if (MaskCovers(mask, "leegality.department_id")) {
    if (cert.department_id().empty() && !wildcard) {
      return InvalidField("certificate.leegality.department_id",
                          "is in update_mask but empty (SignStation cannot "
                          "clear a department)");
    }
    if (auto s = CheckDepartment(cert.department_id()); !s.ok()) return s;
  }
  if (auto s = CheckFileName(cert.file_name()); !s.ok()) return s;
  const bool file_in_mask = MaskCovers(mask, "leegality.pkcs12_file");
  for (const char* rider : {"leegality.passkey", "leegality.file_name"}) {
    // Both only travel with a new file.
    if (MaskCovers(mask, rider) && !wildcard && !file_in_mask) {
      return InvalidField("update_mask",
                          absl::StrCat(rider,
                                       " can only change together with "
                                       "leegality.pkcs12_file"));
    }
  }
  if (LeegalityUpdateParts(r).empty()) {
    // SignStation would get an empty PUT and answer OK having changed
    // nothing; the caller would believe the update happened.
    return InvalidField("update_mask",
                        "selects nothing to change: set the fields it names");
  }
  if ((file_in_mask && !wildcard) || !cert.pkcs12_file().empty()) {
    return CheckPkcs12Upload(cert, now, checks);
  }
  return absl::OkStatus();
}

absl::Status LeegalityVendor::ValidateDelete(
    const v1::DeleteCertificateRequest& r) const {
  if (r.jwk_delete_action() != v1::JWK_DELETE_ACTION_UNSPECIFIED) {
    return InvalidField("jwk_delete_action",
                        "applies to Apinizer backends only");
  }
  return absl::OkStatus();
}

std::unique_ptr<BackendStub> LeegalityVendor::MakeStub(
    const BackendConfig& config, HttpTransport& transport,
    std::shared_ptr<TokenSource> tokens,
    std::shared_ptr<BackendObserver> observer) const {
  return std::make_unique<LeegalityStub>(config, transport, std::move(tokens),
                                         std::move(observer));
}

void LeegalityVendor::BuildTokenRequest(const BackendConfig& config,
                                        absl::string_view client_secret,
                                        HttpRequest& request) const {
  using nlohmann::json;
  const CredentialsConfig& c = config.credentials;
  // leegality.md §2.2: JSON, no grant_type.
  request.url = c.token_url.empty()
                    ? absl::StrCat(config.base_url, "/api/v1/auth/token")
                    : c.token_url;
  request.headers.emplace_back("Content-Type", "application/json");
  // The token source admits only UTF-8 secrets, and the replacing handler
  // keeps dump() from ever throwing on the transport's thread.
  request.SetBody(json{{"clientId", c.client_id},
                       {"clientSecret", std::string(client_secret)}}
                      .dump(-1, ' ', false, json::error_handler_t::replace));
}

absl::StatusOr<IssuedToken> LeegalityVendor::ParseTokenResponse(
    absl::string_view body, absl::Time now) const {
  // The envelope is undocumented: data.token / data.accessToken / token /
  // access_token are all accepted.
  return ParseTokenJson(body, now, "data");
}

}  // namespace certbridge

// The Leegality SignStation certificate API as the emulator serves it:
// in-memory state (LeegalityState) and the documented operations under
// /api/v1/certificates, with the status codes and bodies of the vendor's
// pages (certificate upload, read, update, delete, summary, expiring-soon)
// and their known quirks.
//
// GET /api/v1/certificates/expiring-soon?days=&departmentId= (C6): the
// data-only envelope {"data": [CertificateVO...]}, sorted by expiry
// ascending, with only ENABLED certificates that HAVE an expiry (quirk 11:
// disabled ones and ones without an expiry are silently left out). `days`
// (int, default 30) is the horizon: a certificate is listed when it expires
// at most `days` days from now, already expired ones included (the page
// does not say; a reminder list that hid expired certificates would hide
// the most urgent ones). GET /api/v1/certificates/summary (C5) answers
// {code, message, data: {totalCertificates, activeCertificates,
// expiringSoonCertificates}} over the same parameters: total, enabled and
// not expired, and what expiring-soon would list (the field names are not
// captured in the vendor pages; these are the emulator's). Both take an
// optional `departmentId` (a UUID, else 400 "Invalid UUID provided.").
//
// Paths: the real server root ends in /api and every documented path starts
// with /api/v1 (leegality.md §1), so real URLs read /api/api/v1/... The
// emulator serves /api/v1/... and also accepts /api/api/v1/..., so both a
// base URL of http://host:port and one of http://host:port/api work; error
// bodies always name the documented path (/api/v1/...).
#ifndef CERTBRIDGE_TESTS_EMULATOR_LEEGALITY_API_H_
#define CERTBRIDGE_TESTS_EMULATOR_LEEGALITY_API_H_

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/emulator/backend_api.h"
#include "tests/emulator/token_issuer.h"

namespace certbridge::emulator {

/// Departments every fresh LeegalityState knows.
inline constexpr char kLeegalityHrDepartmentId[] =
    "18b45e41-0d2c-4b0c-9a55-3b7e7c1f0a52";
inline constexpr char kLeegalityLegalDepartmentId[] =
    "7c1f0a52-3b7e-4b0c-9a55-0d2c1e9b8f10";
/// "max size: 5MB" (seeds 002/003), read as 5 MiB.
inline constexpr std::size_t kLeegalityMaxFileBytes = 5 * 1024 * 1024;

struct LeegalityCertificate {
  std::string id;
  std::string name;
  std::string certificate_type = "PKCS12_PFX";
  absl::Time expiry;
  /// False: SignStation reports no expiry (`"expiry": null`), as for some
  /// HSM certificates.
  bool has_expiry = true;
  absl::Time created_at;
  std::string department_id;
  bool enabled = true;
  /// The uploaded PKCS#12 (DER) and its passkey; never returned by the API.
  std::string file;
  std::string passkey;
};

/// The organization's certificates and departments. Thread-safe.
class LeegalityState {
 public:
  /// Seeds the HR and Legal departments.
  LeegalityState();

  /// Drops every certificate and restores the seeded departments.
  void Reset();
  void AddDepartment(const std::string& id, const std::string& name);
  std::optional<std::string> DepartmentName(const std::string& id) const;

  std::optional<LeegalityCertificate> Get(const std::string& id) const;
  std::vector<LeegalityCertificate> List() const;
  std::size_t size() const;
  /// AlreadyExists when another certificate has the same name; fills in a
  /// fresh UUID when `cert.id` is empty. Returns the stored certificate.
  absl::StatusOr<LeegalityCertificate> Insert(LeegalityCertificate cert);
  /// Applies `edit` under the lock; NotFound when `id` is unknown.
  absl::StatusOr<LeegalityCertificate> Update(
      const std::string& id,
      const std::function<void(LeegalityCertificate&)>& edit);
  /// False when `id` is unknown.
  bool Remove(const std::string& id);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> departments_;            // id -> name
  std::map<std::string, LeegalityCertificate> certificates_;  // by id
};

/// `{"code": code, "errors": [{"message", "path", "code": inner_code}]}` as on
/// the vendor's pages. An empty `code` becomes "LE_ERR_SS_<status>"; an empty
/// `inner_code` or `path` is written as null.
std::string LeegalityErrorBody(int status, const std::string& code,
                               const std::string& inner_code,
                               const std::string& message,
                               const std::string& path = "");

/// The CertificateVO of the seeds (no file, no passkey), as JSON text.
std::string LeegalityCertificateJson(const LeegalityCertificate& cert,
                                     const std::string& department_name);

/// "2027-03-31T23:59:59Z": the docs print "string" for expiry/createdAt; this
/// is the format of the example in the vendor's OpenAPI description.
std::string FormatLeegalityTime(absl::Time t);

/// 8-4-4-4-12 hexadecimal digits.
bool IsUuid(absl::string_view text);
/// A random (version 4) UUID, lower case.
std::string NewUuidV4();

/// The certificate name for an uploaded file name: the name without a
/// trailing .p12/.pfx (any case). The seeds' CertificateVO example name
/// equals the certificateFile example verbatim
/// ("TestCertificate.leegality.com", no PKCS#12 extension), and the 409 example
/// names the alias 'MyCertificate', so only the PKCS#12 extension is dropped.
std::string LeegalityNameFromFileName(absl::string_view file_name);

/// Opens a DER PKCS#12 with `passkey` (MAC check and decryption, legacy
/// algorithms included) and returns its certificate's notAfter.
/// InvalidArgument otherwise; the message never contains the passkey.
absl::StatusOr<absl::Time> OpenPkcs12(absl::string_view der,
                                      absl::string_view passkey);

class LeegalityApi final : public BackendApi {
 public:
  /// Requests must carry `token` as X-Auth-Token or Authorization: Bearer.
  explicit LeegalityApi(std::string token);

  absl::string_view name() const override { return "leegality"; }
  /// /api/v1/... and /api/api/v1/...
  bool Serves(absl::string_view path) const override;
  HttpResponse Handle(const HttpRequest& request) override;
  void Reset() override { state_.Reset(); }

  LeegalityState& state() { return state_; }
  /// Serve POST /api/v1/auth/token from `issuer` and accept its tokens.
  void set_token_issuer(TokenIssuer* issuer) { issuer_ = issuer; }

 private:
  HttpResponse Create(const HttpRequest& request, const std::string& path);
  HttpResponse Read(const std::string& id, const std::string& path);
  HttpResponse Update(const HttpRequest& request, const std::string& id,
                      const std::string& path);
  HttpResponse Delete(const std::string& id, const std::string& path);
  HttpResponse ExpiringSoon(const HttpRequest& request,
                            const std::string& path);
  HttpResponse Summary(const HttpRequest& request, const std::string& path);
  std::string Vo(const LeegalityCertificate& cert) const;

  const std::string token_;
  TokenIssuer* issuer_ = nullptr;
  LeegalityState state_;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_LEEGALITY_API_H_

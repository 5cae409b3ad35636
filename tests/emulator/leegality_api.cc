#include "tests/emulator/leegality_api.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>
#include <variant>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/emulator/multipart_parser.h"

namespace certbridge::emulator {
namespace {

// ordered_json keeps the field order of the vendor pages.
using json = nlohmann::ordered_json;  // NOLINT(readability-identifier-naming):
                                      // nlohmann spelling

constexpr absl::string_view kCollection = "/api/v1/certificates";

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, const std::string& code,
                   const std::string& inner, const std::string& message,
                   const std::string& path) {
  return JsonResponse(status,
                      LeegalityErrorBody(status, code, inner, message, path));
}

// Seed 003 prints the create page's 400 with the not-found example: top code
// LE_ERR_SS_404, inner LE_ERR_SS_001. Reproduced as documented.
HttpResponse CreateBadRequest(const std::string& message) {
  return Error(400, "LE_ERR_SS_404", "LE_ERR_SS_001", message,
               std::string(kCollection));
}

// Seed 002: 400 LE_ERR_SS_400 "Invalid request parameter: ..." (the page
// shows no inner code; null).
HttpResponse UpdateBadRequest(const std::string& detail,
                              const std::string& path) {
  return Error(400, "LE_ERR_SS_400", "",
               absl::StrCat("Invalid request parameter: ", detail), path);
}

HttpResponse InvalidUuid(const std::string& path) {
  // Seed 001: 400, LE_ERR_SS_400, "Invalid UUID provided.", inner code null.
  return Error(400, "LE_ERR_SS_400", "", "Invalid UUID provided.", path);
}

HttpResponse NotFound(const std::string& id, const std::string& path) {
  return Error(404, "LE_ERR_SS_404", "LE_ERR_SS_001",
               absl::StrCat("Certificate with id ", id, " does not exist"),
               path);
}

// The raw value of `key` in a query string; nullopt when absent.
std::optional<std::string> QueryValue(absl::string_view query,
                                      absl::string_view key) {
  for (absl::string_view kv : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == key) return std::string(p.second);
  }
  return std::nullopt;
}

// The reports' common parameters: `days` (a Java int, default 30) and an
// optional `departmentId`.
struct ReportQuery {
  int days = 30;
  std::string department_id;
};

std::variant<ReportQuery, HttpResponse> ParseReportQuery(
    const HttpRequest& request, const std::string& path) {
  ReportQuery q;
  if (auto days = QueryValue(request.query, "days"); days && !days->empty()) {
    if (!absl::SimpleAtoi(*days, &q.days) || q.days < 0) {
      return UpdateBadRequest("days", path);
    }
  }
  if (auto dept = QueryValue(request.query, "departmentId");
      dept && !dept->empty()) {
    if (!IsUuid(*dept)) return InvalidUuid(path);
    q.department_id = absl::AsciiStrToLower(*dept);
  }
  return q;
}

bool InDepartment(const LeegalityCertificate& cert, const ReportQuery& q) {
  return q.department_id.empty() ||
         absl::AsciiStrToLower(cert.department_id) == q.department_id;
}

// What expiring-soon lists (C6): enabled, with an expiry, expiring within
// `days` of `now` (expired ones included).
bool ExpiringSoonMatch(const LeegalityCertificate& cert, const ReportQuery& q,
                       absl::Time now) {
  return InDepartment(cert, q) && cert.enabled && cert.has_expiry &&
         cert.expiry <= now + absl::Hours(24) * q.days;
}

std::optional<bool> ParseBool(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (absl::EqualsIgnoreCase(text, "true")) return true;
  if (absl::EqualsIgnoreCase(text, "false")) return false;
  return std::nullopt;
}

std::string PartText(const MultipartPart* part) {
  return part == nullptr ? std::string() : part->data;
}

// A file part counts as present unless it is the empty part browsers send
// when no file was chosen.
bool HasFile(const MultipartPart* part) {
  return part != nullptr &&
         !(part->data.empty() && part->filename.value_or("").empty());
}

void LoadProvidersOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Old .pfx files use RC2/3DES, which OpenSSL 3 keeps in "legacy".
    // Loading a provider explicitly disables the implicit default one, so
    // load both. Either may be missing; the fixtures need neither legacy.
    static OSSL_PROVIDER* legacy = nullptr;
    static OSSL_PROVIDER* fallback = nullptr;
    legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    fallback = OSSL_PROVIDER_load(nullptr, "default");
    // Unload before OpenSSL's own atexit cleanup (registered earlier, so it
    // runs later); otherwise the legacy module's state is leaked.
    std::atexit([] {
      if (legacy != nullptr) OSSL_PROVIDER_unload(legacy);
      if (fallback != nullptr) OSSL_PROVIDER_unload(fallback);
    });
  });
}

}  // namespace

// --- LeegalityState --------------------------------------------------------

LeegalityState::LeegalityState() { Reset(); }

void LeegalityState::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  certificates_.clear();
  departments_ = {{kLeegalityHrDepartmentId, "HR"},
                  {kLeegalityLegalDepartmentId, "Legal"}};
}

void LeegalityState::AddDepartment(const std::string& id,
                                   const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  departments_[id] = name;
}

std::optional<std::string> LeegalityState::DepartmentName(
    const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = departments_.find(id);
  if (it == departments_.end()) return std::nullopt;
  return it->second;
}

std::optional<LeegalityCertificate> LeegalityState::Get(
    const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = certificates_.find(absl::AsciiStrToLower(id));
  if (it == certificates_.end()) return std::nullopt;
  return it->second;
}

std::vector<LeegalityCertificate> LeegalityState::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LeegalityCertificate> out;
  out.reserve(certificates_.size());
  for (const auto& [id, cert] : certificates_) out.push_back(cert);
  return out;
}

std::size_t LeegalityState::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return certificates_.size();
}

absl::StatusOr<LeegalityCertificate> LeegalityState::Insert(
    LeegalityCertificate cert) {
  if (cert.id.empty()) cert.id = NewUuidV4();
  cert.id = absl::AsciiStrToLower(cert.id);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, existing] : certificates_) {
    if (existing.name == cert.name) {
      return absl::AlreadyExistsError(cert.name);
    }
  }
  if (certificates_.count(cert.id) != 0) {
    return absl::AlreadyExistsError(cert.id);
  }
  certificates_[cert.id] = cert;
  return cert;
}

absl::StatusOr<LeegalityCertificate> LeegalityState::Update(
    const std::string& id,
    const std::function<void(LeegalityCertificate&)>& edit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = certificates_.find(absl::AsciiStrToLower(id));
  if (it == certificates_.end()) return absl::NotFoundError(id);
  edit(it->second);
  return it->second;
}

bool LeegalityState::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return certificates_.erase(absl::AsciiStrToLower(id)) != 0;
}

// --- free functions ----------------------------------------------------------

std::string LeegalityErrorBody(int status, const std::string& code,
                               const std::string& inner_code,
                               const std::string& message,
                               const std::string& path) {
  json detail = {
      {"message", message},
      {"path", path.empty() ? json(nullptr) : json(path)},
      {"code", inner_code.empty() ? json(nullptr) : json(inner_code)}};
  json body = {
      {"code", code.empty() ? absl::StrCat("LE_ERR_SS_", status) : code},
      {"errors", json::array({detail})}};
  return body.dump();
}

namespace {
json CertificateVo(const LeegalityCertificate& cert,
                   const std::string& department_name) {
  // Field set of CertificateVO on seeds 001-003 (no `enabled`: the pages do
  // not list it).
  return {
      {"id", cert.id},
      {"name", cert.name},
      {"certificateType", cert.certificate_type},
      {"expiry", cert.has_expiry ? json(FormatLeegalityTime(cert.expiry))
                                 : json(nullptr)},
      {"createdAt", FormatLeegalityTime(cert.created_at)},
      {"departmentId",
       cert.department_id.empty() ? json(nullptr) : json(cert.department_id)},
      {"departmentName",
       department_name.empty() ? json(nullptr) : json(department_name)}};
}
}  // namespace

std::string LeegalityCertificateJson(const LeegalityCertificate& cert,
                                     const std::string& department_name) {
  return CertificateVo(cert, department_name).dump();
}

std::string FormatLeegalityTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

std::string NewUuidV4() {
  thread_local absl::BitGen gen;
  unsigned char b[16];
  for (unsigned char& c : b) c = absl::Uniform<unsigned char>(gen);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

std::string LeegalityNameFromFileName(absl::string_view file_name) {
  // Browsers may send a full path; keep the last component.
  const std::size_t slash = file_name.find_last_of("/\\");
  if (slash != absl::string_view::npos) file_name.remove_prefix(slash + 1);
  for (absl::string_view ext : {".p12", ".pfx"}) {
    if (file_name.size() > ext.size() &&
        absl::EndsWithIgnoreCase(file_name, ext)) {
      file_name.remove_suffix(ext.size());
      break;
    }
  }
  return std::string(file_name);
}

absl::StatusOr<absl::Time> OpenPkcs12(absl::string_view der,
                                      absl::string_view passkey) {
  LoadProvidersOnce();
  struct Cleanup {
    PKCS12* p12 = nullptr;
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509) * ca = nullptr;
    ~Cleanup() {
      PKCS12_free(p12);
      EVP_PKEY_free(key);
      X509_free(cert);
      sk_X509_pop_free(ca, X509_free);
      ERR_clear_error();
    }
  } c;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  c.p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (c.p12 == nullptr) {
    return absl::InvalidArgumentError("the file is not a PKCS#12 (.p12/.pfx)");
  }
  const std::string pass(passkey);
  // An empty passkey may have been encoded as "no password" (NULL).
  const char* pass_arg = pass.c_str();
  if (PKCS12_mac_present(c.p12) == 1) {
    if (PKCS12_verify_mac(c.p12, pass.c_str(), static_cast<int>(pass.size())) !=
        1) {
      if (!pass.empty() || PKCS12_verify_mac(c.p12, nullptr, 0) != 1) {
        return absl::InvalidArgumentError(
            "the passkey does not open the PKCS#12 file");
      }
      pass_arg = nullptr;
    }
  }
  if (PKCS12_parse(c.p12, pass_arg, &c.key, &c.cert, &c.ca) != 1) {
    return absl::InvalidArgumentError(
        "the PKCS#12 file cannot be decrypted with the passkey");
  }
  if (c.cert == nullptr) {
    return absl::InvalidArgumentError("the PKCS#12 file holds no certificate");
  }
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(c.cert), &tm) != 1) {
    return absl::InvalidArgumentError("the certificate has no valid notAfter");
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

// --- LeegalityApi ------------------------------------------------------------

LeegalityApi::LeegalityApi(std::string token) : token_(std::move(token)) {}

bool LeegalityApi::Serves(absl::string_view path) const {
  return absl::StartsWith(path, "/api/v1/") || path == "/api/v1" ||
         absl::StartsWith(path, "/api/api/v1/") || path == "/api/api/v1";
}

std::string LeegalityApi::Vo(const LeegalityCertificate& cert) const {
  return LeegalityCertificateJson(
      cert, state_.DepartmentName(cert.department_id).value_or(""));
}

HttpResponse LeegalityApi::Handle(const HttpRequest& request) {
  // Both /api/v1/... and the real server's /api/api/v1/... (see header).
  std::string path = request.path;
  if (absl::StartsWith(path, "/api/api/")) path.erase(0, 4);

  // Auth first, as a gateway filter would: X-Auth-Token (every page) or
  // Authorization: Bearer (the login page).
  if (issuer_ != nullptr && path == "/api/v1/auth/token") {
    return issuer_->Handle(request);  // no auth header needed (§2.2)
  }
  const std::string x_token = request.Header("x-auth-token");
  const std::string authorization = request.Header("authorization");
  std::string bearer;
  if (absl::StartsWithIgnoreCase(authorization, "bearer ")) {
    bearer = std::string(
        absl::StripAsciiWhitespace(absl::string_view(authorization).substr(7)));
  }
  const bool bearer_ok = !bearer.empty() && bearer == token_;
  const bool issued_ok =
      issuer_ != nullptr &&
      ((!x_token.empty() &&
        issuer_->Check(x_token) == TokenIssuer::Validity::kValid) ||
       (!bearer.empty() &&
        issuer_->Check(bearer) == TokenIssuer::Validity::kValid));
  if (!((x_token == token_ || bearer_ok) && !token_.empty()) && !issued_ok) {
    return Error(401, "LE_ERR_SS_401", "LE_ERR_SS_303",
                 "Invalid or expired token", path);
  }

  if (path == kCollection || path == absl::StrCat(kCollection, "/")) {
    if (request.method == "POST") return Create(request, path);
    return Error(
        405, "", "",
        absl::StrCat("Request method '", request.method, "' is not supported"),
        path);
  }
  // The two reports sit beside /{id}: routed first, as Spring would.
  if (path == absl::StrCat(kCollection, "/expiring-soon") ||
      path == absl::StrCat(kCollection, "/summary")) {
    if (request.method != "GET") {
      return Error(405, "", "",
                   absl::StrCat("Request method '", request.method,
                                "' is not supported"),
                   path);
    }
    return absl::EndsWith(path, "/summary") ? Summary(request, path)
                                            : ExpiringSoon(request, path);
  }
  const std::string prefix = absl::StrCat(kCollection, "/");
  if (!absl::StartsWith(path, prefix)) {
    return Error(404, "LE_ERR_SS_404", "", "No endpoint found for the path",
                 path);
  }
  std::string id = path.substr(prefix.size());
  if (!id.empty() && id.back() == '/') id.pop_back();
  if (request.method == "GET") return Read(id, path);
  if (request.method == "PUT") return Update(request, id, path);
  if (request.method == "DELETE") return Delete(id, path);
  return Error(
      405, "", "",
      absl::StrCat("Request method '", request.method, "' is not supported"),
      path);
}

HttpResponse LeegalityApi::Create(const HttpRequest& request,
                                  const std::string& path) {
  const std::string content_type = request.Header("content-type");
  absl::StatusOr<std::string> boundary = MultipartBoundary(content_type);
  if (!boundary.ok()) {
    // Seed 003: "Certificate file should be uploaded as multipart/form-data".
    return Error(415, "", "", "Content-Type must be multipart/form-data", path);
  }
  absl::StatusOr<std::vector<MultipartPart>> parts =
      ParseMultipart(request.body, *boundary);
  if (!parts.ok()) {
    return CreateBadRequest("Malformed multipart/form-data body");
  }
  const MultipartPart* file = FindPart(*parts, "certificateFile");
  if (!HasFile(file) || !file->filename.has_value()) {
    return CreateBadRequest("certificateFile is required");
  }
  if (file->data.empty()) return CreateBadRequest("certificateFile is empty");
  // Seeds 002/003: ".p12/.pfx (PKCS12) only (max size: 5MB)"; the only client
  // error they document for it is 400 "Invalid request data or unsupported
  // file format" (no 413), so an oversized file is a 400.
  if (file->data.size() > kLeegalityMaxFileBytes) {
    return CreateBadRequest("Certificate file exceeds the maximum size of 5MB");
  }
  const std::string department_id = std::string(
      absl::StripAsciiWhitespace(PartText(FindPart(*parts, "departmentId"))));
  if (department_id.empty())
    return CreateBadRequest("departmentId is required");
  if (!state_.DepartmentName(department_id).has_value()) {
    return CreateBadRequest(
        absl::StrCat("Department with id ", department_id, " does not exist"));
  }
  bool enabled = true;
  if (const MultipartPart* e = FindPart(*parts, "enabled"); e != nullptr) {
    std::optional<bool> b = ParseBool(e->data);
    if (!b.has_value())
      return CreateBadRequest("enabled must be true or false");
    enabled = *b;
  }
  const std::string passkey = PartText(FindPart(*parts, "passkey"));
  absl::StatusOr<absl::Time> expiry = OpenPkcs12(file->data, passkey);
  if (!expiry.ok()) {
    return CreateBadRequest(absl::StrCat("Unsupported certificate file: ",
                                         expiry.status().message()));
  }
  LeegalityCertificate cert;
  cert.name = LeegalityNameFromFileName(*file->filename);
  if (cert.name.empty()) return CreateBadRequest("certificateFile has no name");
  cert.expiry = *expiry;
  cert.created_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  cert.department_id = department_id;
  cert.enabled = enabled;
  cert.file = file->data;
  cert.passkey = passkey;
  absl::StatusOr<LeegalityCertificate> stored = state_.Insert(std::move(cert));
  if (!stored.ok()) {
    // Seed 003's 409 (its example message is cut at "for or"; completed).
    return Error(
        409, "LE_ERR_SS_409", "LE_ERR_SS_1101",
        absl::StrCat("Certificate with alias '", stored.status().message(),
                     "' already exists for organization"),
        path);
  }
  return JsonResponse(201, absl::StrCat("{\"data\":", Vo(*stored), "}"));
}

HttpResponse LeegalityApi::Read(const std::string& id,
                                const std::string& path) {
  if (!IsUuid(id)) return InvalidUuid(path);
  std::optional<LeegalityCertificate> cert = state_.Get(id);
  if (!cert.has_value()) return NotFound(id, path);
  return JsonResponse(200, Vo(*cert));  // seed 001: bare CertificateVO
}

HttpResponse LeegalityApi::ExpiringSoon(const HttpRequest& request,
                                        const std::string& path) {
  auto parsed = ParseReportQuery(request, path);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return *error;
  const ReportQuery& q = std::get<ReportQuery>(parsed);
  const absl::Time now = absl::Now();
  std::vector<LeegalityCertificate> listed;
  for (LeegalityCertificate& cert : state_.List()) {
    if (ExpiringSoonMatch(cert, q, now)) listed.push_back(std::move(cert));
  }
  std::stable_sort(
      listed.begin(), listed.end(),
      [](const LeegalityCertificate& a, const LeegalityCertificate& b) {
        return a.expiry < b.expiry;
      });
  json data = json::array();
  for (const LeegalityCertificate& cert : listed) {
    data.push_back(json::parse(Vo(cert)));
  }
  // C6 documents only `data`: no code, no message.
  return JsonResponse(200, json{{"data", std::move(data)}}.dump());
}

HttpResponse LeegalityApi::Summary(const HttpRequest& request,
                                   const std::string& path) {
  auto parsed = ParseReportQuery(request, path);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return *error;
  const ReportQuery& q = std::get<ReportQuery>(parsed);
  const absl::Time now = absl::Now();
  int total = 0, active = 0, expiring = 0;
  for (const LeegalityCertificate& cert : state_.List()) {
    if (!InDepartment(cert, q)) continue;
    ++total;
    if (cert.enabled && (!cert.has_expiry || cert.expiry > now)) ++active;
    if (ExpiringSoonMatch(cert, q, now)) ++expiring;
  }
  return JsonResponse(
      200, json{{"code", "LE_SS_001"},
                {"message", "Certificate summary fetched successfully."},
                {"data",
                 {{"totalCertificates", total},
                  {"activeCertificates", active},
                  {"expiringSoonCertificates", expiring}}}}
               .dump());
}

HttpResponse LeegalityApi::Update(const HttpRequest& request,
                                  const std::string& id,
                                  const std::string& path) {
  if (!IsUuid(id)) return InvalidUuid(path);
  std::optional<LeegalityCertificate> current = state_.Get(id);
  if (!current.has_value()) return NotFound(id, path);

  std::vector<MultipartPart> parts;
  const std::string content_type = request.Header("content-type");
  if (!(content_type.empty() && request.body.empty())) {
    absl::StatusOr<std::string> boundary = MultipartBoundary(content_type);
    if (!boundary.ok()) {
      return Error(415, "", "", "Content-Type must be multipart/form-data",
                   path);
    }
    absl::StatusOr<std::vector<MultipartPart>> parsed =
        ParseMultipart(request.body, *boundary);
    if (!parsed.ok()) {
      return UpdateBadRequest("malformed multipart/form-data body", path);
    }
    parts = *std::move(parsed);
  }

  std::optional<std::string> department_id;
  if (const MultipartPart* d = FindPart(parts, "departmentId"); d != nullptr) {
    department_id = std::string(absl::StripAsciiWhitespace(d->data));
    if (!state_.DepartmentName(*department_id).has_value()) {
      return UpdateBadRequest(
          absl::StrCat("departmentId ", *department_id, " does not exist"),
          path);
    }
  }
  std::optional<bool> enabled;
  if (const MultipartPart* e = FindPart(parts, "enabled"); e != nullptr) {
    enabled = ParseBool(e->data);
    if (!enabled.has_value()) {
      return UpdateBadRequest("enabled must be true or false", path);
    }
  }
  const MultipartPart* file = FindPart(parts, "certificateFile");
  const MultipartPart* passkey = FindPart(parts, "passkey");
  std::optional<absl::Time> expiry;
  if (HasFile(file)) {
    if (file->data.size() > kLeegalityMaxFileBytes) {
      return UpdateBadRequest("certificateFile exceeds the maximum size of 5MB",
                              path);
    }
    if (passkey == nullptr) {
      return UpdateBadRequest("passkey is required with certificateFile", path);
    }
    absl::StatusOr<absl::Time> opened = OpenPkcs12(file->data, passkey->data);
    if (!opened.ok()) {
      return UpdateBadRequest(
          absl::StrCat("certificateFile: ", opened.status().message()), path);
    }
    expiry = *opened;
  } else if (passkey != nullptr) {
    // A new passkey alone must still open the stored file.
    if (!OpenPkcs12(current->file, passkey->data).ok()) {
      return UpdateBadRequest("passkey does not open the stored certificate",
                              path);
    }
  }

  absl::StatusOr<LeegalityCertificate> updated =
      state_.Update(id, [&](LeegalityCertificate& c) {
        if (department_id.has_value()) c.department_id = *department_id;
        if (enabled.has_value()) c.enabled = *enabled;
        if (expiry.has_value()) {
          // The name stays: it identifies the certificate in the
          // organization, and the update page documents no 409.
          c.file = file->data;
          c.expiry = *expiry;
        }
        if (passkey != nullptr) c.passkey = passkey->data;
      });
  if (!updated.ok()) return NotFound(id, path);
  // Seed 002: 200 {"code": null, "message": null, "data": CertificateVO}.
  return JsonResponse(
      200, absl::StrCat(
               "{\"code\":null,\"message\":null,\"data\":", Vo(*updated), "}"));
}

HttpResponse LeegalityApi::Delete(const std::string& id,
                                  const std::string& path) {
  if (!IsUuid(id)) return InvalidUuid(path);
  if (!state_.Remove(id)) return NotFound(id, path);
  // Seed 000's sample response.
  return JsonResponse(200,
                      "{\"code\":\"LE_SS_002\",\"message\":\"Requested record "
                      "has been deleted.\",\"data\":{}}");
}

}  // namespace certbridge::emulator

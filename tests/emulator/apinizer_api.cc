#include "tests/emulator/apinizer_api.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tests/emulator/multipart_parser.h"

namespace certbridge::emulator {
namespace {

using nlohmann::json;

constexpr char kAdminProject[] = "admin";

constexpr char kNoPermission[] =
    "User does not have required permission for this operation!";

std::string PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    int hi = 0, lo = 0;
    if (in[i] == '%' && i + 2 < in.size()) {
      auto hex = [](char c, int* v) {
        if (c >= '0' && c <= '9')
          *v = c - '0';
        else if (c >= 'a' && c <= 'f')
          *v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
          *v = c - 'A' + 10;
        else
          return false;
        return true;
      };
      if (hex(in[i + 1], &hi) && hex(in[i + 2], &lo)) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string QueryParam(absl::string_view query, absl::string_view key) {
  for (absl::string_view kv : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first == key) return PercentDecode(p.second);
  }
  return "";
}

std::string FormatAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

// What the Manager derives from an uploaded PEM; nullopt if it is not one.
std::optional<ApinizerEnvironmentEntry> Inspect(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return std::nullopt;
  ApinizerEnvironmentEntry e;
  e.start_date = FormatAsn1Time(X509_get0_notBefore(cert));
  e.end_date = FormatAsn1Time(X509_get0_notAfter(cert));
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(cert, &der);
  e.base64_content = absl::Base64Escape(absl::string_view(
      reinterpret_cast<const char*>(der), static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert, EVP_sha1(), md, &md_len);
  e.sha1_thumbprint = absl::AsciiStrToUpper(absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), md_len)));
  BIO* out = BIO_new(BIO_s_mem());
  // Java's X500Principal style: "CN=..., O=..., C=..".
  X509_NAME_print_ex(
      out, X509_get_subject_name(cert), 0,
      (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out, &data);
  e.subject_dn.assign(data, static_cast<size_t>(len));
  BIO_free(out);
  X509_free(cert);
  return e;
}

json EntryJson(const ApinizerEnvironmentEntry& e) {
  return {{"environmentName", e.environment},
          {"startDate", e.start_date},
          {"endDate", e.end_date},
          {"base64EncodedContent", e.base64_content},
          {"sha1Thumbprint", e.sha1_thumbprint},
          {"subjectDn", e.subject_dn},
          {"alias", e.alias}};
}

json CertificateJson(const ApinizerStoredCertificate& c) {
  json entries = json::array();
  for (const auto& e : c.entries) entries.push_back(EntryJson(e));
  return {{"name", c.name},
          {"description", c.description},
          {"certificateEnvironmentList", entries}};
}

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

}  // namespace

ApinizerApi::ApinizerApi(std::string token) : token_(std::move(token)) {
  std::lock_guard<std::mutex> lock(mu_);
  SeedLocked();
}

void ApinizerApi::SeedLocked() {
  environments_ = {"prod", "uat", "staging", "API Manager"};
  failing_.clear();
  read_only_ = false;
  generation_ = ApinizerErrorGeneration::kCurrent;
  projects_.clear();
  for (const char* p :
       {"admin", "Payments", "My Project", "Ödeme Sistemleri"}) {
    projects_[p];
  }
}

bool ApinizerApi::Serves(absl::string_view path) const {
  return absl::StartsWith(path, kPrefix);
}

void ApinizerApi::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  SeedLocked();
}

void ApinizerApi::SetErrorGeneration(ApinizerErrorGeneration generation) {
  std::lock_guard<std::mutex> lock(mu_);
  generation_ = generation;
}

void ApinizerApi::SetEnvironmentFailing(const std::string& environment,
                                        bool failing) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failing) {
    failing_.insert(environment);
  } else {
    failing_.erase(environment);
  }
}

void ApinizerApi::SetReadOnly(bool read_only) {
  std::lock_guard<std::mutex> lock(mu_);
  read_only_ = read_only;
}

void ApinizerApi::AddProject(const std::string& project) {
  std::lock_guard<std::mutex> lock(mu_);
  projects_[project];
}

std::optional<ApinizerStoredCertificate> ApinizerApi::Find(
    const std::string& project, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto p = projects_.find(project);
  if (p == projects_.end()) return std::nullopt;
  auto c = p->second.certificates.find(name);
  if (c == p->second.certificates.end()) return std::nullopt;
  return c->second;
}

std::size_t ApinizerApi::CertificateCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& [name, p] : projects_) n += p.certificates.size();
  return n;
}

std::string ApinizerApi::ErrorBody(const std::string& message) const {
  if (generation_ == ApinizerErrorGeneration::kLegacy) {
    return json{{"error", "bad_request"}, {"error_description", message}}
        .dump();
  }
  return json{{"status", "FAILURE"}, {"resultMessage", message}}.dump();
}

HttpResponse ApinizerApi::Error(int status, const std::string& message) const {
  HttpResponse r;
  r.status = status;
  r.body = ErrorBody(message);
  return r;
}

HttpResponse ApinizerApi::Handle(const HttpRequest& request) {
  if (issuer_ != nullptr && request.path == "/apiops/auth/token") {
    return issuer_->Handle(request);  // no auth header needed (§2.1)
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Bearer token on every management call (§2).
  const std::string auth = request.Header("authorization");
  if (auth.empty()) {
    if (generation_ == ApinizerErrorGeneration::kLegacy) {
      return Json(401, {{"error", "unauthorized_client"},
                        {"error_description", "Invalid token"}});
    }
    return Error(401,
                 "Empty Key! Client must be authenticated to access this "
                 "resource.");
  }
  const std::string bearer =
      absl::StartsWith(auth, "Bearer ") ? auth.substr(7) : std::string();
  const TokenIssuer::Validity issued = issuer_ != nullptr
                                           ? issuer_->Check(bearer)
                                           : TokenIssuer::Validity::kUnknown;
  if (issued == TokenIssuer::Validity::kExpired &&
      generation_ == ApinizerErrorGeneration::kCurrent) {
    return Error(401, "Token was expired!");
  }
  if (auth != "Bearer " + token_ && issued != TokenIssuer::Validity::kValid) {
    if (generation_ == ApinizerErrorGeneration::kLegacy) {
      return Json(401, {{"error", "invalid_token"},
                        {"error_description", "Invalid token"}});
    }
    return Error(401, "Token is not valid!");
  }
  absl::string_view rest = request.path;
  if (!absl::ConsumePrefix(&rest, kPrefix)) return Error(404, "Not found");
  // Trailing slash is mandatory on certificate paths (§1); without it the
  // Manager's router finds nothing: 404 with an empty body (§4).
  if (!absl::EndsWith(rest, "/")) {
    HttpResponse r;
    r.status = 404;
    return r;
  }
  std::vector<std::string> seg;
  for (absl::string_view s :
       absl::StrSplit(absl::StripSuffix(rest, "/"), '/')) {
    seg.push_back(PercentDecode(s));
  }
  if (seg.size() < 3 || seg[0] != "projects" || seg[2] != "certificates" ||
      seg.size() > 4) {
    HttpResponse r;
    r.status = 404;
    return r;
  }
  const std::string& project = seg[1];
  if (projects_.count(project) == 0) {
    return Error(400, absl::StrCat("Project(", project,
                                   ") was not found or user does not have "
                                   "privilege to access it!"));
  }
  const bool write = request.method != "GET";
  if (write && read_only_) return Error(400, kNoPermission);
  if (seg.size() == 3) {
    if (request.method == "GET") return List(project);
    if (request.method == "POST") return Write(request, project, nullptr);
    return Error(405, "Method not allowed");
  }
  const std::string& name = seg[3];
  if (request.method == "GET") return Get(project, name);
  if (request.method == "PUT") return Write(request, project, &name);
  if (request.method == "DELETE") return Delete(request, project, name);
  return Error(405, "Method not allowed");
}

HttpResponse ApinizerApi::List(const std::string& project) {
  json list = json::array();
  // §1: listing the `admin` project lists every project's certificates,
  // each without its project (admin's own first, then the others in
  // project order).
  std::vector<const Project*> listed = {&projects_[project]};
  if (project == kAdminProject) {
    for (const auto& [other_name, other] : projects_) {
      if (other_name != kAdminProject) listed.push_back(&other);
    }
  }
  for (const Project* p : listed) {
    for (const auto& [name, c] : p->certificates) {
      list.push_back(CertificateJson(c));
    }
  }
  // The list page shows the current {status, resultList, resultCount}.
  if (generation_ == ApinizerErrorGeneration::kLegacy) {
    return Json(200, {{"success", true}, {"resultList", list}});
  }
  const size_t count = list.size();
  return Json(200, {{"status", "SUCCESS"},
                    {"resultList", std::move(list)},
                    {"resultCount", count}});
}

HttpResponse ApinizerApi::Get(const std::string& project,
                              const std::string& name) {
  auto& certs = projects_[project].certificates;
  auto it = certs.find(name);
  if (it == certs.end()) {
    return Error(400,
                 absl::StrCat("Certificate (name: ", name, ") is not found!"));
  }
  // The get page still shows the older {success, resultList} (§4).
  return Json(200,
              {{"success", true},
               {"resultList", json::array({CertificateJson(it->second)})}});
}

std::string ApinizerApi::DeploymentEnvelope(
    const std::vector<std::string>& environments, bool undeploy) const {
  json results = json::array();
  bool all_ok = true;
  for (const auto& env : environments) {
    const bool ok = failing_.count(env) == 0;
    all_ok = all_ok && ok;
    results.push_back(
        {{"environmentName", env},
         {"success", ok},
         {"message",
          ok ? (undeploy ? "Undeployed successfully" : "Deployed successfully")
             : "Connection to the environment's workers failed"}});
  }
  std::string message;
  if (undeploy) {
    message = all_ok ? "Undeployment completed successfully"
                     : "Undeployment failed for some environments";
  } else {
    message = all_ok ? "Deployment completed successfully"
                     : "Deployment failed for some environments";
  }
  return json{{"success", true},
              {"deploymentResult",
               {{"success", all_ok},
                {"message", message},
                {"environmentResults", results}}}}
      .dump();
}

HttpResponse ApinizerApi::Write(const HttpRequest& request,
                                const std::string& project,
                                const std::string* existing_name) {
  auto boundary = MultipartBoundary(request.Header("content-type"));
  if (!boundary.ok()) {
    return Error(415, "Content type must be multipart/form-data");
  }
  auto parts = ParseMultipart(request.body, *boundary);
  if (!parts.ok()) return Error(400, "Malformed multipart body");
  auto field = [&](const char* name) -> std::string {
    const MultipartPart* p = FindPart(*parts, name);
    return p == nullptr ? "" : p->data;
  };
  std::string name = field("certificateName");
  const std::string alias = field("alias");
  const std::string description = field("certificateDescription");
  const std::string env_list = field("environmentList");
  const std::string pem = field("pemEncodedFile");
  if (existing_name != nullptr) {
    // Update examples omit certificateName (§7.6); the path decides.
    if (name.empty()) name = *existing_name;
    if (name != *existing_name) {
      return Error(400, "certificateName can not be changed!");
    }
    const std::string action = QueryParam(request.query, "jwkUpdateAction");
    if (!action.empty() && action != "NULLIFY" && action != "UPDATE") {
      return Error(400,
                   absl::StrCat("Invalid jwkUpdateAction value: ", action));
    }
    const std::string scope = QueryParam(request.query, "updateScope");
    if (!scope.empty() && scope != "SAME_PROJECT" && scope != "ALL_PROJECTS") {
      return Error(400, absl::StrCat("Invalid updateScope value: ", scope));
    }
  }
  if (name.empty())
    return Error(400, "certificateName value can not be empty!");
  if (alias.empty()) return Error(400, "alias value can not be empty!");
  if (pem.empty()) return Error(400, "pemEncodedFile value can not be empty!");
  if (env_list.empty()) {
    return Error(400, "environmentList value can not be empty!");
  }
  auto& certs = projects_[project].certificates;
  if (existing_name != nullptr && certs.count(name) == 0) {
    return Error(400,
                 absl::StrCat("Certificate (name: ", name, ") is not found!"));
  }
  if (existing_name == nullptr && certs.count(name) != 0) {
    return Error(
        400, absl::StrCat("Certificate (name: ", name, ") is already exist!"));
  }
  for (const auto& [other_name, other] : certs) {
    if (other_name != name && other.alias == alias) {
      return Error(400, absl::StrCat("Alias (", alias,
                                     ") is already used for another "
                                     "certificate, try changing this value!"));
    }
  }
  std::vector<std::string> environments;
  for (absl::string_view e : absl::StrSplit(env_list, ',')) {
    std::string env(absl::StripAsciiWhitespace(e));
    if (environments_.count(env) == 0) {
      return Error(400, absl::StrCat("Environment (", env,
                                     ") is not found or user does not have "
                                     "privilege to access it!"));
    }
    environments.push_back(env);
  }
  auto facts = Inspect(pem);
  if (!facts) return Error(400, "pemEncodedFile is not a valid certificate!");
  // Update replaces the certificate (delete + create, §7.6).
  ApinizerStoredCertificate cert;
  cert.name = name;
  cert.alias = alias;
  cert.description = description;
  cert.pem = pem;
  for (const auto& env : environments) {
    ApinizerEnvironmentEntry e = *facts;
    e.environment = env;
    e.alias = alias;
    cert.entries.push_back(e);
  }
  certs[name] = std::move(cert);
  HttpResponse r;
  r.status = 200;
  r.body = DeploymentEnvelope(environments, /*undeploy=*/false);
  return r;
}

HttpResponse ApinizerApi::Delete(const HttpRequest& request,
                                 const std::string& project,
                                 const std::string& name) {
  const std::string action = QueryParam(request.query, "jwkDeleteAction");
  if (!action.empty() && action != "NULLIFY" && action != "DELETE") {
    return Error(400, absl::StrCat("Invalid jwkDeleteAction value: ", action));
  }
  auto& certs = projects_[project].certificates;
  auto it = certs.find(name);
  if (it == certs.end()) {
    return Error(400,
                 absl::StrCat("Certificate (name: ", name, ") is not found!"));
  }
  std::vector<std::string> environments;
  for (const auto& e : it->second.entries)
    environments.push_back(e.environment);
  certs.erase(it);
  HttpResponse r;
  r.status = 200;
  r.body = DeploymentEnvelope(environments, /*undeploy=*/true);
  return r;
}

}  // namespace certbridge::emulator

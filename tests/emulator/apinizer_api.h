// In-memory Apinizer API Ops certificate endpoints (apinizer.md §5 A1-A5),
// quirks included: 400 for not-found / duplicate / alias-in-use / missing
// permission, both error-body generations (selectable), the deployment
// envelope with per-environment results, environments that can be made to
// fail deployment, mandatory trailing slashes and Bearer tokens. The list
// (A1, GET /apiops/projects/{p}/certificates/) returns the whole project,
// unpaged, as {status:"SUCCESS", resultList, resultCount} (legacy
// generation: {success:true, resultList}); for the `admin` project it
// returns the certificates of every project (§1), without their project.
#ifndef CERTBRIDGE_TESTS_EMULATOR_APINIZER_API_H_
#define CERTBRIDGE_TESTS_EMULATOR_APINIZER_API_H_

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/emulator/backend_api.h"
#include "tests/emulator/http_server.h"
#include "tests/emulator/token_issuer.h"

namespace certbridge::emulator {

/// Which error envelope the emulated Manager speaks (apinizer.md §7.1).
enum class ApinizerErrorGeneration {
  kCurrent,  // {"status":"FAILURE","resultMessage":...}
  kLegacy,   // {"error":"bad_request","error_description":...}
};

struct ApinizerEnvironmentEntry {
  std::string environment;
  std::string start_date;
  std::string end_date;
  std::string base64_content;  // base64 of the DER certificate
  std::string sha1_thumbprint;
  std::string subject_dn;
  std::string alias;
};

struct ApinizerStoredCertificate {
  std::string name;
  std::string description;
  std::string alias;
  std::string pem;
  std::vector<ApinizerEnvironmentEntry> entries;
};

class ApinizerApi final : public BackendApi {
 public:
  /// Path prefix this API serves (the Manager's base URL ends in /apiops).
  static constexpr absl::string_view kPrefix = "/apiops/";

  explicit ApinizerApi(std::string token);

  absl::string_view name() const override { return "apinizer"; }
  bool Serves(absl::string_view path) const override;
  HttpResponse Handle(const HttpRequest& request) override;
  void Reset() override;

  /// Serve POST /apiops/auth/token from `issuer` and accept its tokens.
  void set_token_issuer(TokenIssuer* issuer) { issuer_ = issuer; }

  // Test controls; thread-safe.
  void SetErrorGeneration(ApinizerErrorGeneration generation);
  /// Deployments (and undeployments) to `environment` fail while set.
  void SetEnvironmentFailing(const std::string& environment, bool failing);
  /// Writes are refused with the "does not have required permission" 400.
  void SetReadOnly(bool read_only);
  void AddProject(const std::string& project);
  std::optional<ApinizerStoredCertificate> Find(const std::string& project,
                                                const std::string& name) const;
  std::size_t CertificateCount() const;

  /// The error body of the current generation (also used by fault tests).
  std::string ErrorBody(const std::string& message) const;

 private:
  struct Project {
    std::map<std::string, ApinizerStoredCertificate> certificates;
  };

  HttpResponse Error(int status, const std::string& message) const;
  HttpResponse Get(const std::string& project, const std::string& name);
  HttpResponse List(const std::string& project);
  HttpResponse Write(const HttpRequest& request, const std::string& project,
                     const std::string* existing_name);
  HttpResponse Delete(const HttpRequest& request, const std::string& project,
                      const std::string& name);
  std::string DeploymentEnvelope(const std::vector<std::string>& environments,
                                 bool undeploy) const;
  void SeedLocked();

  const std::string token_;
  TokenIssuer* issuer_ = nullptr;
  mutable std::mutex mu_;
  ApinizerErrorGeneration generation_ = ApinizerErrorGeneration::kCurrent;
  std::set<std::string> environments_;
  std::set<std::string> failing_;
  bool read_only_ = false;
  std::map<std::string, Project> projects_;
};

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_APINIZER_API_H_

// Apinizer response bodies (apinizer_json.h): the one-certificate Get body,
// the deployment envelope, error bodies and failure-in-200, all from the
// same untrusted bytes. Properties: no exception escapes; errors are
// INVALID_ARGUMENT; a parsed certificate's name parses back to (backend,
// project, name), its environments are unique, its timestamps valid, and
// asking for base64EncodedContent does not change the result; a body that
// parses as a certificate never reports failure; the deployment state agrees
// with the per-environment results.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "server/backends/apinizer/apinizer_json.h"
#include "server/common/resource_name.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/proto_checks.h"

namespace {

using certbridge::v1::DeploymentResult;

constexpr char kBackend[] = "apinizer";
constexpr char kProject[] = "My Project";

bool CheckCertificate(absl::string_view body) {
  std::string content;
  auto cert =
      certbridge::ParseApinizerCertificate(body, kBackend, kProject, &content);
  auto plain = certbridge::ParseApinizerCertificate(body, kBackend, kProject);
  FUZZ_CHECK(cert.ok() == plain.ok());
  if (!cert.ok()) {
    FUZZ_CHECK(cert.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(plain.status() == cert.status());
    return false;
  }
  FUZZ_CHECK(cert->SerializeAsString() == plain->SerializeAsString());
  FUZZ_CHECK(content.size() <= body.size());
  FUZZ_CHECK(cert->has_apinizer());
  FUZZ_CHECK(!cert->display_name().empty());
  auto name = certbridge::ParseCertificateName(cert->name(), "name");
  if (name.ok()) {  // see fuzz_leegality_json.cc: backend data may not be
    FUZZ_CHECK(name->backend == kBackend);  // a valid segment
    FUZZ_CHECK(name->has_project);
    FUZZ_CHECK(name->project == kProject);
    FUZZ_CHECK(name->certificate == cert->display_name());
  }
  const auto& a = cert->apinizer();
  const std::set<std::string> unique(a.environments().begin(),
                                     a.environments().end());
  FUZZ_CHECK(unique.size() == static_cast<std::size_t>(a.environments_size()));
  FUZZ_CHECK(a.environments_size() <= a.deployments_size());
  for (const auto& d : a.deployments()) {
    FUZZ_CHECK(unique.count(d.environment()) == 1);
    FUZZ_CHECK(d.sha1_thumbprint() ==
               absl::AsciiStrToUpper(d.sha1_thumbprint()));
    if (certbridge::fuzz::Strict()) {
      if (d.has_start_time()) {
        FUZZ_CHECK(certbridge::fuzz::ValidTimestamp(d.start_time()));
      }
      if (d.has_end_time()) {
        FUZZ_CHECK(certbridge::fuzz::ValidTimestamp(d.end_time()));
      }
    }
  }
  certbridge::fuzz::CheckWireRoundTrip(*cert);
  return true;
}

void CheckDeployment(absl::string_view body) {
  auto result = certbridge::ParseApinizerDeployment(body);
  if (!result.ok()) {
    FUZZ_CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  int ok = 0;
  int failed = 0;
  for (const auto& r : result->environment_results())
    (r.success() ? ok : failed)++;
  switch (result->state()) {
    case DeploymentResult::SUCCEEDED:
      FUZZ_CHECK(ok > 0 && failed == 0);
      break;
    case DeploymentResult::PARTIALLY_FAILED:
      FUZZ_CHECK(ok > 0 && failed > 0);
      break;
    case DeploymentResult::FAILED:  // every environment, or overall, failed
      FUZZ_CHECK(ok == 0 || failed == 0);
      break;
    case DeploymentResult::NOT_APPLICABLE:
      FUZZ_CHECK(ok == 0 && failed == 0);
      break;
    default:
      FUZZ_CHECK(false && "state left unspecified");
  }
  certbridge::fuzz::CheckWireRoundTrip(*result);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body = certbridge::fuzz::AsText(data, size);
  const bool is_certificate = CheckCertificate(body);
  CheckDeployment(body);

  const certbridge::BackendErrorBody error =
      certbridge::ParseApinizerError(body);
  FUZZ_CHECK(error.code.size() <= body.size());
  FUZZ_CHECK(error.message.size() <= body.size());

  const auto failure = certbridge::ApinizerFailureIn200(body);
  if (failure.has_value()) {
    FUZZ_CHECK(!failure->code.empty());
    FUZZ_CHECK(!is_certificate);  // a failure report is never a certificate
  }
  return 0;
}

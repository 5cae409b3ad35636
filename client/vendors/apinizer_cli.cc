#include "client/vendors/apinizer_cli.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/exit_codes.h"
#include "client/output.h"

namespace certbridge::cli {
namespace {

// OK, but a failed (un)deployment is still a failure to a script.
std::optional<CallWarning> DeploymentFailure(const v1::DeploymentResult& r) {
  auto text = DeploymentWarning(r);
  if (!text) return std::nullopt;
  return CallWarning{*std::move(text), kExitDeploymentFailed};
}

}  // namespace

std::set<std::string> ApinizerCli::FlagsFor(Verb verb) const {
  switch (verb) {
    case Verb::kCreate:
      return {"file",        "certificate_id", "alias",
              "description", "environments",   "request_id"};
    case Verb::kUpdate:
      return {"file",
              "alias",
              "description",
              "environments",
              "update_mask",
              "jwk_update_action",
              "jwk_update_scope"};
    case Verb::kDelete:
      return {"jwk_delete_action"};
    default:
      return {};
  }
}

absl::Status ApinizerCli::CheckCommand(const Command& command) const {
  if (command.verb != Verb::kCreate) return absl::OkStatus();
  // What Apinizer requires on every create (the server checks too; here
  // the message lists every missing flag at once).
  std::vector<std::string> missing;
  if (command.certificate_id.empty()) {
    missing.push_back("--certificate_id=NAME");
  }
  if (!command.alias || command.alias->empty()) {
    missing.push_back("--alias=ALIAS");
  }
  if (!command.environments || command.environments->empty()) {
    missing.push_back("--environments=E1,E2");
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("`certctl create` on an Apinizer project needs ",
                   absl::StrJoin(missing, " and ")));
}

std::vector<FieldFlag> ApinizerCli::FieldFlags(const Command& command) const {
  return {
      {"--description", "apinizer.description",
       command.description.has_value()},
      {"--alias", "apinizer.alias", command.alias.has_value()},
      {"--environments", "apinizer.environments",
       command.environments.has_value()},
      {"--file", "apinizer.pem_certificate", command.file.has_value()},
  };
}

absl::Status ApinizerCli::FillCertificate(const Command& command,
                                          const LocalInputs& inputs,
                                          v1::Certificate& cert) const {
  v1::ApinizerCertificate& a = *cert.mutable_apinizer();
  if (command.file) a.set_pem_certificate(inputs.file_bytes);
  if (command.description) a.set_description(*command.description);
  if (command.alias) a.set_alias(*command.alias);
  if (command.environments) {
    for (const auto& env : *command.environments) a.add_environments(env);
  }
  return absl::OkStatus();
}

void ApinizerCli::FillUpdateOptions(
    const Command& command, v1::UpdateCertificateRequest& request) const {
  request.set_jwk_update_action(command.jwk_update_action);
  request.set_jwk_update_scope(command.jwk_update_scope);
}

void ApinizerCli::FillDeleteOptions(
    const Command& command, v1::DeleteCertificateRequest& request) const {
  request.set_jwk_delete_action(command.jwk_delete_action);
}

void ApinizerCli::Redact(v1::Certificate& cert) const {
  if (cert.has_apinizer()) cert.mutable_apinizer()->clear_pem_certificate();
}

std::optional<CallWarning> ApinizerCli::WarningAfter(
    const v1::Certificate& cert) const {
  if (!cert.has_apinizer()) return std::nullopt;
  return DeploymentFailure(cert.apinizer().deployment_result());
}

std::optional<CallWarning> ApinizerCli::WarningAfterDelete(
    const v1::DeleteCertificateResponse& response) const {
  return DeploymentFailure(response.undeployment_result());
}

std::vector<std::string> ApinizerCli::ListColumns() const {
  return {"EXPIRES", "ALIAS", "ENVIRONMENTS"};
}

std::vector<std::string> ApinizerCli::ListRow(
    const v1::Certificate& cert) const {
  const v1::ApinizerCertificate& a = cert.apinizer();
  // The server filters and orders on the earliest end_time: show that one.
  const google::protobuf::Timestamp* earliest = nullptr;
  for (const v1::EnvironmentDeployment& d : a.deployments()) {
    if (!d.has_end_time()) continue;
    const google::protobuf::Timestamp& t = d.end_time();
    if (earliest == nullptr || t.seconds() < earliest->seconds() ||
        (t.seconds() == earliest->seconds() && t.nanos() < earliest->nanos())) {
      earliest = &t;
    }
  }
  return {earliest != nullptr ? FormatTimestamp(*earliest) : "", a.alias(),
          absl::StrJoin(a.environments(), ",")};
}

CliVendorHelp ApinizerCli::Help() const {
  CliVendorHelp help;
  help.product = "Apinizer API Ops";
  help.flags = R"(Apinizer (create / update):
  --certificate_id=NAME create only: the certificate's name
  --file=PATH           PEM X.509 certificate
  --alias=ALIAS
  --description=TEXT
  --environments=E1,E2  environments to deploy to (at least one)
  --jwk_update_action=NULLIFY|UPDATE       update only
  --jwk_update_scope=SAME_PROJECT|ALL_PROJECTS  update only
)";
  help.mask_example = "apinizer.description";
  help.file_mask = "apinizer.pem_certificate";
  help.exit_codes.push_back(
      {kExitDeploymentFailed,
       "the call succeeded but an Apinizer (un)deployment failed in some "
       "environment (see the warning on stderr)"});
  return help;
}

}  // namespace certbridge::cli

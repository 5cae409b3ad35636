#include "client/vendors/leegality_cli.h"

#include <utility>

#include "client/output.h"
#include "client/request_builder.h"

namespace certbridge::cli {

std::set<std::string> LeegalityCli::FlagsFor(Verb verb) const {
  switch (verb) {
    case Verb::kCreate:
      return {"file",          "file_name", "passkey_file", "passkey_env",
              "department_id", "enabled",   "request_id"};
    case Verb::kUpdate:
      return {"file",          "file_name", "passkey_file", "passkey_env",
              "department_id", "enabled",   "update_mask"};
    default:
      return {};
  }
}

bool LeegalityCli::NeedsPasskey(const Command& command) const {
  return (command.verb == Verb::kCreate || command.verb == Verb::kUpdate) &&
         command.file.has_value();
}

std::vector<FieldFlag> LeegalityCli::FieldFlags(const Command& command) const {
  return {
      {"--enabled", "leegality.enabled", command.enabled.has_value()},
      {"--department_id", "leegality.department_id",
       command.department_id.has_value()},
      {"--file", "leegality.pkcs12_file", command.file.has_value()},
  };
}

std::vector<std::string> LeegalityCli::DeriveUpdateMask(
    const Command& command) const {
  std::vector<std::string> mask = CliVendor::DeriveUpdateMask(command);
  if (command.file) {
    // The server wants the passkey named with the file it opens.
    mask.emplace_back("leegality.passkey");
    if (!UploadFileName(command).empty()) {
      mask.emplace_back("leegality.file_name");
    }
  }
  return mask;
}

absl::Status LeegalityCli::FillCertificate(const Command& command,
                                           const LocalInputs& inputs,
                                           v1::Certificate& cert) const {
  v1::LeegalityCertificate& l = *cert.mutable_leegality();
  if (command.file) {
    if (!inputs.passkey) {
      return absl::InvalidArgumentError(
          "a PKCS#12 upload needs a passkey (--passkey_file, --passkey_env "
          "or the prompt)");
    }
    l.set_pkcs12_file(inputs.file_bytes);
    l.set_passkey(*inputs.passkey);
    l.set_file_name(UploadFileName(command));
  }
  if (command.department_id) l.set_department_id(*command.department_id);
  if (command.enabled) l.set_enabled(*command.enabled);
  return absl::OkStatus();
}

void LeegalityCli::Redact(v1::Certificate& cert) const {
  if (!cert.has_leegality()) return;
  cert.mutable_leegality()->clear_pkcs12_file();
  cert.mutable_leegality()->clear_passkey();
}

std::vector<std::string> LeegalityCli::ListColumns() const {
  return {"EXPIRES", "ENABLED", "DEPARTMENT", "DISPLAY_NAME"};
}

std::vector<std::string> LeegalityCli::ListRow(
    const v1::Certificate& cert) const {
  const v1::LeegalityCertificate& l = cert.leegality();
  std::string expires =
      l.has_expire_time() ? FormatTimestamp(l.expire_time()) : l.expiry();
  std::string enabled = l.has_enabled() ? (l.enabled() ? "true" : "false") : "";
  std::string department =
      !l.department_name().empty() ? l.department_name() : l.department_id();
  return {std::move(expires), std::move(enabled), std::move(department),
          cert.display_name()};
}

CliVendorHelp LeegalityCli::Help() const {
  CliVendorHelp help;
  help.product = "Leegality SignStation";
  help.flags = R"(Leegality (create / update):
  --file=PATH           PKCS#12 (.p12/.pfx) file, at most 5 MiB
  --file_name=NAME      upload file name (default: the file's base name when
                        it ends in .p12/.pfx, else the server's default)
  --passkey_file=PATH   read the PKCS#12 passkey from PATH (one trailing
                        newline is stripped)
  --passkey_env=VAR     read the passkey from environment variable VAR
                        (with neither, certctl prompts on the terminal; there
                        is no --passkey flag: argv is visible in `ps`)
  --department_id=UUID
  --enabled=true|false
  list: only enabled certificates that have an expiry (SignStation has no
  full list; certbridge reads its expiring-soon report)
)";
  help.mask_example = "leegality.enabled";
  help.file_mask = "leegality.pkcs12_file and leegality.passkey";
  return help;
}

}  // namespace certbridge::cli

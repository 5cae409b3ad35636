// Turns a parsed Command plus the bytes certctl read locally (certificate
// file, passkey) into the certbridge.v1 request proto. Pure: no I/O.
#ifndef CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_
#define CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "client/command_line.h"

namespace certbridge::cli {

/// What certctl read from outside argv.
struct LocalInputs {
  std::string file_bytes;              // contents of --file, if given
  std::optional<std::string> passkey;  // when NeedsPasskey(command)
};

v1::GetCertificateRequest BuildGetRequest(const Command& command);
v1::DeleteCertificateRequest BuildDeleteRequest(const Command& command);
absl::StatusOr<v1::CreateCertificateRequest> BuildCreateRequest(
    const Command& command, const LocalInputs& inputs);
/// Uses --update_mask when given (each field flag given must then be covered
/// by it), else DeriveUpdateMask. INVALID_ARGUMENT when nothing would change.
absl::StatusOr<v1::UpdateCertificateRequest> BuildUpdateRequest(
    const Command& command, const LocalInputs& inputs);

/// The update-mask paths (as request_validation.cc accepts them) for the
/// field flags given, in a fixed order:
///   Leegality: --enabled → leegality.enabled; --department_id →
///     leegality.department_id; --file → leegality.pkcs12_file,
///     leegality.passkey (+ leegality.file_name when a file name is sent).
///   Apinizer: --description → apinizer.description; --alias →
///     apinizer.alias; --environments → apinizer.environments; --file →
///     apinizer.pem_certificate.
std::vector<std::string> DeriveUpdateMask(const Command& command);

/// The Leegality upload file name: --file_name, else the base name of --file
/// when it ends in .p12/.pfx, else empty (the server's default).
std::string UploadFileName(const Command& command);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_

// Turns a parsed Command plus the bytes certctl read locally (certificate
// file, passkey) into the certbridge.v1 request proto; the command's vendor
// fills its part. Pure: no I/O.
#ifndef CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_
#define CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "client/command.h"
#include "client/command_line.h"

namespace certbridge::cli {

v1::GetCertificateRequest BuildGetRequest(const Command& command);
v1::DeleteCertificateRequest BuildDeleteRequest(const Command& command);
/// The first page's request (commands.cc follows the tokens for --all).
v1::ListCertificatesRequest BuildListRequest(const Command& command);
absl::StatusOr<v1::CreateCertificateRequest> BuildCreateRequest(
    const Command& command, const LocalInputs& inputs);
/// Uses --update_mask when given (each field flag given must then be covered
/// by it), else DeriveUpdateMask. INVALID_ARGUMENT when nothing would change.
absl::StatusOr<v1::UpdateCertificateRequest> BuildUpdateRequest(
    const Command& command, const LocalInputs& inputs);

/// The update-mask paths (as request_validation.cc accepts them) for the
/// field flags given, in the order of the vendor's CliVendor::FieldFlags
/// (CliVendor::DeriveUpdateMask).
std::vector<std::string> DeriveUpdateMask(const Command& command);

/// The upload file name of a PKCS#12: --file_name, else the base name of
/// --file when it ends in .p12/.pfx, else empty (the server's default).
std::string UploadFileName(const Command& command);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_REQUEST_BUILDER_H_

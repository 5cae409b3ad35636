// The building blocks vendors' request validation shares: field errors,
// the upload size limit, update-mask paths, and running a file check now or
// on the service's check pool.
#ifndef CERTBRIDGE_SERVER_BACKENDS_REQUEST_CHECKS_H_
#define CERTBRIDGE_SERVER_BACKENDS_REQUEST_CHECKS_H_

#include <cstddef>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "server/backends/vendor.h"

namespace certbridge {

/// Both shipped vendors document a 5 MB upload limit; we read it as 5 MiB.
inline constexpr std::size_t kMaxCertificateFileBytes =
    std::size_t{5} * 1024 * 1024;

/// INVALID_ARGUMENT with a BadRequest naming `field`.
absl::Status InvalidField(absl::string_view field, absl::string_view why);
/// INVALID_ARGUMENT / INVALID_NAME naming `field`.
absl::Status InvalidName(absl::string_view field, absl::string_view why);

/// FILE_TOO_LARGE beyond kMaxCertificateFileBytes.
absl::Status CheckFileSize(const std::string& bytes, absl::string_view field);

/// The mask names at least one path, each in `allowed`; `what` completes
/// "cannot be updated on ..." (e.g. "a <Vendor> certificate").
absl::Status CheckMaskPaths(const google::protobuf::FieldMask& mask,
                            const std::set<std::string>& allowed,
                            absl::string_view what);

/// Runs `check` now, or hands it back through `checks.deferred`.
absl::Status RunOrDefer(const FileChecks& checks, FileCheck check);

/// Required, at most 255 bytes, UTF-8 without control characters.
absl::Status CheckDisplayText(const std::string& text, absl::string_view field);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_BACKENDS_REQUEST_CHECKS_H_

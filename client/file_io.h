// Reads local files for certctl with a size cap, so a wrong path such as
// /dev/zero fails quickly instead of exhausting memory.
#ifndef CERTBRIDGE_CLIENT_FILE_IO_H_
#define CERTBRIDGE_CLIENT_FILE_IO_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace certbridge::cli {

/// The API's limit on uploaded certificate files.
inline constexpr std::size_t kMaxCertificateFileBytes =
    std::size_t{5} * 1024 * 1024;

/// The whole file. NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION (over
/// `max_bytes`, or not a regular readable file) with a message naming `path`.
absl::StatusOr<std::string> ReadFileCapped(const std::string& path,
                                           std::size_t max_bytes);

}  // namespace certbridge::cli

#endif  // CERTBRIDGE_CLIENT_FILE_IO_H_

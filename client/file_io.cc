#include "client/file_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace certbridge::cli {

absl::StatusOr<std::string> ReadFileCapped(const std::string& path,
                                           std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string why =
        absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(why);
    if (err == EACCES) return absl::PermissionDeniedError(why);
    return absl::FailedPreconditionError(why);
  }
  std::string data;
  char buffer[64 * 1024];
  while (in) {
    in.read(buffer, sizeof(buffer));
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is larger than ", max_bytes, " bytes, the limit"));
    }
  }
  if (in.bad()) {
    return absl::FailedPreconditionError(
        absl::StrCat("error while reading ", path));
  }
  return data;
}

}  // namespace certbridge::cli

#include "server/backends/request_checks.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/errors.h"
#include "server/common/quote.h"

namespace certbridge {

absl::Status InvalidField(absl::string_view field, absl::string_view why) {
  return MakeValidationError(reason::kInvalidArgument, field, why);
}

absl::Status InvalidName(absl::string_view field, absl::string_view why) {
  return MakeValidationError(reason::kInvalidName, field, why);
}

absl::Status CheckFileSize(const std::string& bytes, absl::string_view field) {
  if (bytes.size() > kMaxCertificateFileBytes) {
    return MakeValidationError(
        reason::kFileTooLarge, field,
        absl::StrCat("is ", bytes.size(), " bytes; the limit is ",
                     kMaxCertificateFileBytes, " bytes (5 MiB)"));
  }
  return absl::OkStatus();
}

absl::Status CheckMaskPaths(const google::protobuf::FieldMask& mask,
                            const std::set<std::string>& allowed,
                            absl::string_view what) {
  if (mask.paths().empty()) {
    return InvalidField("update_mask", "must name at least one field");
  }
  for (const auto& path : mask.paths()) {
    if (allowed.count(path) == 0) {
      return InvalidField(
          "update_mask",
          absl::StrCat(QuoteInput(path), " cannot be updated on ", what));
    }
  }
  return absl::OkStatus();
}

absl::Status RunOrDefer(const FileChecks& checks, FileCheck check) {
  if (checks.deferred == nullptr) return std::move(check)();
  *checks.deferred = std::move(check);
  return absl::OkStatus();
}

absl::Status CheckDisplayText(const std::string& text,
                              absl::string_view field) {
  if (text.empty()) return InvalidField(field, "is required");
  if (text.size() > 255) return InvalidField(field, "is longer than 255 bytes");
  for (char c : text) {
    if (absl::ascii_iscntrl(c)) {
      return InvalidField(field, "must not contain control characters");
    }
  }
  if (!IsValidUtf8(text)) return InvalidField(field, "must be valid UTF-8");
  return absl::OkStatus();
}

}  // namespace certbridge

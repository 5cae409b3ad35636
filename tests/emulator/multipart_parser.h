// Decodes multipart/form-data request bodies (RFC 7578 / RFC 2046) for the
// emulator's upload endpoints. Pure: no I/O, unit-tested on its own.
#ifndef CERTBRIDGE_TESTS_EMULATOR_MULTIPART_PARSER_H_
#define CERTBRIDGE_TESTS_EMULATOR_MULTIPART_PARSER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge::emulator {

struct MultipartPart {
  /// The Content-Disposition `name` parameter.
  std::string name;
  /// The `filename` parameter; absent for plain fields.
  std::optional<std::string> filename;
  /// The part's Content-Type ("" when absent).
  std::string content_type;
  /// All part headers, names lower-cased.
  std::map<std::string, std::string> headers;
  std::string data;
};

/// The `boundary` parameter of a "multipart/form-data; boundary=..." value.
/// InvalidArgument when the media type is not multipart/form-data or the
/// boundary is missing or longer than 70 characters.
absl::StatusOr<std::string> MultipartBoundary(absl::string_view content_type);

/// Splits `body` into its parts. InvalidArgument when the body is not a
/// complete multipart entity for `boundary` (missing delimiters, part without
/// Content-Disposition form-data name, missing close delimiter).
absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(
    absl::string_view body, absl::string_view boundary);

/// The first part named `name`, or nullptr.
const MultipartPart* FindPart(const std::vector<MultipartPart>& parts,
                              absl::string_view name);

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_MULTIPART_PARSER_H_

// Parses and formats certbridge resource names:
//   backends/{backend}/certificates/{id}
//   backends/{backend}/projects/{project}/certificates/{name}
// and their parents (which shape a backend uses is its vendor's choice).
// Segments may be %-escaped; parsed values are unescaped.
//
// This is the one name check every method goes through, and the only way a
// caller's text reaches a backend URL: a parsed segment is never empty,
// "." or "..", never holds '/', '\\', control bytes or invalid UTF-8, and
// is at most kMaxSegmentBytes long. Stubs %-escape every byte outside RFC
// 3986's unreserved set, so a URL built from parsed segments has exactly
// the path the name implies.
#ifndef CERTBRIDGE_SERVER_COMMON_RESOURCE_NAME_H_
#define CERTBRIDGE_SERVER_COMMON_RESOURCE_NAME_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certbridge {

/// Longest resource name accepted, before unescaping.
inline constexpr std::size_t kMaxResourceNameBytes = 2048;
/// Longest segment (project, certificate), after unescaping.
inline constexpr std::size_t kMaxSegmentBytes = 255;

struct CertificateName {
  std::string backend;
  bool has_project = false;  // the second shape
  std::string project;       // unescaped
  std::string certificate;   // the vendor's id or name, unescaped
};

struct ParentName {
  std::string backend;
  bool has_project = false;
  std::string project;  // unescaped
};

/// INVALID_ARGUMENT / INVALID_NAME (naming `field`) when malformed.
absl::StatusOr<CertificateName> ParseCertificateName(absl::string_view name,
                                                     absl::string_view field);
absl::StatusOr<ParentName> ParseParentName(absl::string_view name,
                                           absl::string_view field);

/// The segment rules above for an unescaped value that will become a path
/// segment (e.g. a Create's certificate_id). INVALID_NAME naming `field`.
absl::Status CheckNameSegment(absl::string_view value, absl::string_view field);

std::string FormatCertificateName(const CertificateName& name);
std::string FormatParentName(const ParentName& name);

/// RFC 3986: unreserved characters stay, every other byte becomes %XX.
std::string EscapeSegment(absl::string_view segment);

/// Backend instance names: 1-63 of [a-z0-9-], starting with a letter (they
/// appear in resource names and metric labels).
bool IsValidBackendName(absl::string_view name);

/// Backend kinds (vendor names in configuration and labels): a lower-case
/// letter, then lower-case letters, digits, '-' or '_', at most 32 bytes.
bool IsValidKindName(absl::string_view kind);

/// 8-4-4-4-12 hexadecimal, either case.
bool IsUuid(absl::string_view text);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_COMMON_RESOURCE_NAME_H_

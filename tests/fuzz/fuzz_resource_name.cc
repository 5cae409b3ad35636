// Resource names come straight from callers. Properties:
// - a name that parses formats to a canonical name that parses to the same
//   value (and formats to itself);
// - a parent that parses yields certificate names under it that round-trip;
// - EscapeSegment emits only unreserved characters and %XX, and a name built
//   from any segment either is rejected or parses back to that segment;
// - errors are INVALID_ARGUMENT, and no input is both kinds of name.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "server/common/resource_name.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using certbridge::CertificateName;
using certbridge::FormatCertificateName;
using certbridge::ParentName;
using certbridge::ParseCertificateName;

bool Same(const CertificateName& a, const CertificateName& b) {
  return a.backend == b.backend && a.has_project == b.has_project &&
         a.project == b.project && a.certificate == b.certificate;
}

void CheckEscapeSegment(absl::string_view segment) {
  const std::string escaped = certbridge::EscapeSegment(segment);
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '%') {
      FUZZ_CHECK(i + 2 < escaped.size());
      FUZZ_CHECK(absl::ascii_isxdigit(escaped[i + 1]) &&
                 absl::ascii_isxdigit(escaped[i + 2]));
      i += 2;
      continue;
    }
    FUZZ_CHECK(absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
               c == '~');
  }
  // Names built from the segment in both shapes: rejected (a segment rule)
  // or parsed back to exactly what was formatted.
  for (bool has_project : {false, true}) {
    const CertificateName built{"b", has_project,
                                has_project ? std::string(segment) : "",
                                std::string(segment)};
    auto parsed = ParseCertificateName(FormatCertificateName(built), "name");
    if (parsed.ok()) FUZZ_CHECK(Same(*parsed, built));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input = certbridge::fuzz::AsText(data, size);

  auto name = ParseCertificateName(input, "name");
  if (name.ok()) {
    FUZZ_CHECK(certbridge::IsValidBackendName(name->backend));
    FUZZ_CHECK(!name->certificate.empty());
    const std::string canonical = FormatCertificateName(*name);
    auto again = ParseCertificateName(canonical, "name");
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(Same(*name, *again));
    FUZZ_CHECK(FormatCertificateName(*again) == canonical);
  } else {
    FUZZ_CHECK(name.status().code() == absl::StatusCode::kInvalidArgument);
  }

  auto parent = certbridge::ParseParentName(input, "parent");
  if (parent.ok()) {
    FUZZ_CHECK(certbridge::IsValidBackendName(parent->backend));
    const CertificateName child{parent->backend, parent->has_project,
                                parent->project, "c"};
    auto parsed = ParseCertificateName(FormatCertificateName(child), "name");
    FUZZ_CHECK(parsed.ok());
    FUZZ_CHECK(Same(*parsed, child));
  } else {
    FUZZ_CHECK(parent.status().code() == absl::StatusCode::kInvalidArgument);
  }
  // Two segments more or less: never both.
  FUZZ_CHECK(!(name.ok() && parent.ok()));

  CheckEscapeSegment(input);
  (void)certbridge::IsUuid(input);
  return 0;
}

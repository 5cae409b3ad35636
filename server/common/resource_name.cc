#include "server/common/resource_name.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/errors.h"
#include "server/common/quote.h"

namespace certbridge {
namespace {

absl::Status NameError(absl::string_view field, absl::string_view why) {
  return MakeValidationError(reason::kInvalidName, field, why);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Unescape(absl::string_view segment,
                                     absl::string_view field) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    const char c = segment[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= segment.size()) {
      return NameError(field, "truncated %-escape");
    }
    const int hi = HexValue(segment[i + 1]);
    const int lo = HexValue(segment[i + 2]);
    if (hi < 0 || lo < 0) return NameError(field, "invalid %-escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Splits on '/', rejecting empty segments ("a//b", trailing '/').
absl::StatusOr<std::vector<absl::string_view>> Segments(
    absl::string_view name, absl::string_view field) {
  if (name.empty()) return NameError(field, "is required");
  if (name.size() > kMaxResourceNameBytes) {
    return NameError(field,
                     absl::StrCat("is ", name.size(), " bytes; the limit is ",
                                  kMaxResourceNameBytes));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  for (absl::string_view p : parts) {
    if (p.empty()) return NameError(field, "has an empty path segment");
  }
  return parts;
}

absl::Status CheckBackend(absl::string_view backend, absl::string_view field) {
  if (!IsValidBackendName(backend)) {
    return NameError(field,
                     absl::StrCat("backend segment ", QuoteInput(backend),
                                  " must match [a-z][a-z0-9-]{0,62}"));
  }
  return absl::OkStatus();
}

// A project or certificate segment: unescaped, then held to the rules in
// the header.
absl::StatusOr<std::string> ParseSegment(absl::string_view raw,
                                         absl::string_view field) {
  auto value = Unescape(raw, field);
  if (!value.ok()) return value.status();
  if (auto s = CheckNameSegment(*value, field); !s.ok()) return s;
  return value;
}

}  // namespace

bool IsValidKindName(absl::string_view kind) {
  if (kind.empty() || kind.size() > 32 || !absl::ascii_islower(kind[0])) {
    return false;
  }
  for (char c : kind) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidBackendName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!absl::ascii_islower(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsUuid(absl::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(text[i])) {
      return false;
    }
  }
  return true;
}

std::string EscapeSegment(absl::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

absl::StatusOr<CertificateName> ParseCertificateName(absl::string_view name,
                                                     absl::string_view field) {
  auto parts = Segments(name, field);
  if (!parts.ok()) return parts.status();
  const auto& p = *parts;
  CertificateName out;
  if (p.size() == 4 && p[0] == "backends" && p[2] == "certificates") {
    out.has_project = false;
  } else if (p.size() == 6 && p[0] == "backends" && p[2] == "projects" &&
             p[4] == "certificates") {
    out.has_project = true;
  } else {
    return NameError(field,
                     "must be backends/{backend}/certificates/{id} or "
                     "backends/{backend}/projects/{project}/certificates/"
                     "{name}");
  }
  if (auto s = CheckBackend(p[1], field); !s.ok()) return s;
  out.backend = std::string(p[1]);
  if (out.has_project) {
    auto project = ParseSegment(p[3], field);
    if (!project.ok()) return project.status();
    out.project = *std::move(project);
  }
  auto cert = ParseSegment(p.back(), field);
  if (!cert.ok()) return cert.status();
  out.certificate = *std::move(cert);
  return out;
}

absl::StatusOr<ParentName> ParseParentName(absl::string_view name,
                                           absl::string_view field) {
  auto parts = Segments(name, field);
  if (!parts.ok()) return parts.status();
  const auto& p = *parts;
  ParentName out;
  if (p.size() == 2 && p[0] == "backends") {
    out.has_project = false;
  } else if (p.size() == 4 && p[0] == "backends" && p[2] == "projects") {
    out.has_project = true;
  } else {
    return NameError(
        field,
        "must be backends/{backend} or backends/{backend}/projects/"
        "{project}");
  }
  if (auto s = CheckBackend(p[1], field); !s.ok()) return s;
  out.backend = std::string(p[1]);
  if (out.has_project) {
    auto project = ParseSegment(p[3], field);
    if (!project.ok()) return project.status();
    out.project = *std::move(project);
  }
  return out;
}

absl::Status CheckNameSegment(absl::string_view value,
                              absl::string_view field) {
  if (value.empty()) return NameError(field, "has an empty segment");
  if (value.size() > kMaxSegmentBytes) {
    return NameError(field,
                     absl::StrCat("has a segment of ", value.size(),
                                  " bytes; the limit is ", kMaxSegmentBytes));
  }
  // "." and ".." would be removed or resolved by URL normalisation (RFC 3986
  // 5.2.4) somewhere between certbridge and the vendor's router, turning a
  // call on one resource into a call on its parent.
  if (value == "." || value == "..") {
    return NameError(field, "segments \".\" and \"..\" are not names");
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return NameError(field, "must not contain control characters");
    }
    // Servers that decode %2F or %5C before routing would see a path.
    if (c == '/' || c == '\\') {
      return NameError(field, "segments must not contain '/' or '\\'");
    }
  }
  if (!IsValidUtf8(value)) return NameError(field, "must be valid UTF-8");
  return absl::OkStatus();
}

std::string FormatCertificateName(const CertificateName& name) {
  if (name.has_project) {
    return absl::StrCat("backends/", name.backend, "/projects/",
                        EscapeSegment(name.project), "/certificates/",
                        EscapeSegment(name.certificate));
  }
  return absl::StrCat("backends/", name.backend, "/certificates/",
                      EscapeSegment(name.certificate));
}

std::string FormatParentName(const ParentName& name) {
  if (name.has_project) {
    return absl::StrCat("backends/", name.backend, "/projects/",
                        EscapeSegment(name.project));
  }
  return absl::StrCat("backends/", name.backend);
}

}  // namespace certbridge

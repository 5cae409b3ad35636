#include "tests/emulator/multipart_parser.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace certbridge::emulator {
namespace {

// A header value split into its leading token and its parameters
// (`type; a=b; c="d;e"`); parameter names lower-cased, quotes removed.
struct HeaderValue {
  std::string token;
  std::map<std::string, std::string> params;
};

HeaderValue ParseHeaderValue(absl::string_view value) {
  HeaderValue out;
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  };
  const std::size_t semi = value.find(';');
  out.token =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(value.substr(0, semi)));
  if (semi == absl::string_view::npos) return out;
  i = semi + 1;
  while (i < value.size()) {
    skip_ws();
    std::size_t start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ';') ++i;
    std::string name = absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(value.substr(start, i - start)));
    std::string v;
    if (i < value.size() && value[i] == '=') {
      ++i;
      skip_ws();
      if (i < value.size() && value[i] == '"') {
        ++i;
        while (i < value.size() && value[i] != '"') {
          if (value[i] == '\\' && i + 1 < value.size()) ++i;
          v.push_back(value[i++]);
        }
        if (i < value.size()) ++i;  // closing quote
        while (i < value.size() && value[i] != ';') ++i;
      } else {
        start = i;
        while (i < value.size() && value[i] != ';') ++i;
        v = std::string(
            absl::StripAsciiWhitespace(value.substr(start, i - start)));
      }
    }
    if (i < value.size() && value[i] == ';') ++i;
    if (!name.empty()) out.params.emplace(std::move(name), std::move(v));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(absl::string_view content_type) {
  HeaderValue v = ParseHeaderValue(content_type);
  if (v.token != "multipart/form-data") {
    return absl::InvalidArgumentError(
        absl::StrCat("not multipart/form-data: '", v.token, "'"));
  }
  auto it = v.params.find("boundary");
  if (it == v.params.end() || it->second.empty() || it->second.size() > 70) {
    return absl::InvalidArgumentError("missing or invalid boundary");
  }
  return it->second;
}

absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(
    absl::string_view body, absl::string_view boundary) {
  if (boundary.empty()) return absl::InvalidArgumentError("empty boundary");
  const std::string delim = absl::StrCat("--", boundary);
  const std::string crlf_delim = absl::StrCat("\r\n", delim);
  std::size_t pos;
  if (absl::StartsWith(body, delim)) {
    pos = 0;
  } else {
    pos = body.find(crlf_delim);  // skip the preamble
    if (pos == absl::string_view::npos) {
      return absl::InvalidArgumentError("no multipart boundary in body");
    }
    pos += 2;
  }
  std::vector<MultipartPart> parts;
  while (true) {
    std::size_t p = pos + delim.size();
    if (body.substr(p, 2) == "--") return parts;  // close delimiter
    while (p < body.size() && (body[p] == ' ' || body[p] == '\t')) ++p;
    if (body.substr(p, 2) != "\r\n") {
      return absl::InvalidArgumentError("malformed boundary line");
    }
    p += 2;
    MultipartPart part;
    std::size_t data_start;
    if (body.substr(p, 2) == "\r\n") {
      data_start = p + 2;  // a part without headers
    } else {
      const std::size_t head_end = body.find("\r\n\r\n", p);
      if (head_end == absl::string_view::npos) {
        return absl::InvalidArgumentError("unterminated part headers");
      }
      for (absl::string_view line :
           absl::StrSplit(body.substr(p, head_end - p), "\r\n")) {
        const std::size_t colon = line.find(':');
        if (colon == absl::string_view::npos) {
          return absl::InvalidArgumentError("malformed part header");
        }
        part.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
            std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
      data_start = head_end + 4;
    }
    const std::size_t next = body.find(crlf_delim, data_start);
    if (next == absl::string_view::npos) {
      return absl::InvalidArgumentError("missing closing boundary");
    }
    auto cd = part.headers.find("content-disposition");
    if (cd == part.headers.end()) {
      return absl::InvalidArgumentError("part without Content-Disposition");
    }
    HeaderValue disposition = ParseHeaderValue(cd->second);
    auto name = disposition.params.find("name");
    if (disposition.token != "form-data" || name == disposition.params.end()) {
      return absl::InvalidArgumentError("part is not form-data with a name");
    }
    part.name = name->second;
    if (auto fn = disposition.params.find("filename");
        fn != disposition.params.end()) {
      part.filename = fn->second;
    }
    if (auto ct = part.headers.find("content-type"); ct != part.headers.end()) {
      part.content_type = ct->second;
    }
    part.data = std::string(body.substr(data_start, next - data_start));
    parts.push_back(std::move(part));
    pos = next + 2;
  }
}

const MultipartPart* FindPart(const std::vector<MultipartPart>& parts,
                              absl::string_view name) {
  for (const MultipartPart& part : parts) {
    if (part.name == name) return &part;
  }
  return nullptr;
}

}  // namespace certbridge::emulator

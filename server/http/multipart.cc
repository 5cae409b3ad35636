#include "server/http/multipart.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace certbridge {
namespace {

// Quotes a Content-Disposition parameter. Browsers percent-encode '"' and
// CR/LF (WHATWG); doing the same keeps a hostile file name from injecting
// headers into the part. A backslash is encoded too: parsers that read the
// value as an RFC 2616 quoted-string take it as an escape, so "a\" would
// come back as a quote.
std::string QuoteParam(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\\') {
      out += "%5C";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string RandomBoundary() {
  static constexpr char kAlphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  thread_local absl::BitGen gen;
  std::string out = "certbridge-";
  for (int i = 0; i < 32; ++i) {
    out.push_back(kAlphabet[absl::Uniform(gen, 0u, sizeof(kAlphabet) - 1)]);
  }
  return out;
}

MultipartBuilder::MultipartBuilder(std::string boundary)
    : boundary_(std::move(boundary)) {}

MultipartBuilder& MultipartBuilder::AddField(absl::string_view name,
                                             absl::string_view value) {
  Part part;
  part.name = std::string(name);
  part.owned = std::string(value);
  parts_.push_back(std::move(part));
  return *this;
}

MultipartBuilder& MultipartBuilder::AddFile(absl::string_view name,
                                            absl::string_view filename,
                                            absl::string_view content_type,
                                            absl::string_view content) {
  Part part;
  part.name = std::string(name);
  part.filename = std::string(filename);
  part.content_type = std::string(content_type);
  part.content = content;
  part.is_file = true;
  parts_.push_back(std::move(part));
  return *this;
}

std::string MultipartBuilder::Build() {
  // Fields point at their own copies only now: parts_ no longer moves.
  for (Part& p : parts_) {
    if (!p.is_file) p.content = p.owned;
  }
  auto collides = [this] {
    for (const Part& p : parts_) {
      if (p.content.find(boundary_) != std::string::npos ||
          p.filename.find(boundary_) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  while (boundary_.empty() || collides()) boundary_ = RandomBoundary();

  size_t size = boundary_.size() + 8;
  for (const Part& p : parts_) size += p.content.size() + 200;
  std::string body;
  body.reserve(size);
  for (const Part& p : parts_) {
    absl::StrAppend(&body, "--", boundary_,
                    "\r\nContent-Disposition: form-data; name=\"",
                    QuoteParam(p.name), "\"");
    if (p.is_file) {
      absl::StrAppend(
          &body, "; filename=\"", QuoteParam(p.filename),
          "\"\r\nContent-Type: ",
          p.content_type.empty() ? "application/octet-stream" : p.content_type);
    }
    absl::StrAppend(&body, "\r\n\r\n", p.content, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary_, "--\r\n");
  return body;
}

std::string MultipartBuilder::ContentType() const {
  return absl::StrCat("multipart/form-data; boundary=", boundary_);
}

}  // namespace certbridge

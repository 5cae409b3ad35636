// Encodes multipart/form-data bodies (RFC 7578) for the vendors' upload
// endpoints. Pure: no I/O, so it is unit-tested and fuzzed on its own.
#ifndef CERTBRIDGE_SERVER_HTTP_MULTIPART_H_
#define CERTBRIDGE_SERVER_HTTP_MULTIPART_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace certbridge {

class MultipartBuilder {
 public:
  /// `boundary` must not occur in any part; Build() picks a fresh one when it
  /// does, so callers may pass any token (tests pass a fixed one).
  explicit MultipartBuilder(std::string boundary);

  /// Copies `value` (form fields are small).
  MultipartBuilder& AddField(absl::string_view name, absl::string_view value);
  /// Does not copy `content` (an upload of up to 5 MiB): it must stay valid
  /// until Build() returns, which writes it into the body once.
  MultipartBuilder& AddFile(absl::string_view name, absl::string_view filename,
                            absl::string_view content_type,
                            absl::string_view content);

  /// The body. Call once.
  std::string Build();
  /// "multipart/form-data; boundary=..." for the boundary Build() used.
  std::string ContentType() const;

 private:
  struct Part {
    std::string name;
    std::string filename;  // empty for plain fields
    std::string content_type;
    std::string owned;          // a field's value
    absl::string_view content;  // the value: `owned`, or a file's bytes
    bool is_file = false;
  };
  std::string boundary_;
  std::vector<Part> parts_;
};

/// A random boundary token of 32 characters.
std::string RandomBoundary();

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_HTTP_MULTIPART_H_

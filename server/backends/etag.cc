#include "server/backends/etag.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/errors.h"

namespace certbridge {

void SetEtag(v1::Certificate& cert, absl::string_view content) {
  cert.clear_etag();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    cert.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  EVP_DigestUpdate(md, bytes.data(), bytes.size());
  EVP_DigestUpdate(md, content.data(), content.size());
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  // Quoted like an HTTP entity tag; 128 bits are plenty to tell states of
  // one certificate apart.
  cert.set_etag(absl::StrCat("\"",
                             absl::BytesToHexString(absl::string_view(
                                 reinterpret_cast<const char*>(digest), 16)),
                             "\""));
}

absl::Status CheckEtag(absl::string_view wanted, const v1::Certificate& current,
                       absl::string_view backend) {
  if (wanted.empty() || wanted == current.etag()) return absl::OkStatus();
  return MakeError(
      absl::StatusCode::kAborted,
      absl::StrCat("the certificate changed since the etag was read; read it "
                   "again and retry the update (backend ",
                   backend, ")"),
      reason::kConcurrentModification,
      {{metadata::kBackend, std::string(backend)}});
}

}  // namespace certbridge

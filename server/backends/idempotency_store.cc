#include "server/backends/idempotency_store.h"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

#include "google/protobuf/io/zero_copy_stream.h"

namespace certbridge {
namespace {

// Feeds serialized bytes straight into a digest: fingerprinting a 5 MiB
// upload must not copy it.
class DigestStream final : public google::protobuf::io::ZeroCopyOutputStream {
 public:
  explicit DigestStream(EVP_MD_CTX* md) : md_(md) {}
  bool Next(void** data, int* size) override {
    Flush();
    *data = buffer_;
    *size = sizeof(buffer_);
    pending_ = sizeof(buffer_);
    return true;
  }
  void BackUp(int count) override { pending_ -= count; }
  int64_t ByteCount() const override { return total_; }
  void Flush() {
    if (pending_ > 0) EVP_DigestUpdate(md_, buffer_, pending_);
    total_ += pending_;
    pending_ = 0;
  }

 private:
  EVP_MD_CTX* md_;
  char buffer_[8192];
  int pending_ = 0;
  int64_t total_ = 0;
};

}  // namespace

IdempotencyStore::Fingerprint IdempotencyStore::FingerprintOf(
    const v1::CreateCertificateRequest& request) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(),
                                                             EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  // Every field but request_id and parent, each length-prefixed so that no
  // two requests share a digest input. The parent is in the key, parsed, so
  // two spellings of one parent are one request.
  const auto feed = [&](absl::string_view bytes) {
    const uint64_t n = bytes.size();
    EVP_DigestUpdate(md.get(), &n, sizeof(n));
    EVP_DigestUpdate(md.get(), bytes.data(), bytes.size());
  };
  feed(request.certificate_id());
  {
    DigestStream stream(md.get());
    request.certificate().SerializeToZeroCopyStream(&stream);
    stream.Flush();
  }
  Fingerprint out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), out.data(), &len);
  return out;
}

}  // namespace certbridge

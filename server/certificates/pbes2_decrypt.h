// A faster path through the one password-based encryption every modern
// PKCS#12 uses: PBES2 with PBKDF2-HMAC-SHA256 and AES-CBC (what OpenSSL 3,
// Java 17+ keytool and Windows' AES export write).
//
// Why it exists: OpenSSL 3.0's PBKDF2 duplicates a provider HMAC context
// for every iteration, so a 2048-iteration derivation costs ~630 µs on the
// machines certbridge was measured on, and a PKCS#12 needs two (its
// certificates and its key). Keeping the HMAC's inner and outer SHA-256
// states and hashing one block each per iteration gives the same bytes in
// ~200 µs. Anything else (other PRFs, ciphers, legacy PKCS#12 PBEs) returns
// std::nullopt and the caller falls back to OpenSSL.
#ifndef CERTBRIDGE_SERVER_CERTIFICATES_PBES2_DECRYPT_H_
#define CERTBRIDGE_SERVER_CERTIFICATES_PBES2_DECRYPT_H_

#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace certbridge {

/// Plaintext that is wiped when it goes away (it holds key material).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n) : bytes_(n, '\0') {}
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  unsigned char* data() {
    return reinterpret_cast<unsigned char*>(bytes_.data());
  }
  const unsigned char* data() const {
    return reinterpret_cast<const unsigned char*>(bytes_.data());
  }
  std::size_t size() const { return bytes_.size(); }
  void resize(std::size_t n);

 private:
  void Wipe();
  std::string bytes_;
};

/// PBKDF2 (RFC 8018) with HMAC-SHA256. `out_len` > 0.
SecretBytes Pbkdf2HmacSha256(absl::string_view password, absl::string_view salt,
                             std::uint64_t iterations, std::size_t out_len);

/// What Pbes2Decrypt made of its input.
enum class Pbes2Result {
  kDecrypted,    // `plaintext` holds the content, padding removed
  kUnsupported,  // not PBES2/PBKDF2-HMAC-SHA256/AES-CBC: use OpenSSL
  kFailed,       // the right algorithms, but the content does not decrypt
                 // (wrong passkey or damaged data)
};

/// Decrypts `ciphertext` encrypted with `alg` under `password` (its UTF-8
/// bytes, as PBES2 takes them). The iteration count must have been checked
/// by the caller: this function derives whatever `alg` asks for.
Pbes2Result Pbes2Decrypt(const X509_ALGOR* alg,
                         const ASN1_OCTET_STRING* ciphertext,
                         absl::string_view password, SecretBytes* plaintext);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_CERTIFICATES_PBES2_DECRYPT_H_

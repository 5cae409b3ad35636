// The low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of
// EVP, but EVP gives no cheap way to copy a hash state: EVP_MD_CTX_copy_ex
// allocates a provider context per copy, which is exactly the cost this
// file removes. SHA256_CTX is a plain struct and copies for free.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "server/certificates/pbes2_decrypt.h"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <memory>

namespace certbridge {

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : bytes_(std::move(other.bytes_)) {
  other.Wipe();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

SecretBytes::~SecretBytes() { Wipe(); }

void SecretBytes::Wipe() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

void SecretBytes::resize(std::size_t n) {
  // Shrinking only: growing could reallocate and leave a copy behind.
  if (n < bytes_.size()) {
    OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
    bytes_.resize(n);
  }
}

namespace {

constexpr std::size_t kBlock = SHA256_CBLOCK;          // 64
constexpr std::size_t kDigest = SHA256_DIGEST_LENGTH;  // 32

// HMAC-SHA256 with its key already absorbed: each MAC is two copies of a
// struct and two one-block hashes.
class PrecomputedHmac {
 public:
  explicit PrecomputedHmac(absl::string_view key) {
    std::array<unsigned char, kBlock> k{};
    if (key.size() > kBlock) {
      SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
             k.data());
    } else {
      std::copy(key.begin(), key.end(), k.begin());
    }
    std::array<unsigned char, kBlock> pad{};
    for (std::size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&inner_);
    SHA256_Update(&inner_, pad.data(), pad.size());
    for (std::size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&outer_);
    SHA256_Update(&outer_, pad.data(), pad.size());
    OPENSSL_cleanse(k.data(), k.size());
    OPENSSL_cleanse(pad.data(), pad.size());
  }
  ~PrecomputedHmac() {
    OPENSSL_cleanse(&inner_, sizeof(inner_));
    OPENSSL_cleanse(&outer_, sizeof(outer_));
  }
  PrecomputedHmac(const PrecomputedHmac&) = delete;
  PrecomputedHmac& operator=(const PrecomputedHmac&) = delete;

  // out = HMAC(key, a || b).
  void Mac(const unsigned char* a, std::size_t a_len, const unsigned char* b,
           std::size_t b_len, unsigned char* out) const {
    SHA256_CTX ctx = inner_;
    SHA256_Update(&ctx, a, a_len);
    if (b_len > 0) SHA256_Update(&ctx, b, b_len);
    SHA256_Final(out, &ctx);
    ctx = outer_;
    SHA256_Update(&ctx, out, kDigest);
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof(ctx));
  }

 private:
  SHA256_CTX inner_;
  SHA256_CTX outer_;
};

struct Pbe2Free {
  void operator()(PBE2PARAM* p) const { PBE2PARAM_free(p); }
};
struct Pbkdf2Free {
  void operator()(PBKDF2PARAM* p) const { PBKDF2PARAM_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// The AES-CBC ciphers, fetched once: an implicit fetch per decryption is a
// lookup in the provider store under its lock.
const EVP_CIPHER* AesCbc(int nid) {
  static const EVP_CIPHER* const k128 =
      EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  static const EVP_CIPHER* const k192 =
      EVP_CIPHER_fetch(nullptr, "AES-192-CBC", nullptr);
  static const EVP_CIPHER* const k256 =
      EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  switch (nid) {
    case NID_aes_128_cbc:
      return k128;
    case NID_aes_192_cbc:
      return k192;
    case NID_aes_256_cbc:
      return k256;
    default:
      return nullptr;
  }
}

absl::string_view View(const ASN1_STRING* s) {
  return absl::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
      static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

SecretBytes Pbkdf2HmacSha256(absl::string_view password, absl::string_view salt,
                             std::uint64_t iterations, std::size_t out_len) {
  const PrecomputedHmac hmac(password);
  SecretBytes out(out_len);
  std::array<unsigned char, kDigest> u{};
  std::array<unsigned char, kDigest> t{};
  for (std::uint32_t block = 1, done = 0; done < out_len; ++block) {
    const std::array<unsigned char, 4> index = {
        static_cast<unsigned char>(block >> 24),
        static_cast<unsigned char>(block >> 16),
        static_cast<unsigned char>(block >> 8),
        static_cast<unsigned char>(block)};
    hmac.Mac(reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
             index.data(), index.size(), u.data());
    t = u;
    for (std::uint64_t i = 1; i < iterations; ++i) {
      hmac.Mac(u.data(), u.size(), nullptr, 0, u.data());
      for (std::size_t j = 0; j < kDigest; ++j) t[j] ^= u[j];
    }
    const std::size_t n = std::min(kDigest, out_len - done);
    std::copy_n(t.begin(), n, out.data() + done);
    done += n;
  }
  OPENSSL_cleanse(u.data(), u.size());
  OPENSSL_cleanse(t.data(), t.size());
  return out;
}

Pbes2Result Pbes2Decrypt(const X509_ALGOR* alg,
                         const ASN1_OCTET_STRING* ciphertext,
                         absl::string_view password, SecretBytes* plaintext) {
  if (alg == nullptr || ciphertext == nullptr ||
      OBJ_obj2nid(alg->algorithm) != NID_pbes2 || alg->parameter == nullptr ||
      alg->parameter->type != V_ASN1_SEQUENCE) {
    return Pbes2Result::kUnsupported;
  }
  std::unique_ptr<PBE2PARAM, Pbe2Free> pbe2(static_cast<PBE2PARAM*>(
      ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter)));
  if (!pbe2 || pbe2->keyfunc == nullptr || pbe2->encryption == nullptr ||
      OBJ_obj2nid(pbe2->keyfunc->algorithm) != NID_id_pbkdf2 ||
      pbe2->keyfunc->parameter == nullptr ||
      pbe2->keyfunc->parameter->type != V_ASN1_SEQUENCE) {
    return Pbes2Result::kUnsupported;
  }
  std::unique_ptr<PBKDF2PARAM, Pbkdf2Free> kdf(
      static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(
          ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)));
  // The PRF defaults to HMAC-SHA1 when absent; only SHA-256 is sped up.
  if (!kdf || kdf->salt == nullptr || kdf->salt->type != V_ASN1_OCTET_STRING ||
      kdf->iter == nullptr || kdf->prf == nullptr ||
      OBJ_obj2nid(kdf->prf->algorithm) != NID_hmacWithSHA256) {
    return Pbes2Result::kUnsupported;
  }
  const long iterations = ASN1_INTEGER_get(kdf->iter);
  const EVP_CIPHER* cipher = AesCbc(OBJ_obj2nid(pbe2->encryption->algorithm));
  const ASN1_TYPE* iv = pbe2->encryption->parameter;
  if (iterations < 1 || cipher == nullptr || iv == nullptr ||
      iv->type != V_ASN1_OCTET_STRING ||
      ASN1_STRING_length(iv->value.octet_string) !=
          EVP_CIPHER_get_iv_length(cipher)) {
    return Pbes2Result::kUnsupported;
  }
  const auto key_len =
      static_cast<std::size_t>(EVP_CIPHER_get_key_length(cipher));
  if (kdf->keylength != nullptr &&
      ASN1_INTEGER_get(kdf->keylength) != static_cast<long>(key_len)) {
    return Pbes2Result::kUnsupported;  // OpenSSL reports it
  }
  const SecretBytes key =
      Pbkdf2HmacSha256(password, View(kdf->salt->value.octet_string),
                       static_cast<std::uint64_t>(iterations), key_len);

  const int in_len = ASN1_STRING_length(ciphertext);
  const int block = EVP_CIPHER_get_block_size(cipher);
  if (in_len <= 0 || in_len % block != 0) return Pbes2Result::kFailed;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  SecretBytes out(static_cast<std::size_t>(in_len) +
                  static_cast<std::size_t>(block));
  int n = 0;
  int tail = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key.data(),
                         ASN1_STRING_get0_data(iv->value.octet_string)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &n,
                        ASN1_STRING_get0_data(ciphertext), in_len) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    return Pbes2Result::kFailed;  // a wrong key shows as bad padding
  }
  out.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(tail));
  *plaintext = std::move(out);
  return Pbes2Result::kDecrypted;
}

}  // namespace certbridge

// The PBES2 fast path must decrypt exactly what OpenSSL decrypts, and leave
// every other algorithm to OpenSSL.
#include "server/certificates/pbes2_decrypt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace certbridge {
namespace {

std::string Bytes(const SecretBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string OpenSslPbkdf2(const std::string& pass, const std::string& salt,
                          int iterations, std::size_t len) {
  std::string out(len, '\0');
  EXPECT_EQ(
      PKCS5_PBKDF2_HMAC(pass.data(), static_cast<int>(pass.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(len),
                        reinterpret_cast<unsigned char*>(out.data())),
      1);
  return out;
}

TEST(Pbkdf2HmacSha256Test, SameBytesAsOpenSsl) {
  // Passwords around the HMAC block size (64: hashed above it), outputs
  // around the digest size (32: several blocks above it).
  for (const std::string& pass :
       {std::string(), std::string("p"), std::string(63, 'x'),
        std::string(64, 'y'), std::string(65, 'z'), std::string(200, '\xff')}) {
    for (const std::string& salt :
         {std::string(), std::string("salt"), std::string(100, 's')}) {
      for (int iterations : {1, 2, 1000}) {
        for (std::size_t len : {1u, 16u, 32u, 33u, 64u, 100u}) {
          EXPECT_EQ(
              Bytes(Pbkdf2HmacSha256(
                  pass, salt, static_cast<std::uint64_t>(iterations), len)),
              OpenSslPbkdf2(pass, salt, iterations, len))
              << pass.size() << " " << salt.size() << " " << iterations << " "
              << len;
        }
      }
    }
  }
}

TEST(Pbkdf2HmacSha256Test, Rfc7914TestVector) {
  // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64).
  const std::string expected =
      "\x55\xac\x04\x6e\x56\xe3\x08\x9f\xec\x16\x91\xc2\x25\x44\xb6\x05"
      "\xf9\x41\x85\x21\x6d\xde\x04\x65\xe6\x8b\x9d\x57\xc2\x0d\xac\xbc"
      "\x49\xca\x9c\xcc\xf1\x79\xb6\x45\x99\x16\x64\xb3\x9d\x77\xef\x31"
      "\x7c\x71\xb8\x45\xb1\xe3\x0b\xd5\x09\x11\x20\x41\xd3\xa1\x97\x83";
  EXPECT_EQ(Bytes(Pbkdf2HmacSha256("passwd", "salt", 1, 64)), expected);
}

struct AlgorFree {
  void operator()(X509_ALGOR* a) const { X509_ALGOR_free(a); }
};
struct OctetFree {
  void operator()(ASN1_OCTET_STRING* s) const { ASN1_OCTET_STRING_free(s); }
};

// Encrypts with OpenSSL's own PBES2 (or other PBE) code.
struct Encrypted {
  std::unique_ptr<X509_ALGOR, AlgorFree> alg;
  std::unique_ptr<ASN1_OCTET_STRING, OctetFree> data;
};

Encrypted EncryptWithOpenSsl(X509_ALGOR* alg, const std::string& pass,
                             const std::string& plain) {
  Encrypted e;
  e.alg.reset(alg);
  unsigned char* out = nullptr;
  int out_len = 0;
  EXPECT_NE(
      PKCS12_pbe_crypt_ex(alg, pass.data(), static_cast<int>(pass.size()),
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()), &out, &out_len, 1,
                          nullptr, nullptr),
      nullptr);
  e.data.reset(ASN1_OCTET_STRING_new());
  ASN1_STRING_set0(e.data.get(), out, out_len);
  return e;
}

X509_ALGOR* Pbes2(const EVP_CIPHER* cipher, int prf_nid, int iterations) {
  unsigned char salt[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                            9, 10, 11, 12, 13, 14, 15, 16};
  return PKCS5_pbe2_set_iv_ex(cipher, iterations, salt, sizeof(salt), nullptr,
                              prf_nid, nullptr);
}

TEST(Pbes2DecryptTest, DecryptsWhatOpenSslEncrypts) {
  const std::string plain = "safe contents: " + std::string(1000, 'c');
  for (const EVP_CIPHER* cipher :
       {EVP_aes_128_cbc(), EVP_aes_192_cbc(), EVP_aes_256_cbc()}) {
    for (const std::string& pass : {std::string(), std::string("passkey")}) {
      Encrypted e = EncryptWithOpenSsl(Pbes2(cipher, NID_hmacWithSHA256, 2048),
                                       pass, plain);
      SecretBytes out;
      ASSERT_EQ(Pbes2Decrypt(e.alg.get(), e.data.get(), pass, &out),
                Pbes2Result::kDecrypted)
          << EVP_CIPHER_get0_name(cipher);
      EXPECT_EQ(Bytes(out), plain);
    }
  }
}

TEST(Pbes2DecryptTest, WrongPasskeyIsNotPlaintext) {
  const std::string plain(64, 'k');
  Encrypted e = EncryptWithOpenSsl(
      Pbes2(EVP_aes_256_cbc(), NID_hmacWithSHA256, 10), "right", plain);
  SecretBytes out;
  const Pbes2Result r = Pbes2Decrypt(e.alg.get(), e.data.get(), "wrong", &out);
  // Bad padding almost always; when the padding happens to look valid, the
  // bytes are still not the plaintext (and the DER parse after fails).
  if (r == Pbes2Result::kDecrypted) {
    EXPECT_NE(Bytes(out), plain);
  } else {
    EXPECT_EQ(r, Pbes2Result::kFailed);
  }
}

TEST(Pbes2DecryptTest, DamagedCiphertextFails) {
  Encrypted e = EncryptWithOpenSsl(
      Pbes2(EVP_aes_256_cbc(), NID_hmacWithSHA256, 10), "p", "abc");
  SecretBytes out;
  // Not a whole number of blocks.
  ASN1_STRING_set(e.data.get(), "short", 5);
  EXPECT_EQ(Pbes2Decrypt(e.alg.get(), e.data.get(), "p", &out),
            Pbes2Result::kFailed);
  ASN1_STRING_set(e.data.get(), "", 0);
  EXPECT_EQ(Pbes2Decrypt(e.alg.get(), e.data.get(), "p", &out),
            Pbes2Result::kFailed);
}

TEST(Pbes2DecryptTest, LeavesOtherAlgorithmsToOpenSsl) {
  SecretBytes out;
  // PBKDF2 with HMAC-SHA1 (the PRF's default when absent).
  Encrypted sha1 = EncryptWithOpenSsl(
      Pbes2(EVP_aes_256_cbc(), NID_hmacWithSHA1, 10), "p", "abc");
  EXPECT_EQ(Pbes2Decrypt(sha1.alg.get(), sha1.data.get(), "p", &out),
            Pbes2Result::kUnsupported);
  // PBES2 with a cipher other than AES-CBC.
  Encrypted ctr = EncryptWithOpenSsl(
      Pbes2(EVP_des_ede3_cbc(), NID_hmacWithSHA256, 10), "p", "abc");
  EXPECT_EQ(Pbes2Decrypt(ctr.alg.get(), ctr.data.get(), "p", &out),
            Pbes2Result::kUnsupported);
  // The PKCS#12 PBE that OpenSSL 1.x and old Windows wrote.
  unsigned char salt[8] = {};
  Encrypted legacy = EncryptWithOpenSsl(
      PKCS5_pbe_set(NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 10, salt, 8), "p",
      "abc");
  EXPECT_EQ(Pbes2Decrypt(legacy.alg.get(), legacy.data.get(), "p", &out),
            Pbes2Result::kUnsupported);
  EXPECT_EQ(Pbes2Decrypt(nullptr, legacy.data.get(), "p", &out),
            Pbes2Result::kUnsupported);
}

}  // namespace
}  // namespace certbridge

#include "server/certificates/certificate_checks.h"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/certificates/pbes2_decrypt.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct Pkcs12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

std::unique_ptr<BIO, BioFree> MemBio(absl::string_view data) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::Time AsnTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

CertificateFacts FactsOf(X509* cert) {
  CertificateFacts facts;
  std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  facts.subject.assign(data, static_cast<size_t>(len));
  facts.not_before = AsnTime(X509_get0_notBefore(cert));
  facts.not_after = AsnTime(X509_get0_notAfter(cert));
  return facts;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// What both kinds of upload must satisfy once parsed.
absl::Status CheckFacts(const CertificateFacts& facts, absl::Time now,
                        const char* error_reason, absl::string_view field) {
  if (facts.subject.empty()) {
    return MakeValidationError(error_reason, field,
                               "the certificate has an empty subject");
  }
  if (facts.not_after <= now) {
    return MakeValidationError(
        error_reason, field,
        absl::StrCat("the certificate expired at ", Rfc3339(facts.not_after)));
  }
  return absl::OkStatus();
}

}  // namespace

void LoadLegacyPkcs12Support() {
  // Loading "legacy" explicitly would replace the implicit default provider,
  // so both are loaded. Failure only means old RC2 files will not open.
  OSSL_PROVIDER_load(nullptr, "legacy");
  OSSL_PROVIDER_load(nullptr, "default");
  ERR_clear_error();
}

namespace {

struct Pkcs7StackFree {
  void operator()(STACK_OF(PKCS7) * s) const {
    sk_PKCS7_pop_free(s, PKCS7_free);
  }
};
struct BagStackFree {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * s) const {
    sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
  }
};
struct P8Free {
  void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); }
};
struct Pbe2Free {
  void operator()(PBE2PARAM* p) const { PBE2PARAM_free(p); }
};
struct Pbkdf2Free {
  void operator()(PBKDF2PARAM* p) const { PBKDF2PARAM_free(p); }
};
struct PbeFree {
  void operator()(PBEPARAM* p) const { PBEPARAM_free(p); }
};

// OpenSSL 3.0 builds a decoder context for every key it parses by
// enumerating every decoder of every provider: ~500 us of a ~3 ms PKCS#12
// check, against ~30 us for the decoding itself. A context is reusable, not
// shareable, so each check thread keeps one. It writes into `out`, whose
// address it keeps.
class PrivateKeyDecoder {
 public:
  PrivateKeyDecoder()
      : ctx_(OSSL_DECODER_CTX_new_for_pkey(&out_, "DER", "PrivateKeyInfo",
                                           nullptr, EVP_PKEY_KEYPAIR, nullptr,
                                           nullptr)) {}
  ~PrivateKeyDecoder() {
    OSSL_DECODER_CTX_free(ctx_);
    EVP_PKEY_free(out_);
  }
  PrivateKeyDecoder(const PrivateKeyDecoder&) = delete;
  PrivateKeyDecoder& operator=(const PrivateKeyDecoder&) = delete;

  static EVP_PKEY* Decode(const PKCS8_PRIV_KEY_INFO* p8) {
    thread_local PrivateKeyDecoder decoder;
    return decoder.DecodeOne(p8);
  }

 private:
  EVP_PKEY* DecodeOne(const PKCS8_PRIV_KEY_INFO* p8) {
    unsigned char* der = nullptr;
    const int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    if (ctx_ == nullptr || len <= 0) {
      OPENSSL_free(der);
      return EVP_PKCS82PKEY(p8);  // the slow path still gives an answer
    }
    const unsigned char* data = der;
    auto left = static_cast<std::size_t>(len);
    EVP_PKEY_free(out_);
    out_ = nullptr;
    const bool ok = OSSL_DECODER_from_data(ctx_, &data, &left) == 1;
    OPENSSL_clear_free(der, static_cast<std::size_t>(len));  // key material
    EVP_PKEY* key = ok ? out_ : nullptr;
    if (ok) out_ = nullptr;
    return key;
  }

  EVP_PKEY* out_ = nullptr;
  OSSL_DECODER_CTX* ctx_;
};

// The iteration count of a password-based encryption algorithm (PKCS#12
// PBE or PBES1: PBEParameter; PBES2: PBKDF2-params), read without deriving
// anything. -1 when it cannot be read or uses another KDF (e.g. scrypt,
// whose cost is not an iteration count).
long PbeIterations(const X509_ALGOR* alg) {
  if (alg == nullptr || alg->parameter == nullptr ||
      alg->parameter->type != V_ASN1_SEQUENCE) {
    return -1;
  }
  const ASN1_OBJECT* oid = alg->algorithm;
  const ASN1_TYPE* wrapped_param = alg->parameter;
  if (OBJ_obj2nid(oid) == NID_pbes2) {
    std::unique_ptr<PBE2PARAM, Pbe2Free> pbe2(static_cast<PBE2PARAM*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), wrapped_param)));
    if (!pbe2 || pbe2->keyfunc == nullptr ||
        OBJ_obj2nid(pbe2->keyfunc->algorithm) != NID_id_pbkdf2 ||
        pbe2->keyfunc->parameter == nullptr ||
        pbe2->keyfunc->parameter->type != V_ASN1_SEQUENCE) {
      return -1;
    }
    std::unique_ptr<PBKDF2PARAM, Pbkdf2Free> kdf(
        static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(
            ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)));
    return kdf && kdf->iter != nullptr ? ASN1_INTEGER_get(kdf->iter) : -1;
  }
  std::unique_ptr<PBEPARAM, PbeFree> pbe(static_cast<PBEPARAM*>(
      ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), wrapped_param)));
  return pbe && pbe->iter != nullptr ? ASN1_INTEGER_get(pbe->iter) : -1;
}

// Opens a PKCS#12 one piece at a time so that each key derivation is
// priced before it runs, and the MAC is verified exactly once.
class Pkcs12Reader {
 public:
  Pkcs12Reader(std::string pass, const Pkcs12Limits& limits,
               absl::string_view field)
      : pass_(std::move(pass)), limits_(limits), field_(field) {}

  absl::Status Read(PKCS12* p12) {
    if (PKCS12_mac_present(p12)) {
      const ASN1_INTEGER* iter = nullptr;
      PKCS12_get0_mac(nullptr, nullptr, nullptr, &iter, p12);
      // An absent count means 1 (RFC 7292).
      if (auto s = Charge(iter == nullptr ? 1 : ASN1_INTEGER_get(iter));
          !s.ok()) {
        return s;
      }
      if (!VerifyMac(p12)) {
        return Invalid("the passkey does not open this PKCS#12 file");
      }
    }
    std::unique_ptr<STACK_OF(PKCS7), Pkcs7StackFree> safes(
        PKCS12_unpack_authsafes(p12));
    if (!safes) return Invalid("is not a readable PKCS#12 (.p12/.pfx) file");
    for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
      PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
      std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagStackFree> bags;
      switch (OBJ_obj2nid(p7->type)) {
        case NID_pkcs7_data:
          bags.reset(PKCS12_unpack_p7data(p7));
          break;
        case NID_pkcs7_encrypted: {
          if (p7->d.encrypted == nullptr ||
              p7->d.encrypted->enc_data == nullptr) {
            return Invalid("is not a readable PKCS#12 (.p12/.pfx) file");
          }
          if (auto s =
                  Charge(PbeIterations(p7->d.encrypted->enc_data->algorithm));
              !s.ok()) {
            return s;
          }
          bags = DecryptBags(p7);
          break;
        }
        default:
          return Invalid("holds content this check does not understand");
      }
      if (!bags) return Undecryptable();
      if (auto s = ReadBags(bags.get(), 0); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  std::vector<std::unique_ptr<EVP_PKEY, PkeyFree>>& keys() { return keys_; }
  std::vector<std::unique_ptr<X509, X509Free>>& certs() { return certs_; }

 private:
  absl::Status Invalid(absl::string_view why) const {
    return MakeValidationError(reason::kInvalidPkcs12, field_, why);
  }
  absl::Status Undecryptable() const {
    return Invalid(
        "the PKCS#12 file could not be decrypted with the passkey (or uses an "
        "unsupported algorithm)");
  }

  // Accounts for one key derivation before it runs.
  absl::Status Charge(long iterations) {
    if (++derivations_ > limits_.max_derivations) {
      return Invalid(absl::StrCat("needs more than ", limits_.max_derivations,
                                  " key derivations to open"));
    }
    if (iterations < 1) {
      return Invalid("uses a key derivation this check does not support");
    }
    if (iterations > limits_.max_iterations) {
      return Invalid(absl::StrCat(
          "uses ", iterations, " key-derivation iterations; the limit is ",
          limits_.max_iterations, " (pkcs12_max_iterations)"));
    }
    return absl::OkStatus();
  }

  // PKCS12_parse tries an empty passkey both as "" and as no password.
  bool VerifyMac(PKCS12* p12) {
    if (PKCS12_verify_mac(p12, pass_.c_str(), static_cast<int>(pass_.size())) ==
        1) {
      return true;
    }
    return pass_.empty() && PKCS12_verify_mac(p12, nullptr, 0) == 1;
  }

  absl::Status ReadBags(const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
    if (depth > 2) return Invalid("nests its contents too deeply");
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
      if (++bag_count_ > 64) return Invalid("holds too many items");
      const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
      switch (PKCS12_SAFEBAG_get_nid(bag)) {
        case NID_keyBag:
          if (auto s = AddKey(PKCS12_SAFEBAG_get0_p8inf(bag)); !s.ok()) {
            return s;
          }
          break;
        case NID_pkcs8ShroudedKeyBag: {
          const X509_ALGOR* alg = nullptr;
          X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
          if (alg == nullptr) return Undecryptable();
          if (auto s = Charge(PbeIterations(alg)); !s.ok()) return s;
          std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free> p8 = DecryptKey(bag);
          if (!p8) return Undecryptable();
          if (auto s = AddKey(p8.get()); !s.ok()) return s;
          break;
        }
        case NID_certBag:
          if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
            std::unique_ptr<X509, X509Free> cert(PKCS12_SAFEBAG_get1_cert(bag));
            if (!cert)
              return Invalid("holds a certificate that cannot be read");
            certs_.push_back(std::move(cert));
          }
          break;
        case NID_safeContentsBag:
          if (auto s = ReadBags(PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
              !s.ok()) {
            return s;
          }
          break;
        default:
          break;  // CRLs, secrets: nothing to check
      }
    }
    return absl::OkStatus();
  }

  // PBES2 with PBKDF2-HMAC-SHA256 and AES-CBC through the fast path
  // (pbes2_decrypt.h), anything else through OpenSSL; both decrypt the same
  // bytes.
  std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagStackFree> DecryptBags(
      PKCS7* p7) const {
    SecretBytes plain;
    switch (Pbes2Decrypt(p7->d.encrypted->enc_data->algorithm,
                         p7->d.encrypted->enc_data->enc_data, pass_, &plain)) {
      case Pbes2Result::kDecrypted: {
        const unsigned char* p = plain.data();
        // ASN1_VALUE is OpenSSL's opaque "any item" type; the item template
        // says what it is, as in PKCS12_unpack_p7data.
        return std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagStackFree>(
            reinterpret_cast<STACK_OF(PKCS12_SAFEBAG)*>(
                ASN1_item_d2i(nullptr, &p, static_cast<long>(plain.size()),
                              ASN1_ITEM_rptr(PKCS12_SAFEBAGS))));
      }
      case Pbes2Result::kFailed:
        return nullptr;
      case Pbes2Result::kUnsupported:
        break;
    }
    return std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagStackFree>(
        PKCS12_unpack_p7encdata(p7, pass_.c_str(),
                                static_cast<int>(pass_.size())));
  }

  std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free> DecryptKey(
      const PKCS12_SAFEBAG* bag) const {
    const X509_ALGOR* alg = nullptr;
    const ASN1_OCTET_STRING* data = nullptr;
    X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, &data);
    SecretBytes plain;
    switch (Pbes2Decrypt(alg, data, pass_, &plain)) {
      case Pbes2Result::kDecrypted: {
        const unsigned char* p = plain.data();
        return std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free>(
            d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p,
                                    static_cast<long>(plain.size())));
      }
      case Pbes2Result::kFailed:
        return nullptr;
      case Pbes2Result::kUnsupported:
        break;
    }
    return std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free>(PKCS12_decrypt_skey(
        bag, pass_.c_str(), static_cast<int>(pass_.size())));
  }

  absl::Status AddKey(const PKCS8_PRIV_KEY_INFO* p8) {
    if (p8 == nullptr) return Undecryptable();
    std::unique_ptr<EVP_PKEY, PkeyFree> key(PrivateKeyDecoder::Decode(p8));
    if (!key) return Invalid("holds a private key that cannot be read");
    keys_.push_back(std::move(key));
    return absl::OkStatus();
  }

  const std::string pass_;
  const Pkcs12Limits limits_;
  const absl::string_view field_;
  int derivations_ = 0;
  int bag_count_ = 0;
  std::vector<std::unique_ptr<EVP_PKEY, PkeyFree>> keys_;
  std::vector<std::unique_ptr<X509, X509Free>> certs_;
};

}  // namespace

absl::StatusOr<CertificateFacts> CheckPkcs12(absl::string_view der,
                                             absl::string_view passkey,
                                             absl::Time now,
                                             absl::string_view field,
                                             const Pkcs12Limits& limits) {
  auto bio = MemBio(der);
  std::unique_ptr<PKCS12, Pkcs12Free> p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) {
    ERR_clear_error();
    return MakeValidationError(reason::kInvalidPkcs12, field,
                               "is not a PKCS#12 (.p12/.pfx) file");
  }
  Pkcs12Reader reader{std::string(passkey), limits, field};
  absl::Status read = reader.Read(p12.get());
  ERR_clear_error();
  if (!read.ok()) return read;
  if (reader.certs().empty()) {
    return MakeValidationError(reason::kInvalidPkcs12, field,
                               "the PKCS#12 file holds no certificate");
  }
  if (reader.keys().empty()) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        "the PKCS#12 file holds no private key (a signing certificate needs "
        "one)");
  }
  // The signing certificate is the one whose public key is the file's key
  // (the others are its chain).
  X509* cert = nullptr;
  for (const auto& candidate : reader.certs()) {
    if (X509_check_private_key(candidate.get(), reader.keys()[0].get()) == 1) {
      cert = candidate.get();
      break;
    }
  }
  ERR_clear_error();
  if (cert == nullptr) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        "the private key does not match the certificate");
  }
  CertificateFacts facts = FactsOf(cert);
  if (auto s = CheckFacts(facts, now, reason::kInvalidPkcs12, field); !s.ok()) {
    return s;
  }
  // A signing certificate that is not valid yet cannot sign anything now.
  if (facts.not_before > now) {
    return MakeValidationError(
        reason::kInvalidPkcs12, field,
        absl::StrCat("the certificate is not valid before ",
                     Rfc3339(facts.not_before)));
  }
  return facts;
}

absl::StatusOr<CertificateFacts> CheckPemCertificate(absl::string_view pem,
                                                     absl::Time now,
                                                     absl::string_view field) {
  if (!absl::StrContains(pem, "-----BEGIN CERTIFICATE-----")) {
    return MakeValidationError(
        reason::kInvalidPem, field,
        "is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)");
  }
  auto bio = MemBio(pem);
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) {
    return MakeValidationError(
        reason::kInvalidPem, field,
        "the PEM block is not a valid X.509 certificate");
  }
  CertificateFacts facts = FactsOf(cert.get());
  if (auto s = CheckFacts(facts, now, reason::kInvalidPem, field); !s.ok()) {
    return s;
  }
  return facts;
}

}  // namespace certbridge

#include "tests/emulator/test_pki.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace certbridge::emulator {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "test PKI: %s failed\n", what);
  std::abort();
}

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct KeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string ToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) Die("PEM_write X509");
  return BioText(bio.get());
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    Die("PEM_write PrivateKey");
  }
  return BioText(bio.get());
}

X509Ptr ReadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) Die("PEM_read_bio_X509 (TestPki.ca_pem)");
  return cert;
}

KeyPtr ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) Die("PEM_read_bio_PrivateKey (TestPki.ca_key_pem)");
  return key;
}

std::string RandomHex(int bytes) {
  std::string raw(static_cast<std::size_t>(bytes), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes) != 1) {
    Die("RAND_bytes");
  }
  return absl::BytesToHexString(raw);
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) Die(OBJ_nid2sn(nid));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

enum class Kind { kCa, kServer, kClient };

// Makes a fresh key and a certificate for it, signed by `issuer`/`issuer_key`
// (both null: self-signed). `san` is in openssl.cnf syntax ("DNS:a,IP:b").
IssuedCertificate Issue(Kind kind, const std::string& cn, X509* issuer,
                        EVP_PKEY* issuer_key, const std::string& san) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) Die("EVP_EC_gen");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3
  // Random serials: certificates of two test CAs never share issuer+serial.
  BIGNUM* serial = BN_new();
  if (serial == nullptr ||
      BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) ==
          nullptr) {
    Die("serial");
  }
  BN_free(serial);
  // Backdated an hour so that clock skew between processes never matters.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>("certbridge"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(
      cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key.get());
  X509* ext_issuer = issuer != nullptr ? issuer : cert.get();
  AddExtension(cert.get(), ext_issuer, NID_subject_key_identifier, "hash");
  if (kind == Kind::kCa) {
    AddExtension(cert.get(), ext_issuer, NID_basic_constraints,
                 "critical,CA:TRUE");
    AddExtension(cert.get(), ext_issuer, NID_key_usage,
                 "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), ext_issuer, NID_authority_key_identifier,
                 "keyid:always");
    AddExtension(cert.get(), ext_issuer, NID_basic_constraints,
                 "critical,CA:FALSE");
    AddExtension(cert.get(), ext_issuer, NID_key_usage,
                 "critical,digitalSignature");
    AddExtension(cert.get(), ext_issuer, NID_ext_key_usage,
                 kind == Kind::kServer ? "serverAuth" : "clientAuth");
    if (!san.empty()) {
      AddExtension(cert.get(), ext_issuer, NID_subject_alt_name, san);
    }
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key.get(),
                EVP_sha256()) == 0) {
    Die("X509_sign");
  }
  return IssuedCertificate{ToPem(cert.get()), ToPem(key.get())};
}

std::string ServerSans(const std::vector<std::string>& dns_sans,
                       const std::vector<std::string>& ip_sans) {
  std::vector<std::string> parts;
  parts.reserve(dns_sans.size() + ip_sans.size());
  for (const std::string& d : dns_sans) parts.push_back("DNS:" + d);
  for (const std::string& ip : ip_sans) parts.push_back("IP:" + ip);
  return absl::StrJoin(parts, ",");
}

std::string ClientSans(const std::string& uri_san, const std::string& dns_san) {
  std::vector<std::string> parts;
  if (!uri_san.empty()) parts.push_back("URI:" + uri_san);
  if (!dns_san.empty()) parts.push_back("DNS:" + dns_san);
  return absl::StrJoin(parts, ",");
}

IssuedCertificate IssueFromCa(const TestPki& pki, Kind kind,
                              const std::string& cn, const std::string& san) {
  X509Ptr ca = ReadCert(pki.ca_pem);
  KeyPtr ca_key = ReadKey(pki.ca_key_pem);
  return Issue(kind, cn, ca.get(), ca_key.get(), san);
}

absl::Status WriteFile(const std::string& path, const std::string& content,
                       mode_t mode) {
  const int fd =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  // open() does not change the mode of an existing file.
  fchmod(fd, mode);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = std::strerror(errno);
      close(fd);
      return absl::InternalError(
          absl::StrCat("cannot write ", path, ": ", error));
    }
    done += static_cast<std::size_t>(n);
  }
  if (close(fd) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot close ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

TestPki MakeTestPki(const std::vector<std::string>& server_dns_sans,
                    const std::vector<std::string>& server_ip_sans,
                    const std::string& client_uri_san,
                    const std::string& client_dns_san,
                    const std::string& ca_name) {
  TestPki pki;
  // A unique name keeps two test CAs apart in any trust store lookup.
  const std::string name =
      ca_name.empty() ? absl::StrCat("certbridge test CA ", RandomHex(6))
                      : ca_name;
  IssuedCertificate ca = Issue(Kind::kCa, name, nullptr, nullptr, "");
  pki.ca_pem = std::move(ca.cert_pem);
  pki.ca_key_pem = std::move(ca.key_pem);
  IssuedCertificate server =
      IssueServerCertificate(pki, server_dns_sans, server_ip_sans);
  pki.server_cert_pem = std::move(server.cert_pem);
  pki.server_key_pem = std::move(server.key_pem);
  IssuedCertificate client =
      IssueClientCertificate(pki, client_uri_san, client_dns_san);
  pki.client_cert_pem = std::move(client.cert_pem);
  pki.client_key_pem = std::move(client.key_pem);
  return pki;
}

IssuedCertificate IssueClientCertificate(const TestPki& pki,
                                         const std::string& uri_san,
                                         const std::string& dns_san) {
  return IssueFromCa(pki, Kind::kClient, "certbridge test client",
                     ClientSans(uri_san, dns_san));
}

IssuedCertificate IssueServerCertificate(
    const TestPki& pki, const std::vector<std::string>& dns_sans,
    const std::vector<std::string>& ip_sans) {
  const std::string cn = !dns_sans.empty()  ? dns_sans.front()
                         : !ip_sans.empty() ? ip_sans.front()
                                            : "certbridge test server";
  return IssueFromCa(pki, Kind::kServer, cn, ServerSans(dns_sans, ip_sans));
}

absl::Status WritePkiFiles(const TestPki& pki, const std::string& dir) {
  const struct {
    const char* name;
    const std::string& content;
    mode_t mode;
  } files[] = {
      {"ca.pem", pki.ca_pem, 0644},
      {"server.pem", pki.server_cert_pem, 0644},
      {"server.key", pki.server_key_pem, 0600},
      {"client.pem", pki.client_cert_pem, 0644},
      {"client.key", pki.client_key_pem, 0600},
  };
  for (const auto& f : files) {
    absl::Status s =
        WriteFile(absl::StrCat(dir, "/", f.name), f.content, f.mode);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace certbridge::emulator

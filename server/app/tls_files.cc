#include "server/app/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace certbridge {
namespace {

std::string Version(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return absl::StrCat(st.st_ino, ":", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec, ":", st.st_size);
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<absl::Time> CheckServerCertificateFiles(
    const std::string& cert_file, const std::string& key_file, absl::Time now) {
  const std::string cert_pem = Read(cert_file);
  const std::string key_pem = Read(key_file);
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())),
      BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
      BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
      EVP_PKEY_free);
  const bool matches =
      cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_file, " holds no readable PEM certificate"));
  }
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_file, " holds no readable PEM private key"));
  }
  if (!matches) {
    return absl::InvalidArgumentError(
        "the private key does not match the certificate (a rotation half "
        "done?)");
  }
  struct tm tm {};
  ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm);
  const absl::Time not_after = absl::FromTM(tm, absl::UTCTimeZone());
  if (not_after <= now) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate expired at ",
                     absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", not_after,
                                      absl::UTCTimeZone())));
  }
  return not_after;
}

TlsFileWatch::TlsFileWatch(ServerTlsConfig config, Report report)
    : config_(std::move(config)), report_(std::move(report)) {}

void TlsFileWatch::Check() {
  if (!config_.enabled()) return;
  const std::string version =
      Version(config_.cert_file) + "|" + Version(config_.key_file);
  if (version == last_version_) return;
  const bool first = last_version_.empty();
  last_version_ = version;
  auto expiry = CheckServerCertificateFiles(config_.cert_file, config_.key_file,
                                            absl::Now());
  if (!expiry.ok()) {
    LogError(
        "TLS certificate files are not usable; gRPC keeps serving the "
        "last good ones only until its next reload",
        {{"cert_file", config_.cert_file},
         {"key_file", config_.key_file},
         {"error", std::string(expiry.status().message())}});
    report_(false, std::nullopt);
    return;
  }
  if (!first) {
    LogInfo("TLS certificate files changed",
            {{"cert_file", config_.cert_file},
             {"not_after", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *expiry,
                                            absl::UTCTimeZone())}});
  }
  report_(true, *expiry);
}

}  // namespace certbridge

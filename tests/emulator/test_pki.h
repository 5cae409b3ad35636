// A throwaway PKI made at test time for TLS and mTLS tests: a CA, a server
// certificate with configurable DNS/IP SANs (serverAuth) and client
// certificates with configurable URI/DNS SANs (clientAuth). Keys are EC
// P-256 (fast to generate); certificates are valid from an hour ago for 30
// days, so nothing expires mid-run. Every MakeTestPki() call makes a new,
// unrelated CA (its own key and a unique name), which is how a test gets "a
// certificate from some other CA".
//
// Library: certbridge_test_pki (tests/emulator/CMakeLists.txt), OpenSSL only.
// On an OpenSSL failure the functions abort: a test cannot go on without its
// certificates and there is nothing to recover.
#ifndef CERTBRIDGE_TESTS_EMULATOR_TEST_PKI_H_
#define CERTBRIDGE_TESTS_EMULATOR_TEST_PKI_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace certbridge::emulator {

struct TestPki {
  /// The CA certificate: what clients (or an mTLS server) trust.
  std::string ca_pem;
  /// The CA's private key, kept so that more certificates can be issued.
  std::string ca_key_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};

struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

/// A new CA plus a server certificate (CN = the first DNS SAN) and a client
/// certificate signed by it. Empty SAN lists/strings are left out; a client
/// certificate with neither SAN has only its CN ("certbridge test client").
/// `ca_name` "" picks "certbridge test CA <random hex>".
TestPki MakeTestPki(
    const std::vector<std::string>& server_dns_sans = {"localhost"},
    const std::vector<std::string>& server_ip_sans = {"127.0.0.1"},
    const std::string& client_uri_san = "spiffe://test/client",
    const std::string& client_dns_san = "", const std::string& ca_name = "");

/// Another client certificate (clientAuth) from `pki`'s CA.
IssuedCertificate IssueClientCertificate(const TestPki& pki,
                                         const std::string& uri_san,
                                         const std::string& dns_san = "");

/// Another server certificate (serverAuth) from `pki`'s CA, e.g. for a
/// rotation test or one whose SANs do not match the host.
IssuedCertificate IssueServerCertificate(
    const TestPki& pki, const std::vector<std::string>& dns_sans,
    const std::vector<std::string>& ip_sans);

/// Writes ca.pem, server.pem, server.key, client.pem and client.key into the
/// existing directory `dir` (keys with mode 0600).
absl::Status WritePkiFiles(const TestPki& pki, const std::string& dir);

}  // namespace certbridge::emulator

#endif  // CERTBRIDGE_TESTS_EMULATOR_TEST_PKI_H_

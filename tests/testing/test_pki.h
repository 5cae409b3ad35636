// A throwaway PKI made at test time: a CA, a server certificate for
// 127.0.0.1/localhost and client certificates with URI/DNS SANs, for TLS
// and mTLS tests. Nothing is checked in and nothing expires mid-run.
#ifndef CERTBRIDGE_TESTS_TESTING_TEST_PKI_H_
#define CERTBRIDGE_TESTS_TESTING_TEST_PKI_H_

#include <string>

namespace certbridge::testing {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct TestCa {
  std::string name;
  KeyPair ca;
};

/// A self-signed CA (CA:TRUE, keyCertSign).
TestCa MakeTestCa(const std::string& name = "certbridge test CA");

/// A server certificate signed by `ca` for DNS localhost and IP 127.0.0.1.
KeyPair IssueServerCertificate(const TestCa& ca);

/// A client certificate signed by `ca` with the given SANs (either may be
/// empty).
KeyPair IssueClientCertificate(const TestCa& ca, const std::string& uri_san,
                               const std::string& dns_san = "");

/// Writes `content` to `path` (atomically: a watcher never sees half).
void WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_TEST_PKI_H_

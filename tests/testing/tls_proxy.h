// A TLS front for a plaintext loopback server (the emulator) in tests:
// accepts TLS with a given certificate and relays bytes to the backend port,
// so certbridge talks HTTPS with verification to a real peer.
#ifndef CERTBRIDGE_TESTS_TESTING_TLS_PROXY_H_
#define CERTBRIDGE_TESTS_TESTING_TLS_PROXY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace certbridge::testing {

class TlsProxy {
 public:
  /// Listens on 127.0.0.1 (ephemeral port); aborts the test binary on
  /// failure.
  TlsProxy(const std::string& cert_pem, const std::string& key_pem,
           int backend_port);
  ~TlsProxy();

  int port() const { return port_; }
  /// Connections whose TLS handshake failed (e.g. the client rejected us).
  int handshake_failures() const { return handshake_failures_.load(); }

 private:
  void AcceptLoop();
  void Relay(int client_fd);

  void* ctx_ = nullptr;  // SSL_CTX
  int listen_fd_ = -1;
  int port_ = 0;
  const int backend_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> handshake_failures_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;
  std::vector<int> fds_;
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_TLS_PROXY_H_

#include "tests/testing/tls_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace certbridge::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "TlsProxy: %s failed\n", what);
  std::abort();
}

SSL_CTX* Ctx(void* p) { return static_cast<SSL_CTX*>(p); }

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TlsProxy::TlsProxy(const std::string& cert_pem, const std::string& key_pem,
                   int backend_port)
    : backend_port_(backend_port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) Die("SSL_CTX_new");
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  if (cert == nullptr || key == nullptr ||
      SSL_CTX_use_certificate(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    Die("loading the certificate");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  ctx_ = ctx;

  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    Die("bind/listen");
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TlsProxy::~TlsProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : relays_) t.join();
  SSL_CTX_free(Ctx(ctx_));
}

void TlsProxy::AcceptLoop() {
  while (!stopping_) {
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    relays_.emplace_back([this, fd] { Relay(fd); });
  }
}

void TlsProxy::Relay(int client_fd) {
  SSL* ssl = SSL_new(Ctx(ctx_));
  SSL_set_fd(ssl, client_fd);
  if (SSL_accept(ssl) != 1) {
    handshake_failures_++;
    ERR_clear_error();
    SSL_free(ssl);
    close(client_fd);
    return;
  }
  const int backend = ConnectLoopback(backend_port_);
  if (backend < 0) {
    SSL_free(ssl);
    close(client_fd);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(backend);
  }
  char buf[16384];
  bool open = true;
  while (open && !stopping_) {
    // Data already decrypted inside OpenSSL does not show up in poll().
    if (SSL_pending(ssl) == 0) {
      pollfd fds[2] = {{client_fd, POLLIN, 0}, {backend, POLLIN, 0}};
      if (poll(fds, 2, 200) <= 0) continue;
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = read(backend, buf, sizeof(buf));
        if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) {
          open = false;
        }
        continue;
      }
      if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    }
    const int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0) {
      open = false;
    } else if (write(backend, buf, static_cast<size_t>(n)) != n) {
      open = false;
    }
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(backend);
  close(client_fd);
}

}  // namespace certbridge::testing

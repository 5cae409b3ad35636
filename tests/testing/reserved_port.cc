#include "tests/testing/reserved_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace certbridge::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "ReservedPort: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

}  // namespace

ReservedPort::ReservedPort() {
  // SOCK_CLOEXEC: a child process (certbridge-server, the emulator binary)
  // must not inherit the reservation and keep the port after we free it.
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) Die("socket");
  // SO_REUSEADDR (and SO_REUSEPORT) stay off, their default: Linux then
  // refuses any other bind of this port, whatever options that one sets.
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    Die("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof(addr);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("getsockname");
  }
  port_ = ntohs(addr.sin_port);
  // No listen(): a SYN to a bound but not listening socket is answered with
  // RST, so connects fail at once with ECONNREFUSED.
}

ReservedPort::~ReservedPort() {
  if (fd_ >= 0) close(fd_);
}

ReservedPort::ReservedPort(ReservedPort&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(std::exchange(other.port_, 0)) {}

ReservedPort& ReservedPort::operator=(ReservedPort&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    port_ = std::exchange(other.port_, 0);
  }
  return *this;
}

std::string ReservedPort::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string ReservedPort::url() const { return "http://" + address(); }

int ReservedPort::Release() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  return std::exchange(port_, 0);
}

}  // namespace certbridge::testing

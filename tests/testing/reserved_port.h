// A loopback TCP port held for a test without listening on it: the socket is
// bound to 127.0.0.1 (SO_REUSEADDR and SO_REUSEPORT off) but never listens,
// so for as long as the ReservedPort lives a connect() to the port is
// refused (ECONNREFUSED) and no one else -- another test process, an
// ephemeral port picked by the kernel -- can bind it. Unlike "bind port 0,
// close, use the number", nothing can take the port between choosing it and
// using it.
#ifndef CERTBRIDGE_TESTS_TESTING_RESERVED_PORT_H_
#define CERTBRIDGE_TESTS_TESTING_RESERVED_PORT_H_

#include <string>

namespace certbridge::testing {

class ReservedPort {
 public:
  /// Binds 127.0.0.1:0 and reads the port back. Aborts the process if the
  /// kernel has no port to give (a test cannot go on without one).
  ReservedPort();
  /// Closes the socket, freeing the port.
  ~ReservedPort();

  ReservedPort(ReservedPort&& other) noexcept;
  ReservedPort& operator=(ReservedPort&& other) noexcept;
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  /// The reserved port; 0 once moved from or released.
  int port() const { return port_; }
  /// "127.0.0.1:PORT".
  std::string address() const;
  /// "http://127.0.0.1:PORT": a base URL whose connects are refused.
  std::string url() const;

  /// Hands the port over: closes the socket and returns the port, for a
  /// test that wants a real server to come up on it later. From here on the
  /// port is free for anyone again, so bind it straight away.
  int Release();

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_RESERVED_PORT_H_

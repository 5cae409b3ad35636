// A real redis-server (/usr/bin/redis-server) as a child process for the
// Redis client's tests: on 127.0.0.1, a port of its own, no persistence, an
// optional password and optional TLS. Tests stop, pause (SIGSTOP), resume
// and restart it to see how the client behaves when Redis goes away or
// hangs. The child is killed by the destructor and, through
// PR_SET_PDEATHSIG, when the thread that started it dies, so a failed or
// crashed test leaves no redis-server behind.
#ifndef CERTBRIDGE_TESTS_TESTING_REDIS_SERVER_H_
#define CERTBRIDGE_TESTS_TESTING_REDIS_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace certbridge::testing {

struct RedisServerOptions {
  /// --requirepass when not empty.
  std::string password;
  /// TLS only (--port 0 --tls-port PORT); clients are not asked for
  /// certificates. The files must exist (PEM).
  bool tls = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
};

class RedisServer {
 public:
  /// Starts redis-server on a free loopback port and waits (up to 30 s)
  /// until it accepts connections, answering PING when not TLS. Retries
  /// with another port if the chosen one could not be bound.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      RedisServerOptions options = {});

  /// SIGKILLs the server if it runs, reaps it, removes its directory.
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  /// Where its log goes (for a failing test's output).
  std::string log_path() const;

  /// SIGTERM and wait for the exit (SIGKILL after 30 s).
  absl::Status Stop();
  /// SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing.
  absl::Status Pause();
  absl::Status Resume();
  /// Stops it if running and starts it again on the same port.
  absl::Status Restart();

 private:
  RedisServer(RedisServerOptions options, std::string dir);
  /// Spawns and waits until ready; a bind failure is FAILED_PRECONDITION.
  absl::Status Launch(int port);

  RedisServerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_REDIS_SERVER_H_

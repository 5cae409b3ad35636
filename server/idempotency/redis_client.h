// A small non-blocking Redis client: the transport of the Redis-backed
// idempotency store (issue 15), which lets replicas share request_id
// outcomes. Redis I/O must never block a gRPC thread or the curl thread, and
// a Redis that is down or slow must turn into a fast, clear error, so the
// client owns one thread that does all socket, TLS and RESP work; callers
// only enqueue. hiredis 0.14 (Debian 12) is used as the RESP codec only: its
// own I/O has no TLS, no async timeouts and a blocking resolver.
#ifndef CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_CLIENT_H_
#define CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_CLIENT_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certbridge {

/// One RESP2 reply. A Redis error ("-NOSCRIPT ...") is a reply of type
/// kError, not a Status: it is the server's answer to the command, and the
/// caller needs its text (NOSCRIPT, WRONGTYPE, ...) to act on it.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  /// kString, kStatus and kError.
  std::string str;
  /// kInteger.
  long long integer = 0;
  /// kArray.
  std::vector<RedisReply> elements;
};

struct RedisOptions {
  std::string host;
  int port = 6379;
  /// Sent with AUTH on every (re)connect. Never logged nor put in a Status.
  std::optional<std::string> password;
  /// ACL user (AUTH user password); only used with a password.
  std::optional<std::string> username;
  /// SELECTed on every (re)connect when not 0.
  int database = 0;
  bool tls = false;
  /// PEM CA bundle the server's certificate must chain to; empty = the
  /// system store.
  std::string tls_ca_file;
  /// Name sent as SNI and checked against the certificate; empty = host.
  /// An IP address is checked against the IP SANs and not sent as SNI.
  std::string tls_server_name;
  /// Covers name resolution, TCP, TLS and AUTH/SELECT/PING together.
  absl::Duration connect_timeout = absl::Seconds(1);
  /// Default per-command timeout, counted from Command().
  absl::Duration command_timeout = absl::Milliseconds(500);
  /// Commands accepted and not yet answered; beyond it Command() fails at
  /// once (RESOURCE_EXHAUSTED) so memory stays bounded when Redis is slow.
  std::size_t max_pending = 4096;
  /// Largest reply: a reply still incomplete past this many bytes, or with
  /// more than max_reply_bytes / 16 elements, is a connection error. Bounds
  /// what a broken or hostile server can make us buffer.
  std::size_t max_reply_bytes = std::size_t{16} * 1024 * 1024;
  absl::Duration reconnect_backoff_initial = absl::Milliseconds(50);
  absl::Duration reconnect_backoff_max = absl::Seconds(2);
};

/// Errors are absl::Status values, all UNAVAILABLE unless said otherwise,
/// with messages that start "redis HOST:PORT: " and say what failed:
/// connect refused/reset, TLS failure, timeout, "AUTH refused", a reply too
/// large. Messages never contain the password.
///
/// Timeouts: replies are matched to commands in order, so a command whose
/// reply may still arrive cannot be skipped. A command that times out after
/// it was sent closes the connection (failing everything in flight on it)
/// and the client reconnects at once.
///
/// While disconnected after a failure, Command() fails at once with the last
/// connection error instead of waiting; the client reconnects in the
/// background with capped exponential backoff and jitter, and on every
/// connect runs AUTH and SELECT (then PING) before any queued command.
/// Commands issued before the first connection completes wait for it (up
/// to their own timeout).
///
/// A READONLY, MASTERDOWN or LOADING error reply (a demoted or unready
/// node, e.g. after a failover behind the same address) is passed to its
/// caller and then ends the connection like a failure: the client
/// reconnects, resolving the address again, instead of staying on a node
/// that cannot serve writes. Its backoff keeps growing across such
/// reconnects until a command succeeds.
///
/// Thread-safe. Callbacks run on the client's thread, or inline in
/// Command() for an error known at once (invalid command, queue full,
/// disconnected, shutting down). A callback may call Command() but must not
/// destroy the client, and should be quick: it holds up all Redis I/O.
class RedisClient {
 public:
  /// Runs exactly once.
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisReply>) &&>;

  /// Checks the options, loads the TLS CA file and starts the client's
  /// thread; does not wait for the connection. INVALID_ARGUMENT on bad
  /// options.
  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(
      RedisOptions options);

  /// Stops and joins the thread. Every pending callback has run (with
  /// CANCELLED if it was still waiting) by the time it returns; none runs
  /// afterwards. Must not be called from a callback.
  ~RedisClient();

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Sends argv (e.g. {"SET", key, value}) as one command. Never blocks.
  /// argv is encoded before Command() returns (on the caller's thread), so
  /// it is taken by reference and not kept.
  void Command(const std::vector<std::string>& argv, Callback done);
  /// Same with its own timeout instead of options.command_timeout.
  void Command(const std::vector<std::string>& argv, absl::Duration timeout,
               Callback done);

  /// Whether the connection is up and past AUTH/SELECT; for health details.
  bool connected() const;
  /// Why the client is disconnected (the error Command() fails with
  /// meanwhile); empty while connected or before the first attempt ended.
  /// Never contains the password.
  std::string last_error() const;

  class Impl;

 private:
  explicit RedisClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_IDEMPOTENCY_REDIS_CLIENT_H_

// certbridge's configuration as plain structs, loaded from one JSON file and
// validated once at start-up. Every error names the offending field, e.g.
// "backends[1].base_url: must start with http:// or https://".
#ifndef CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_
#define CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace certbridge {

enum class AuthHeaderStyle {
  kXAuthToken,     // X-Auth-Token: <token>
  kBearer,         // Authorization: Bearer <token>
  kAuthorization,  // Authorization: <token> (a bare token, legacy gateways)
};

struct CredentialsConfig {
  enum class Source {
    kNone,
    kFile,               // a static token, re-read when the file changes
    kEnv,                // a static token
    kClientCredentials,  // fetched from the vendor's token endpoint
  };
  Source source = Source::kNone;
  std::string token_file;  // kFile
  std::string token_env;   // kEnv
  // kClientCredentials: the id, and the secret from a file or variable.
  std::string client_id;
  std::string client_secret_file;
  std::string client_secret_env;
  /// Empty: the vendor's documented endpoint under base_url.
  std::string token_url;
  /// Unset: the vendor's documented default, which its stub fills in.
  std::optional<AuthHeaderStyle> header;
};

/// errors.md "Retry rules". Backoff before retry n (1-based) is
/// uniform(0, min(max_backoff, initial_backoff * multiplier^(n-1))), raised
/// to a Retry-After (capped at retry_after_cap), never past the deadline.
struct RetryConfig {
  /// Attempts per call, the first included; 1 disables retries.
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  double multiplier = 2.0;
  absl::Duration retry_after_cap = absl::Seconds(30);
};

/// gRPC's retryThrottling: a failed attempt costs one token, a successful
/// one earns token_ratio; retries stop while tokens <= max_tokens / 2.
struct RetryBudgetConfig {
  double max_tokens = 10;
  double token_ratio = 0.1;
};

/// Opens after `consecutive_failures` failing attempts in a row, or when
/// at least `failure_rate` of the last `window` attempts (once that many
/// were made) failed. Failures: 5xx, timeouts, connection failures -- never
/// 4xx. Open fails fast for `open_duration`, then `half_open_probes` calls
/// go through; that many successes close it, any failure re-opens it.
struct CircuitBreakerConfig {
  bool enabled = true;
  int consecutive_failures = 5;
  double failure_rate = 0.5;
  int window = 20;
  absl::Duration open_duration = absl::Seconds(30);
  int half_open_probes = 1;
};

/// The background sweep that publishes every certificate's expiry as a
/// metric (docs/metrics.md "Inventory"). Off unless enabled.
struct InventoryConfig {
  bool enabled = false;
  /// Between sweeps, jittered by +-10% so replicas and backends drift
  /// apart instead of listing in step.
  absl::Duration interval = absl::Minutes(5);
  /// Projects to sweep, for vendors whose names carry one (Apinizer: one
  /// list per project; required there when enabled). Vendors without
  /// projects refuse the key.
  std::vector<std::string> projects;
  /// Expiry series published per backend; the certificates expiring last
  /// are left out beyond it (and counted).
  int max_series = 10000;
};

/// Shortest inventory interval the configuration accepts: a sweep lists a
/// vendor's whole collection.
inline constexpr absl::Duration kMinInventoryInterval = absl::Seconds(10);
/// Most projects one backend's inventory may sweep.
inline constexpr std::size_t kMaxInventoryProjects = 100;

struct BackendConfig {
  std::string name;
  /// A registered vendor's kind (server/backends/vendor.h).
  std::string kind;
  /// The vendor's API root as its documentation names it (README
  /// "Configuration" gives each vendor's).
  std::string base_url;
  /// Vendor-specific keys, checked by the vendor (Vendor::CheckOptions).
  nlohmann::json options = nlohmann::json::object();
  CredentialsConfig credentials;
  absl::Duration connect_timeout = absl::Seconds(5);
  /// Per HTTP attempt; the caller's deadline bounds it further.
  absl::Duration request_timeout = absl::Seconds(30);
  /// PEM CA bundle for HTTPS backends; empty = system store.
  std::string ca_file;
  /// Plain http:// to a host other than loopback is refused unless set:
  /// tokens and certificates would cross the network in clear.
  bool allow_insecure_http = false;
  RetryConfig retry;
  RetryBudgetConfig retry_budget;
  CircuitBreakerConfig circuit_breaker;
  /// Calls in flight to this backend (retries included) beyond which new
  /// calls fail at once with RESOURCE_EXHAUSTED.
  int max_concurrent_calls = 256;
  InventoryConfig inventory;
};

/// TLS for the gRPC listener. With client_ca_file, callers must present a
/// certificate from that CA (mTLS); allowed_callers then limits which
/// identities may call: "spiffe://..." or any "scheme://..." matches a URI
/// SAN, "dns:name" a DNS SAN. Files are re-read every reload_interval.
struct ServerTlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  absl::Duration reload_interval = absl::Seconds(60);
  std::vector<std::string> allowed_callers;
  bool enabled() const { return !cert_file.empty(); }
};

/// The Redis that replicas share request_id outcomes through
/// (idempotency.redis; docs/configuration.md).
struct RedisStoreConfig {
  /// host:port.
  std::string address;
  std::string host;  // parsed from address
  int port = 0;
  /// AUTH password, read from this file at start; empty = no AUTH.
  std::string password_file;
  /// ACL user for AUTH (with password_file).
  std::string username;
  bool tls = false;
  std::string tls_ca_file;      // empty = the system store
  std::string tls_server_name;  // empty = the address's host
  int database = 0;
  std::string key_prefix = "certbridge:idempotency:";
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Milliseconds(500);
  /// How long a running Create's claim lasts unrenewed: the longest a
  /// repeat waits for a crashed replica's call.
  absl::Duration lease = absl::Seconds(10);
  /// on_unavailable: "fail" (false, the default: a Create with a
  /// request_id fails UNAVAILABLE unsent) or "local" (true: it is
  /// deduplicated in this process only).
  bool fallback_to_local = false;
};

/// Create calls remembered by request_id (AIP-155): per process ("memory",
/// the default) or shared by replicas through Redis ("redis").
struct IdempotencyConfig {
  absl::Duration ttl = absl::Minutes(10);
  int max_entries = 10000;
  std::string store = "memory";
  RedisStoreConfig redis;
};

/// What one process may hold and do at once; the figures a pod is sized by
/// (README "Sizing").
struct LimitsConfig {
  /// Bytes held by requests in flight. A call reserves about twice its
  /// request's size (the request and the upload body built from it) until
  /// it finishes; past the budget it fails at once with RESOURCE_EXHAUSTED.
  std::int64_t max_request_bytes_in_flight = std::int64_t{128} << 20;
  /// Per key derivation of an uploaded PKCS#12 (see Pkcs12Limits).
  int pkcs12_max_iterations = 100000;
  /// Threads and queue for opening uploaded files off the gRPC threads.
  int certificate_check_threads = 2;
  int certificate_check_queue = 64;
  /// HTTP/2 streams per client connection (advertised in SETTINGS).
  int max_concurrent_streams = 100;
  /// Connections idle this long are closed (zero: never).
  absl::Duration max_connection_idle = absl::Minutes(10);
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1:50051";
  /// Prometheus /metrics; empty disables the endpoint.
  std::string metrics_address = "127.0.0.1:9464";
  /// grpc.reflection.v1 and v1alpha ServerReflection, so generic tools can call
  /// the service without the .proto files.
  bool reflection = true;
  ServerTlsConfig tls;
  /// gRPC keeps one HTTP/2 connection per client for as long as it can;
  /// closing it (GOAWAY) after this age makes clients reconnect and spreads
  /// them over new replicas. Zero disables.
  absl::Duration max_connection_age = absl::Minutes(5);
  /// After SIGTERM the server keeps serving, reporting NOT_SERVING, for this
  /// long -- so Kubernetes removes the pod from its endpoints before the
  /// listener closes -- and only then stops accepting calls.
  absl::Duration shutdown_drain_delay = absl::Seconds(5);
  /// Then: how long in-flight calls may take to finish.
  absl::Duration shutdown_grace_period = absl::Seconds(20);
  /// A second, plaintext listener serving only grpc.health.v1.Health (the
  /// same statuses), for kubelet probes when the main listener needs TLS.
  /// Empty: none.
  std::string health_listen_address;
  /// Applied to calls that arrive without a deadline.
  absl::Duration default_deadline = absl::Seconds(60);
  std::string log_level = "info";
  /// A file holding the key that signs ListCertificates page tokens (at
  /// least 32 bytes, e.g. 32 random bytes from a Secret): every replica
  /// given the same file accepts the others' tokens, also across restarts.
  /// Empty: each process makes a random key, and a token is valid only on
  /// the process that issued it.
  std::string page_token_key_file;
  IdempotencyConfig idempotency;
  LimitsConfig limits;
  std::vector<BackendConfig> backends;
};

/// Parses and validates a configuration document.
absl::StatusOr<ServerConfig> ParseServerConfig(absl::string_view json_text);

/// listen_address, metrics_address and health_listen_address are
/// HOST:PORT with a port in 0..65535 (the optional ones may be empty). Part
/// of ParseServerConfig; call again after overriding an address.
absl::Status CheckAddresses(const ServerConfig& config);

/// The files a configuration names can be read and hold what they should
/// (PEM certificates in CA bundles): checked when a server starts, so a
/// missing bundle stops start-up instead of failing every call later.
absl::Status CheckConfiguredFiles(const ServerConfig& config);

/// The contents of page_token_key_file ("" when none is configured);
/// INVALID_ARGUMENT naming the field when it cannot be read or holds fewer
/// than kMinPageTokenKeyBytes bytes. Never puts the key in a message.
absl::StatusOr<std::string> ReadPageTokenKey(const ServerConfig& config);

/// The Redis AUTH password (idempotency.redis.password_file) without a
/// trailing newline; nullopt without a file. Errors name the file, never
/// its content.
absl::StatusOr<std::optional<std::string>> ReadRedisPassword(
    const RedisStoreConfig& redis);
inline constexpr std::size_t kMinPageTokenKeyBytes = 32;

/// Reads `path` and parses it; errors name the file.
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_CONFIG_SERVER_CONFIG_H_

// The configuration document (server_config.h). Properties: no exception
// escapes (the parser walks nlohmann::json with at()/get<>()); errors are
// INVALID_ARGUMENT with a message naming something; an accepted
// configuration satisfies every rule the parser promises, so the rest of
// the server may rely on them.
//
// Note: tls.{cert,key,client_ca}_file are checked for readability, so the
// fuzzer opens (never reads or writes) whatever paths it invents.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "server/common/resource_name.h"
#include "server/config/server_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using certbridge::BackendConfig;
using certbridge::CredentialsConfig;

void CheckBackend(const BackendConfig& b) {
  FUZZ_CHECK(certbridge::IsValidBackendName(b.name));
  // libcurl decides (scheme case, slashes); the scheme must be HTTP(S).
  const std::string url = absl::AsciiStrToLower(b.base_url);
  FUZZ_CHECK(absl::StartsWith(url, "http:") || absl::StartsWith(url, "https:"));
  FUZZ_CHECK(!absl::EndsWith(b.base_url, "/"));
  FUZZ_CHECK(b.credentials.source != CredentialsConfig::Source::kNone);
  if (b.credentials.source == CredentialsConfig::Source::kClientCredentials) {
    FUZZ_CHECK(!b.credentials.client_id.empty());
    FUZZ_CHECK(b.credentials.client_secret_file.empty() !=
               b.credentials.client_secret_env.empty());
  }
  FUZZ_CHECK(b.connect_timeout > absl::ZeroDuration());
  FUZZ_CHECK(b.request_timeout > absl::ZeroDuration());
  FUZZ_CHECK(b.retry.max_attempts >= 1 && b.retry.max_attempts <= 10);
  FUZZ_CHECK(b.retry.initial_backoff > absl::ZeroDuration());
  FUZZ_CHECK(b.retry.max_backoff >= b.retry.initial_backoff);
  FUZZ_CHECK(b.retry.multiplier >= 1.0 && b.retry.multiplier <= 10.0);
  FUZZ_CHECK(b.retry.retry_after_cap > absl::ZeroDuration());
  FUZZ_CHECK(b.retry_budget.max_tokens >= 1 &&
             b.retry_budget.max_tokens <= 1000);
  FUZZ_CHECK(b.retry_budget.token_ratio > 0 && b.retry_budget.token_ratio <= 1);
  const auto& cb = b.circuit_breaker;
  FUZZ_CHECK(cb.consecutive_failures >= 1 && cb.consecutive_failures <= 1000);
  FUZZ_CHECK(cb.failure_rate > 0 && cb.failure_rate <= 1);
  FUZZ_CHECK(cb.window >= 2 && cb.window <= 10000);
  FUZZ_CHECK(cb.open_duration > absl::ZeroDuration());
  FUZZ_CHECK(cb.half_open_probes >= 1 && cb.half_open_probes <= 100);
  FUZZ_CHECK(b.max_concurrent_calls >= 1 && b.max_concurrent_calls <= 100000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config =
      certbridge::ParseServerConfig(certbridge::fuzz::AsText(data, size));
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!config.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!config->backends.empty());
  std::set<std::string> names;
  for (const BackendConfig& b : config->backends) {
    CheckBackend(b);
    FUZZ_CHECK(names.insert(b.name).second);
  }
  FUZZ_CHECK(config->default_deadline > absl::ZeroDuration());
  FUZZ_CHECK(config->shutdown_grace_period > absl::ZeroDuration());
  FUZZ_CHECK(config->idempotency.ttl > absl::ZeroDuration());
  FUZZ_CHECK(config->idempotency.max_entries >= 1 &&
             config->idempotency.max_entries <= 10000000);
  if (!config->tls.allowed_callers.empty()) {
    FUZZ_CHECK(!config->tls.client_ca_file.empty());
  }
  if (config->tls.enabled()) FUZZ_CHECK(!config->tls.key_file.empty());
  return 0;
}

// Unknown keys are errors, not warnings: a misspelt "request_timout" that
// silently falls back to a default is the kind of mistake operators only
// find during an incident.
#include "server/config/server_config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "server/common/log.h"
#include "server/common/resource_name.h"

namespace certbridge {
namespace {

using nlohmann::json;

absl::Status FieldError(absl::string_view path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
}

absl::Status CheckKeys(const json& obj, absl::string_view path,
                       const std::set<std::string>& allowed) {
  if (!obj.is_object()) return FieldError(path, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    if (allowed.count(key) == 0) {
      return FieldError(path.empty() ? key : absl::StrCat(path, ".", key),
                        absl::StrCat("unknown key (allowed: ",
                                     absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status GetString(const json& obj, const std::string& key,
                       absl::string_view path, std::string* out) {
  if (!obj.contains(key)) return absl::OkStatus();
  const json& v = obj.at(key);
  if (!v.is_string()) {
    return FieldError(absl::StrCat(path, key), "must be a string");
  }
  *out = v.get<std::string>();
  return absl::OkStatus();
}

constexpr absl::Duration kMaxConfigDuration = absl::Hours(168);

absl::Status GetDuration(const json& obj, const std::string& key,
                         absl::string_view path, absl::Duration* out,
                         bool zero_allowed = false) {
  std::string text;
  if (!obj.contains(key)) return absl::OkStatus();
  if (auto s = GetString(obj, key, path, &text); !s.ok()) return s;
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() ||
      (d == absl::ZeroDuration() && !zero_allowed) ||
      d == absl::InfiniteDuration()) {
    return FieldError(
        absl::StrCat(path, key),
        zero_allowed ? "must be a duration such as \"5m\", or \"0\" to disable"
                     : "must be a positive duration such as \"500ms\" or "
                       "\"10s\"");
  }
  // gRPC takes some of these as int milliseconds (24.8 days at most); no
  // setting here needs more than a week.
  if (d > kMaxConfigDuration) {
    return FieldError(absl::StrCat(path, key), "must be at most 168h (a week)");
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseCredentials(const json& obj, absl::string_view path,
                              CredentialsConfig* out) {
  if (auto s = CheckKeys(
          obj, path,
          {"header", "token_file", "token_env", "client_credentials"});
      !s.ok()) {
    return s;
  }
  const std::string prefix = absl::StrCat(path, ".");
  std::string header;
  if (auto s = GetString(obj, "header", prefix, &header); !s.ok()) return s;
  if (header == "x-auth-token") {
    out->header = AuthHeaderStyle::kXAuthToken;
  } else if (header == "bearer") {
    out->header = AuthHeaderStyle::kBearer;
  } else if (header == "authorization") {
    out->header = AuthHeaderStyle::kAuthorization;
  } else if (!header.empty()) {
    return FieldError(absl::StrCat(prefix, "header"),
                      "must be \"x-auth-token\", \"bearer\" or "
                      "\"authorization\"");
  }
  if (auto s = GetString(obj, "token_file", prefix, &out->token_file);
      !s.ok()) {
    return s;
  }
  if (auto s = GetString(obj, "token_env", prefix, &out->token_env); !s.ok()) {
    return s;
  }
  if (obj.contains("client_credentials")) {
    const json& cc = obj.at("client_credentials");
    const std::string cp = absl::StrCat(prefix, "client_credentials");
    if (auto s = CheckKeys(cc, cp,
                           {"client_id", "client_secret_file",
                            "client_secret_env", "token_url"});
        !s.ok()) {
      return s;
    }
    const std::string p = cp + ".";
    for (absl::Status s :
         {GetString(cc, "client_id", p, &out->client_id),
          GetString(cc, "client_secret_file", p, &out->client_secret_file),
          GetString(cc, "client_secret_env", p, &out->client_secret_env),
          GetString(cc, "token_url", p, &out->token_url)}) {
      if (!s.ok()) return s;
    }
    if (out->client_id.empty())
      return FieldError(p + "client_id", "is required");
    if (out->client_secret_file.empty() == out->client_secret_env.empty()) {
      return FieldError(cp,
                        "needs exactly one of client_secret_file and "
                        "client_secret_env");
    }
    if (!out->token_file.empty() || !out->token_env.empty()) {
      return FieldError(path,
                        "set either a static token or client_credentials");
    }
    out->source = CredentialsConfig::Source::kClientCredentials;
    return absl::OkStatus();
  }
  if (!out->token_file.empty() && !out->token_env.empty()) {
    return FieldError(path, "set only one of token_file and token_env");
  }
  if (!out->token_file.empty()) {
    out->source = CredentialsConfig::Source::kFile;
  } else if (!out->token_env.empty()) {
    out->source = CredentialsConfig::Source::kEnv;
  } else {
    return FieldError(path,
                      "needs token_file, token_env or client_credentials");
  }
  return absl::OkStatus();
}

absl::Status GetNumber(const json& obj, const std::string& key,
                       absl::string_view path, double min, double max,
                       double* out) {
  if (!obj.contains(key)) return absl::OkStatus();
  const json& v = obj.at(key);
  if (!v.is_number() || v.get<double>() < min || v.get<double>() > max) {
    return FieldError(
        absl::StrCat(path, key),
        absl::StrCat("must be a number in [", min, ", ", max, "]"));
  }
  *out = v.get<double>();
  return absl::OkStatus();
}

absl::Status GetInt(const json& obj, const std::string& key,
                    absl::string_view path, int min, int max, int* out) {
  if (!obj.contains(key)) return absl::OkStatus();
  const json& v = obj.at(key);
  if (!v.is_number_integer() || v.get<long long>() < min ||
      v.get<long long>() > max) {
    return FieldError(
        absl::StrCat(path, key),
        absl::StrCat("must be an integer in [", min, ", ", max, "]"));
  }
  *out = v.get<int>();
  return absl::OkStatus();
}

absl::Status GetBool(const json& obj, const std::string& key,
                     absl::string_view path, bool* out) {
  if (!obj.contains(key)) return absl::OkStatus();
  const json& v = obj.at(key);
  if (!v.is_boolean()) {
    return FieldError(absl::StrCat(path, key), "must be true or false");
  }
  *out = v.get<bool>();
  return absl::OkStatus();
}

absl::Status ParseRetry(const json& t, const std::string& tp, RetryConfig* r) {
  if (auto s = CheckKeys(t, tp,
                         {"max_attempts", "initial_backoff", "max_backoff",
                          "multiplier", "retry_after_cap"});
      !s.ok()) {
    return s;
  }
  const std::string p = tp + ".";
  for (absl::Status s :
       {GetInt(t, "max_attempts", p, 1, 10, &r->max_attempts),
        GetDuration(t, "initial_backoff", p, &r->initial_backoff),
        GetDuration(t, "max_backoff", p, &r->max_backoff),
        GetNumber(t, "multiplier", p, 1.0, 10.0, &r->multiplier),
        GetDuration(t, "retry_after_cap", p, &r->retry_after_cap)}) {
    if (!s.ok()) return s;
  }
  if (r->max_backoff < r->initial_backoff) {
    return FieldError(p + "max_backoff", "must be >= initial_backoff");
  }
  return absl::OkStatus();
}

absl::Status ParseBudget(const json& t, const std::string& tp,
                         RetryBudgetConfig* b) {
  if (auto s = CheckKeys(t, tp, {"max_tokens", "token_ratio"}); !s.ok()) {
    return s;
  }
  const std::string p = tp + ".";
  if (auto s = GetNumber(t, "max_tokens", p, 1, 1000, &b->max_tokens);
      !s.ok()) {
    return s;
  }
  return GetNumber(t, "token_ratio", p, 0.001, 1, &b->token_ratio);
}

absl::Status ParseBreaker(const json& t, const std::string& tp,
                          CircuitBreakerConfig* c) {
  if (auto s = CheckKeys(t, tp,
                         {"enabled", "consecutive_failures", "failure_rate",
                          "window", "open_duration", "half_open_probes"});
      !s.ok()) {
    return s;
  }
  const std::string p = tp + ".";
  for (absl::Status s :
       {GetBool(t, "enabled", p, &c->enabled),
        GetInt(t, "consecutive_failures", p, 1, 1000, &c->consecutive_failures),
        GetNumber(t, "failure_rate", p, 0.01, 1, &c->failure_rate),
        GetInt(t, "window", p, 2, 10000, &c->window),
        GetDuration(t, "open_duration", p, &c->open_duration),
        GetInt(t, "half_open_probes", p, 1, 100, &c->half_open_probes)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Whether projects suit the backend's vendor is checked when the backends
// are built (the parser does not know vendors); here only their spelling.
absl::Status ParseInventory(const json& t, const std::string& tp,
                            InventoryConfig* out) {
  if (auto s =
          CheckKeys(t, tp, {"enabled", "interval", "projects", "max_series"});
      !s.ok()) {
    return s;
  }
  const std::string p = tp + ".";
  for (absl::Status s :
       {GetBool(t, "enabled", p, &out->enabled),
        GetDuration(t, "interval", p, &out->interval),
        GetInt(t, "max_series", p, 1, 1000000, &out->max_series)}) {
    if (!s.ok()) return s;
  }
  if (out->interval < kMinInventoryInterval) {
    return FieldError(p + "interval",
                      absl::StrCat("must be at least ",
                                   absl::FormatDuration(kMinInventoryInterval),
                                   " (each sweep lists the whole collection)"));
  }
  if (t.contains("projects")) {
    const json& projects = t.at("projects");
    if (!projects.is_array() || projects.size() > kMaxInventoryProjects) {
      return FieldError(p + "projects",
                        absl::StrCat("must be an array of at most ",
                                     kMaxInventoryProjects, " project names"));
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < projects.size(); ++i) {
      const std::string field = absl::StrCat(p, "projects[", i, "]");
      if (!projects[i].is_string())
        return FieldError(field, "must be a string");
      std::string project = projects[i].get<std::string>();
      // The message already names the field; a plain status as every
      // configuration error is.
      if (auto s = CheckNameSegment(project, field); !s.ok()) {
        return absl::InvalidArgumentError(s.message());
      }
      if (!seen.insert(project).second) {
        return FieldError(field,
                          absl::StrCat("duplicate project \"", project, "\""));
      }
      out->projects.push_back(std::move(project));
    }
  }
  return absl::OkStatus();
}

// Whether `host`, as libcurl will connect to it, is this machine: the name
// localhost, an IPv4 literal in 127.0.0.0/8 or the IPv6 literal ::1. A
// name that merely starts with "127." (127.attacker.example) is not.
bool IsLoopbackHost(std::string host) {
  host = absl::AsciiStrToLower(host);
  if (absl::EndsWith(host, ".")) host.pop_back();
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

// A backend URL (base_url, token_url) parsed the way libcurl will use it.
// Messages name the field, never the URL: it may hold a password.
absl::Status CheckBackendUrl(const std::string& url, const std::string& field,
                             bool allow_insecure_http) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(),
                                                             curl_url_cleanup);
  if (parsed == nullptr ||
      curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return FieldError(field, "is not a valid URL");
  }
  auto part = [&](CURLUPart which) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(parsed.get(), which, &value, 0) != CURLUE_OK ||
        value == nullptr) {
      return std::nullopt;
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  const std::string scheme = part(CURLUPART_SCHEME).value_or("");
  // libcurl forgives "https:/host"; a configuration should not rely on it.
  if ((scheme != "http" && scheme != "https") ||
      !absl::StartsWith(url, scheme + "://")) {
    return FieldError(field, "must start with http:// or https://");
  }
  if (part(CURLUPART_USER) || part(CURLUPART_PASSWORD) ||
      part(CURLUPART_OPTIONS)) {
    return FieldError(field,
                      "must not contain credentials (user:password@); "
                      "configure them under auth");
  }
  if (part(CURLUPART_QUERY) || part(CURLUPART_FRAGMENT)) {
    return FieldError(field, "must not contain a query or fragment");
  }
  const std::string host = part(CURLUPART_HOST).value_or("");
  if (host.empty()) return FieldError(field, "has no host");
  if (scheme == "http" && !allow_insecure_http && !IsLoopbackHost(host)) {
    return FieldError(field,
                      "plain http:// to a non-loopback host sends tokens, "
                      "client secrets and certificates in clear; use "
                      "https:// or set tls.allow_insecure_http");
  }
  return absl::OkStatus();
}

// host:port, [v6]:port, with a port in 0..65535 (0: any free port).
absl::Status CheckListenAddress(const std::string& address,
                                absl::string_view field) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return FieldError(field, "must be HOST:PORT, e.g. 0.0.0.0:50051");
  }
  int port = -1;
  if (!absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return FieldError(field, "the port must be a number from 0 to 65535");
  }
  return absl::OkStatus();
}

// A file of PEM certificates that can be read now: a missing or empty CA
// bundle would otherwise start healthy and fail every call.
absl::Status CheckPemFile(const std::string& path, absl::string_view field) {
  std::ifstream in(path);
  if (!in) return FieldError(field, absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN CERTIFICATE-----")) {
    return FieldError(field, absl::StrCat(path, " holds no PEM certificate"));
  }
  return absl::OkStatus();
}

absl::Status ParseServerTls(const json& t, ServerTlsConfig* out) {
  if (auto s = CheckKeys(t, "tls",
                         {"cert_file", "key_file", "client_ca_file",
                          "reload_interval", "allowed_callers"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s :
       {GetString(t, "cert_file", "tls.", &out->cert_file),
        GetString(t, "key_file", "tls.", &out->key_file),
        GetString(t, "client_ca_file", "tls.", &out->client_ca_file),
        GetDuration(t, "reload_interval", "tls.", &out->reload_interval)}) {
    if (!s.ok()) return s;
  }
  if (out->cert_file.empty() || out->key_file.empty()) {
    return FieldError("tls", "needs cert_file and key_file");
  }
  if (t.contains("allowed_callers")) {
    const json& callers = t.at("allowed_callers");
    if (!callers.is_array()) {
      return FieldError("tls.allowed_callers", "must be an array of strings");
    }
    for (const json& c : callers) {
      if (!c.is_string() || (!absl::StrContains(c.get<std::string>(), "://") &&
                             !absl::StartsWith(c.get<std::string>(), "dns:"))) {
        return FieldError("tls.allowed_callers",
                          "entries are URI SANs (e.g. spiffe://domain/sa) or "
                          "dns:NAME");
      }
      out->allowed_callers.push_back(c.get<std::string>());
    }
    if (!out->allowed_callers.empty() && out->client_ca_file.empty()) {
      return FieldError("tls.allowed_callers",
                        "needs tls.client_ca_file (callers are identified by "
                        "their client certificates)");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseBackend(const json& obj, const std::string& path,
                          BackendConfig* out) {
  if (auto s = CheckKeys(obj, path,
                         {"name", "kind", "base_url", "auth", "timeouts", "tls",
                          "retry", "retry_budget", "circuit_breaker",
                          "max_concurrent_calls", "options", "inventory"});
      !s.ok()) {
    return s;
  }
  const std::string prefix = path + ".";
  if (auto s = GetString(obj, "name", prefix, &out->name); !s.ok()) return s;
  if (!IsValidBackendName(out->name)) {
    return FieldError(prefix + "name",
                      "must match [a-z][a-z0-9-]{0,62} (it appears in "
                      "resource names and metric labels)");
  }
  // Which kinds exist is the vendor registry's business (checked when the
  // backends are built); here only the spelling.
  if (auto s = GetString(obj, "kind", prefix, &out->kind); !s.ok()) return s;
  if (!IsValidKindName(out->kind)) {
    return FieldError(prefix + "kind",
                      "must be a backend kind: a lower-case letter, then "
                      "lower-case letters, digits, '-' or '_'");
  }
  if (obj.contains("options")) {
    if (!obj.at("options").is_object()) {
      return FieldError(prefix + "options", "must be an object");
    }
    out->options = obj.at("options");
  }
  if (auto s = GetString(obj, "base_url", prefix, &out->base_url); !s.ok()) {
    return s;
  }
  if (!absl::StartsWith(out->base_url, "http://") &&
      !absl::StartsWith(out->base_url, "https://")) {
    return FieldError(prefix + "base_url",
                      "must start with http:// or https://");
  }
  while (absl::EndsWith(out->base_url, "/")) out->base_url.pop_back();
  if (!obj.contains("auth")) return FieldError(prefix + "auth", "is required");
  if (auto s =
          ParseCredentials(obj.at("auth"), prefix + "auth", &out->credentials);
      !s.ok()) {
    return s;
  }
  if (obj.contains("timeouts")) {
    const json& t = obj.at("timeouts");
    const std::string tp = prefix + "timeouts";
    if (auto s = CheckKeys(t, tp, {"connect", "request"}); !s.ok()) return s;
    if (auto s = GetDuration(t, "connect", tp + ".", &out->connect_timeout);
        !s.ok()) {
      return s;
    }
    if (auto s = GetDuration(t, "request", tp + ".", &out->request_timeout);
        !s.ok()) {
      return s;
    }
  }
  if (obj.contains("tls")) {
    const json& t = obj.at("tls");
    const std::string tp = prefix + "tls";
    if (auto s = CheckKeys(t, tp, {"ca_file", "allow_insecure_http"});
        !s.ok()) {
      return s;
    }
    if (auto s = GetString(t, "ca_file", tp + ".", &out->ca_file); !s.ok()) {
      return s;
    }

    if (auto s = GetBool(t, "allow_insecure_http", tp + ".",
                         &out->allow_insecure_http);
        !s.ok()) {
      return s;
    }
  }
  if (auto s = CheckBackendUrl(out->base_url, prefix + "base_url",
                               out->allow_insecure_http);
      !s.ok()) {
    return s;
  }
  // The token endpoint receives the client secret: the same rules.
  if (!out->credentials.token_url.empty()) {
    if (auto s = CheckBackendUrl(out->credentials.token_url,
                                 prefix + "auth.client_credentials.token_url",
                                 out->allow_insecure_http);
        !s.ok()) {
      return s;
    }
  }
  if (obj.contains("retry")) {
    if (auto s = ParseRetry(obj.at("retry"), prefix + "retry", &out->retry);
        !s.ok()) {
      return s;
    }
  }
  if (obj.contains("retry_budget")) {
    if (auto s = ParseBudget(obj.at("retry_budget"), prefix + "retry_budget",
                             &out->retry_budget);
        !s.ok()) {
      return s;
    }
  }
  if (obj.contains("circuit_breaker")) {
    if (auto s =
            ParseBreaker(obj.at("circuit_breaker"), prefix + "circuit_breaker",
                         &out->circuit_breaker);
        !s.ok()) {
      return s;
    }
  }
  if (obj.contains("inventory")) {
    if (auto s = ParseInventory(obj.at("inventory"), prefix + "inventory",
                                &out->inventory);
        !s.ok()) {
      return s;
    }
  }
  return GetInt(obj, "max_concurrent_calls", prefix, 1, 100000,
                &out->max_concurrent_calls);
}

// A byte count: an integer, or a string with a unit ("64MiB", "1GiB").
absl::Status GetBytes(const json& obj, const std::string& key,
                      absl::string_view path, std::int64_t min,
                      std::int64_t* out) {
  if (!obj.contains(key)) return absl::OkStatus();
  const json& v = obj.at(key);
  std::int64_t bytes = -1;
  if (v.is_number_integer()) {
    bytes = v.get<std::int64_t>();
  } else if (v.is_string()) {
    std::string text = v.get<std::string>();
    std::int64_t unit = 1;
    if (absl::EndsWith(text, "KiB")) {
      unit = std::int64_t{1} << 10;
    } else if (absl::EndsWith(text, "MiB")) {
      unit = std::int64_t{1} << 20;
    } else if (absl::EndsWith(text, "GiB")) {
      unit = std::int64_t{1} << 30;
    }
    if (unit != 1) text.resize(text.size() - 3);
    std::int64_t n = 0;
    if (absl::SimpleAtoi(text, &n) && n >= 0 && n <= (std::int64_t{1} << 40)) {
      bytes = n * unit;
    }
  }
  if (bytes < min) {
    return FieldError(absl::StrCat(path, key),
                      absl::StrCat("must be a byte count of at least ", min,
                                   " (an integer, or e.g. \"128MiB\")"));
  }
  *out = bytes;
  return absl::OkStatus();
}

absl::Status ParseRedisStore(const json& t, RedisStoreConfig* out) {
  const std::string tp = "idempotency.redis";
  if (auto s =
          CheckKeys(t, tp,
                    {"address", "password_file", "username", "tls", "database",
                     "key_prefix", "timeouts", "on_unavailable"});
      !s.ok()) {
    return s;
  }
  const std::string p = tp + ".";
  if (auto s = GetString(t, "address", p, &out->address); !s.ok()) return s;
  // host:port, [v6]:port; the port is required so that no one connects to
  // a default they did not mean.
  const std::size_t colon = out->address.rfind(':');
  int port = 0;
  std::string host =
      colon == std::string::npos ? "" : out->address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || colon == std::string::npos ||
      !absl::SimpleAtoi(out->address.substr(colon + 1), &port) || port < 1 ||
      port > 65535) {
    return FieldError(p + "address", "must be host:port, e.g. redis:6379");
  }
  out->host = host;
  out->port = port;
  if (auto s = GetString(t, "password_file", p, &out->password_file); !s.ok()) {
    return s;
  }
  if (auto s = GetString(t, "username", p, &out->username); !s.ok()) return s;
  if (!out->username.empty() && out->password_file.empty()) {
    return FieldError(p + "username", "needs password_file");
  }
  if (t.contains("tls")) {
    const json& tls = t.at("tls");
    const std::string tlp = p + "tls";
    if (auto s = CheckKeys(tls, tlp, {"enabled", "ca_file", "server_name"});
        !s.ok()) {
      return s;
    }
    for (absl::Status s :
         {GetBool(tls, "enabled", tlp + ".", &out->tls),
          GetString(tls, "ca_file", tlp + ".", &out->tls_ca_file),
          GetString(tls, "server_name", tlp + ".", &out->tls_server_name)}) {
      if (!s.ok()) return s;
    }
  }
  if (auto s = GetInt(t, "database", p, 0, 1023, &out->database); !s.ok()) {
    return s;
  }
  if (auto s = GetString(t, "key_prefix", p, &out->key_prefix); !s.ok()) {
    return s;
  }
  if (out->key_prefix.size() > 128) {
    return FieldError(p + "key_prefix", "must be at most 128 bytes");
  }
  if (t.contains("timeouts")) {
    const json& to = t.at("timeouts");
    const std::string top = p + "timeouts";
    if (auto s = CheckKeys(to, top, {"connect", "command", "lease"}); !s.ok()) {
      return s;
    }
    for (absl::Status s :
         {GetDuration(to, "connect", top + ".", &out->connect_timeout),
          GetDuration(to, "command", top + ".", &out->command_timeout),
          GetDuration(to, "lease", top + ".", &out->lease)}) {
      if (!s.ok()) return s;
    }
    if (out->lease < absl::Seconds(1)) {
      return FieldError(top + ".lease",
                        "must be at least 1s (it is renewed every third)");
    }
    // A renewal sent a third into the lease must be able to fail once and
    // be retried before the lease lapses under a call that is still running.
    if (out->command_timeout * 4 > out->lease) {
      return FieldError(top + ".command",
                        "must be at most a quarter of timeouts.lease (a "
                        "renewal must fit in the lease, with a retry)");
    }
  }
  std::string on_unavailable = "fail";
  if (auto s = GetString(t, "on_unavailable", p, &on_unavailable); !s.ok()) {
    return s;
  }
  if (on_unavailable != "fail" && on_unavailable != "local") {
    return FieldError(p + "on_unavailable", "must be \"fail\" or \"local\"");
  }
  out->fallback_to_local = on_unavailable == "local";
  return absl::OkStatus();
}

absl::Status ParseIdempotency(const json& t, IdempotencyConfig* out) {
  if (auto s =
          CheckKeys(t, "idempotency", {"ttl", "max_entries", "store", "redis"});
      !s.ok()) {
    return s;
  }
  if (auto s = GetDuration(t, "ttl", "idempotency.", &out->ttl); !s.ok()) {
    return s;
  }
  if (auto s = GetInt(t, "max_entries", "idempotency.", 1, 10000000,
                      &out->max_entries);
      !s.ok()) {
    return s;
  }
  if (auto s = GetString(t, "store", "idempotency.", &out->store); !s.ok()) {
    return s;
  }
  if (out->store != "memory" && out->store != "redis") {
    return FieldError("idempotency.store", "must be \"memory\" or \"redis\"");
  }
  if (out->store == "memory") {
    if (t.contains("redis")) {
      return FieldError("idempotency.redis",
                        "is only read with idempotency.store \"redis\"");
    }
    return absl::OkStatus();
  }
  if (!t.contains("redis")) {
    return FieldError("idempotency.redis",
                      "is required with idempotency.store \"redis\" (at "
                      "least its address)");
  }
  return ParseRedisStore(t.at("redis"), &out->redis);
}

absl::Status ParseLimits(const json& t, LimitsConfig* out) {
  if (auto s =
          CheckKeys(t, "limits",
                    {"max_request_bytes_in_flight", "pkcs12_max_iterations",
                     "certificate_check_threads", "certificate_check_queue",
                     "max_concurrent_streams", "max_connection_idle"});
      !s.ok()) {
    return s;
  }
  const std::string p = "limits.";
  for (absl::Status s :
       {GetBytes(t, "max_request_bytes_in_flight", p, std::int64_t{16} << 20,
                 &out->max_request_bytes_in_flight),
        GetInt(t, "pkcs12_max_iterations", p, 1000, 10000000,
               &out->pkcs12_max_iterations),
        GetInt(t, "certificate_check_threads", p, 1, 64,
               &out->certificate_check_threads),
        GetInt(t, "certificate_check_queue", p, 1, 100000,
               &out->certificate_check_queue),
        GetInt(t, "max_concurrent_streams", p, 1, 100000,
               &out->max_concurrent_streams),
        GetDuration(t, "max_connection_idle", p, &out->max_connection_idle,
                    /*zero_allowed=*/true)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(absl::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text, nullptr, /*allow_exceptions=*/true,
                      /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // Start-up only: say where, as an editor would.
    const size_t at =
        std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, json_text.size());
    const absl::string_view before = json_text.substr(0, at);
    const size_t line =
        1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t last_newline = before.rfind('\n');
    const size_t column =
        at - (last_newline == absl::string_view::npos ? 0 : last_newline + 1) +
        1;
    return absl::InvalidArgumentError(absl::StrCat(
        "configuration is not valid JSON: line ", line, ", column ", column));
  } catch (const json::exception& e) {
    // The parser also throws out_of_range for numbers no double holds
    // (1e999); left uncaught that aborted start-up instead of saying so.
    return absl::InvalidArgumentError(absl::StrCat(
        "configuration is not valid JSON: a number is out of range (",
        e.id == 406 ? "overflow" : "limit", ")"));
  }
  if (auto s = CheckKeys(
          doc, "",
          {"listen_address", "metrics_address", "health_listen_address",
           "shutdown_drain_delay", "reflection", "max_connection_age", "tls",
           "shutdown_grace_period", "default_deadline", "log_level",
           "page_token_key_file", "idempotency", "limits", "backends"});
      !s.ok()) {
    return s;
  }
  ServerConfig config;
  if (auto s = GetString(doc, "listen_address", "", &config.listen_address);
      !s.ok()) {
    return s;
  }
  if (auto s =
          GetDuration(doc, "default_deadline", "", &config.default_deadline);
      !s.ok()) {
    return s;
  }
  if (auto s = GetString(doc, "metrics_address", "", &config.metrics_address);
      !s.ok()) {
    return s;
  }
  // "none" spells "off" here as on the command line.
  if (config.metrics_address == "none") config.metrics_address.clear();
  if (auto s = GetString(doc, "health_listen_address", "",
                         &config.health_listen_address);
      !s.ok()) {
    return s;
  }
  if (auto s = CheckAddresses(config); !s.ok()) return s;
  if (auto s = GetDuration(doc, "shutdown_drain_delay", "",
                           &config.shutdown_drain_delay,
                           /*zero_allowed=*/true);
      !s.ok()) {
    return s;
  }
  if (auto s = GetBool(doc, "reflection", "", &config.reflection); !s.ok()) {
    return s;
  }
  if (auto s = GetDuration(doc, "max_connection_age", "",
                           &config.max_connection_age, /*zero_allowed=*/true);
      !s.ok()) {
    return s;
  }
  if (doc.contains("tls")) {
    if (auto s = ParseServerTls(doc.at("tls"), &config.tls); !s.ok()) return s;
  }
  if (auto s = GetDuration(doc, "shutdown_grace_period", "",
                           &config.shutdown_grace_period);
      !s.ok()) {
    return s;
  }
  if (auto s = GetString(doc, "log_level", "", &config.log_level); !s.ok()) {
    return s;
  }
  LogLevel level;
  if (!ParseLogLevel(config.log_level, &level)) {
    return FieldError("log_level", "must be debug, info, warning or error");
  }
  if (auto s = GetString(doc, "page_token_key_file", "",
                         &config.page_token_key_file);
      !s.ok()) {
    return s;
  }
  if (doc.contains("idempotency")) {
    if (auto s = ParseIdempotency(doc.at("idempotency"), &config.idempotency);
        !s.ok()) {
      return s;
    }
  }
  if (doc.contains("limits")) {
    if (auto s = ParseLimits(doc.at("limits"), &config.limits); !s.ok()) {
      return s;
    }
  }
  if (!doc.contains("backends") || !doc.at("backends").is_array() ||
      doc.at("backends").empty()) {
    return FieldError("backends", "must be a non-empty array");
  }
  std::set<std::string> names;
  const json& backends = doc.at("backends");
  for (size_t i = 0; i < backends.size(); ++i) {
    BackendConfig backend;
    const std::string path = absl::StrCat("backends[", i, "]");
    if (auto s = ParseBackend(backends[i], path, &backend); !s.ok()) return s;
    if (!names.insert(backend.name).second) {
      return FieldError(
          path + ".name",
          absl::StrCat("duplicate backend name \"", backend.name, "\""));
    }
    config.backends.push_back(std::move(backend));
  }
  return config;
}

absl::Status CheckAddresses(const ServerConfig& config) {
  for (const auto& [field, address] :
       {std::pair<const char*, const std::string*>{"listen_address",
                                                   &config.listen_address},
        {"metrics_address", &config.metrics_address},
        {"health_listen_address", &config.health_listen_address}}) {
    if (address->empty() && std::string(field) != "listen_address") continue;
    if (auto s = CheckListenAddress(*address, field); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckConfiguredFiles(const ServerConfig& config) {
  const ServerTlsConfig& tls = config.tls;
  for (const auto& [field, file] : {std::pair<const char*, const std::string*>{
                                        "tls.cert_file", &tls.cert_file},
                                    {"tls.key_file", &tls.key_file}}) {
    if (!file->empty() && !std::ifstream(*file)) {
      return FieldError(field, absl::StrCat("cannot read ", *file));
    }
  }
  if (!tls.client_ca_file.empty()) {
    if (auto s = CheckPemFile(tls.client_ca_file, "tls.client_ca_file");
        !s.ok()) {
      return s;
    }
  }
  if (auto key = ReadPageTokenKey(config); !key.ok()) return key.status();
  if (auto password = ReadRedisPassword(config.idempotency.redis);
      !password.ok()) {
    return password.status();
  }
  const RedisStoreConfig& redis = config.idempotency.redis;
  if (config.idempotency.store == "redis" && !redis.tls_ca_file.empty()) {
    if (auto s =
            CheckPemFile(redis.tls_ca_file, "idempotency.redis.tls.ca_file");
        !s.ok()) {
      return s;
    }
  }
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const BackendConfig& b = config.backends[i];
    if (b.ca_file.empty()) continue;
    if (auto s = CheckPemFile(b.ca_file,
                              absl::StrCat("backends[", i, "].tls.ca_file"));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPageTokenKey(const ServerConfig& config) {
  const std::string& path = config.page_token_key_file;
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FieldError("page_token_key_file",
                      absl::StrCat("cannot read ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string key = buffer.str();
  if (key.size() < kMinPageTokenKeyBytes) {
    return FieldError(
        "page_token_key_file",
        absl::StrCat(path, " holds ", key.size(),
                     " bytes; the key needs at least ", kMinPageTokenKeyBytes));
  }
  return key;
}

absl::StatusOr<std::optional<std::string>> ReadRedisPassword(
    const RedisStoreConfig& redis) {
  if (redis.password_file.empty()) return std::optional<std::string>();
  std::ifstream in(redis.password_file, std::ios::binary);
  if (!in) {
    return FieldError("idempotency.redis.password_file",
                      absl::StrCat("cannot read ", redis.password_file));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string password = buffer.str();
  // Files written by `echo` or a Secret edited by hand end in a newline
  // that is not part of the password.
  while (!password.empty() &&
         (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return FieldError("idempotency.redis.password_file",
                      absl::StrCat(redis.password_file, " is empty"));
  }
  return std::optional<std::string>(std::move(password));
}

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read configuration file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto config = ParseServerConfig(buffer.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace certbridge

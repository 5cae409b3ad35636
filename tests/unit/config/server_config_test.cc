#include "server/config/server_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;

TEST(ServerConfigTest, ParsesFullDocument) {
  auto c = ParseServerConfig(R"({
    "listen_address": "0.0.0.0:50051",
    "default_deadline": "20s",
    "log_level": "debug",
    "backends": [
      {"name": "leegality", "kind": "leegality",
       "base_url": "https://signstation.example/api/",
       "auth": {"token_file": "/secrets/token", "header": "bearer"},
       "timeouts": {"connect": "2s", "request": "1500ms"},
       "tls": {"ca_file": "/etc/ca.pem"}},
      {"name": "apinizer", "kind": "apinizer",
       "base_url": "http://127.0.0.1:8089/apiops",
       "auth": {"token_env": "APINIZER_TOKEN"}}
    ]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(c->default_deadline, absl::Seconds(20));
  ASSERT_EQ(c->backends.size(), 2u);
  const BackendConfig& l = c->backends[0];
  EXPECT_EQ(l.kind, "leegality");
  EXPECT_EQ(l.base_url, "https://signstation.example/api");  // slash trimmed
  EXPECT_EQ(l.credentials.source, CredentialsConfig::Source::kFile);
  EXPECT_EQ(l.credentials.header, AuthHeaderStyle::kBearer);
  EXPECT_EQ(l.connect_timeout, absl::Seconds(2));
  EXPECT_EQ(l.request_timeout, absl::Milliseconds(1500));
  EXPECT_EQ(l.ca_file, "/etc/ca.pem");
  const BackendConfig& a = c->backends[1];
  EXPECT_EQ(a.kind, "apinizer");
  EXPECT_EQ(a.credentials.source, CredentialsConfig::Source::kEnv);
  // Unset: the vendor's default is filled in when the backend is built
  // (vendor_registry_test).
  EXPECT_FALSE(a.credentials.header.has_value());
}

TEST(ServerConfigTest, DefaultsWhenUnset) {
  auto c = ParseServerConfig(R"({"backends":[{"name":"l","kind":"leegality",
      "base_url":"http://localhost/api","auth":{"token_env":"T"}}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->backends[0].credentials.header.has_value());
  EXPECT_EQ(c->backends[0].request_timeout, absl::Seconds(30));
  EXPECT_TRUE(c->backends[0].options.is_object());
  EXPECT_TRUE(c->backends[0].options.empty());
}

// Vendor-specific keys travel verbatim to the vendor, which checks them.
TEST(ServerConfigTest, OptionsAreKeptForTheVendor) {
  auto c = ParseServerConfig(R"({"backends":[{"name":"l","kind":"leegality",
      "base_url":"http://localhost/api","auth":{"token_env":"T"},
      "options":{"projects":["a","b"]}}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->backends[0].options.at("projects").size(), 2u);
  auto bad = ParseServerConfig(R"({"backends":[{"name":"l","kind":"leegality",
      "base_url":"http://localhost/api","auth":{"token_env":"T"},
      "options":[1]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("backends[0].options"));
}

struct BadCase {
  const char* json;
  const char* expected;  // the message must name the problem
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesTheProblem) {
  auto c = ParseServerConfig(GetParam().json);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, BadConfigTest,
    ::testing::Values(
        BadCase{"{", "not valid JSON"},
        // Found by fuzz_server_config: the parser throws out_of_range, not
        // parse_error, for a number no double holds; it used to abort.
        BadCase{R"({"limits":{"max_concurrent_streams":1e999},"backends":[]})",
                "number is out of range"},
        BadCase{"{}", "backends: must be a non-empty array"},
        BadCase{R"({"backends":[], "port": 1})", "port: unknown key"},
        BadCase{R"({"backends":[{"name":"L","kind":"leegality"}]})",
                "backends[0].name"},
        BadCase{R"({"backends":[{"name":"l","kind":"Vault!"}]})",
                "backends[0].kind"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"ftp://x"}]})",
                "backends[0].base_url"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"http://localhost"}]})",
                "backends[0].auth: is required"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"http://localhost","auth":{}}]})",
                "needs token_file, token_env or client_credentials"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"http://localhost","auth":{"token_env":"T",
                  "header":"basic"}}]})",
                "backends[0].auth.header"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"http://localhost","auth":{"token_env":"T"},
                  "timeouts":{"request":"fast"}}]})",
                "backends[0].timeouts.request"},
        BadCase{R"({"backends":[{"name":"l","kind":"leegality",
                  "base_url":"http://localhost","auth":{"token_env":"T"},
                  "timeouts":{"requst":"1s"}}]})",
                "backends[0].timeouts.requst: unknown key"},
        BadCase{R"({"backends":[
                  {"name":"l","kind":"leegality","base_url":"http://localhost",
                   "auth":{"token_env":"T"}},
                  {"name":"l","kind":"apinizer","base_url":"http://127.0.0.2",
                   "auth":{"token_env":"T"}}]})",
                "duplicate backend name"},
        BadCase{R"({"log_level":"loud","backends":[]})", "log_level"},
        // gRPC takes some durations as int milliseconds: 600h would wrap.
        BadCase{R"({"max_connection_age":"600h","backends":[]})",
                "max_connection_age: must be at most 168h"},
        BadCase{R"({"shutdown_grace_period":"9999h","backends":[]})",
                "shutdown_grace_period: must be at most 168h"}));

// Issue 10 findings 17 and 20: URLs are parsed as libcurl will use them.
TEST(ServerConfigTest, BackendAndTokenUrlsMustNotLeakCredentials) {
  auto with = [](const std::string& base_url, const std::string& token_url,
                 bool insecure = false) {
    std::string doc = R"({"backends":[{"name":"l","kind":"leegality",
        "base_url":")" +
                      base_url + R"(","auth":{"client_credentials":{
        "client_id":"id","client_secret_env":"S")";
    if (!token_url.empty()) doc += R"(,"token_url":")" + token_url + "\"";
    doc += "}}";
    if (insecure) doc += R"(,"tls":{"allow_insecure_http":true})";
    doc += "}]}";
    return ParseServerConfig(doc);
  };
  // The client secret would cross the network in clear.
  auto c = with("https://lee.example/api", "http://idp.example/token");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("backends[0].auth.client_credentials.token_url"));
  // "Starts with 127." is not loopback.
  c = with("http://127.attacker.example/api", "");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("in clear"));
  c = with("https://lee.example/api", "http://127.0.0.1.nip.io/token");
  EXPECT_FALSE(c.ok());
  // Real loopback literals and names are fine.
  for (const char* ok : {"http://127.0.0.1:8089/api", "http://127.5.6.7/api",
                         "http://localhost/api", "http://LOCALHOST./api",
                         "http://[::1]:80/api"}) {
    EXPECT_TRUE(with(ok, "").ok()) << ok;
  }
  EXPECT_TRUE(with("https://lee.example/api", "http://localhost:9/t").ok());
  // Insecure only when asked for.
  EXPECT_TRUE(
      with("http://lee.example/api", "http://idp.example/t", true).ok());
  // Credentials in the URL are refused, and the message does not repeat
  // the URL (it would log the password).
  c = with("https://user:hunter2@lee.example/api", "");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("must not contain credentials"));
  EXPECT_THAT(std::string(c.status().message()),
              ::testing::Not(HasSubstr("hunter2")));
  c = with("https://lee.example/api", "https://u:hunter2@idp.example/t");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              ::testing::Not(HasSubstr("hunter2")));
  EXPECT_FALSE(with("https://lee.example/api?token=x", "").ok());
}

// Issue 10 finding 15: "0" disables max_connection_age, as documented.
TEST(ServerConfigTest, MaxConnectionAgeZeroDisables) {
  auto c = ParseServerConfig(R"({"max_connection_age":"0s","backends":[
      {"name":"l","kind":"leegality","base_url":"http://localhost/api",
       "auth":{"token_env":"T"}}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_connection_age, absl::ZeroDuration());
  c = ParseServerConfig(R"({"max_connection_age":"-1s","backends":[
      {"name":"l","kind":"leegality","base_url":"http://localhost/api",
       "auth":{"token_env":"T"}}]})");
  EXPECT_FALSE(c.ok());
}

TEST(ServerConfigTest, LimitsParseWithUnitsAndAreBounded) {
  auto c =
      ParseServerConfig(R"({"limits":{"max_request_bytes_in_flight":"256MiB",
      "pkcs12_max_iterations":20000,"certificate_check_threads":3,
      "certificate_check_queue":10,"max_concurrent_streams":50,
      "max_connection_idle":"0"},"backends":[
      {"name":"l","kind":"leegality","base_url":"http://localhost/api",
       "auth":{"token_env":"T"}}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.max_request_bytes_in_flight, std::int64_t{256} << 20);
  EXPECT_EQ(c->limits.pkcs12_max_iterations, 20000);
  EXPECT_EQ(c->limits.certificate_check_threads, 3);
  EXPECT_EQ(c->limits.max_concurrent_streams, 50);
  EXPECT_EQ(c->limits.max_connection_idle, absl::ZeroDuration());
  c = ParseServerConfig(R"({"limits":{"max_request_bytes_in_flight":"1MiB"},
      "backends":[{"name":"l","kind":"leegality","base_url":"http://localhost",
       "auth":{"token_env":"T"}}]})");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("limits.max_request_bytes_in_flight"));
}

// Issue 11 finding 7: configuration mistakes stop start-up with a message
// that says where.
TEST(ServerConfigTest, MistakesAreCaughtAtStartWithTheirPlace) {
  const std::string backend = R"("backends":[{"name":"l","kind":"leegality",
      "base_url":"http://localhost/api","auth":{"token_env":"T"}}])";
  auto c = ParseServerConfig("{\"listen_address\":\"127.0.0.1:99999\"," +
                             backend + "}");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("listen_address: the port must be a number"));
  c = ParseServerConfig("{\"metrics_address\":\"nowhere\"," + backend + "}");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("metrics_address"));
  // "none" means off, as on the command line.
  c = ParseServerConfig("{\"metrics_address\":\"none\"," + backend + "}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics_address, "");
  // A syntax error says where.
  c = ParseServerConfig("{\n  \"listen_address\": \"x:1\",\n  oops\n}");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("line 3, column"));
  // A CA bundle that is missing or holds no certificate stops start-up.
  c = ParseServerConfig(R"({"backends":[{"name":"l","kind":"leegality",
      "base_url":"https://lee.example/api","auth":{"token_env":"T"},
      "tls":{"ca_file":"/nonexistent/ca.pem"}}]})");
  ASSERT_TRUE(c.ok()) << c.status();
  absl::Status files = CheckConfiguredFiles(*c);
  EXPECT_THAT(std::string(files.message()),
              HasSubstr("backends[0].tls.ca_file: cannot read"));
  c->backends[0].ca_file = "/etc/hostname";
  files = CheckConfiguredFiles(*c);
  EXPECT_THAT(std::string(files.message()), HasSubstr("no PEM certificate"));
  c = ParseServerConfig(
      "{\"shutdown_drain_delay\":\"0s\",\"health_listen_address\":\"0.0.0.0:"
      "8081\"," +
      backend + "}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shutdown_drain_delay, absl::ZeroDuration());
  EXPECT_EQ(c->health_listen_address, "0.0.0.0:8081");
}

TEST(ServerConfigTest, LoadNamesMissingFile) {
  auto c = LoadServerConfig("/nonexistent/certbridge.json");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("/nonexistent/certbridge.json"));
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

// The example in README "Configuration" must stay a valid configuration.
TEST(ServerConfigReadmeTest, ReadmeExampleParses) {
  std::ifstream in(CERTBRIDGE_README_PATH);
  ASSERT_TRUE(in) << CERTBRIDGE_README_PATH;
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t section = readme.find("## Configuration");
  ASSERT_NE(section, std::string::npos);
  const size_t start = readme.find("```json\n", section);
  ASSERT_NE(start, std::string::npos);
  const size_t end = readme.find("```", start + 8);
  const std::string json = readme.substr(start + 8, end - start - 8);
  auto config = ParseServerConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->backends.size(), 2u);
  EXPECT_EQ(config->backends[1].retry.max_attempts, 4);
  EXPECT_EQ(config->backends[1].circuit_breaker.open_duration,
            absl::Seconds(15));
  EXPECT_EQ(config->backends[1].max_concurrent_calls, 64);
  EXPECT_EQ(config->idempotency.max_entries, 50000);
  EXPECT_EQ(config->backends[0].retry.max_attempts, 3) << "default";
}

TEST(ServerConfigResilienceTest, BadValuesNameTheField) {
  const std::string base =
      R"({"backends":[{"name":"a","kind":"leegality","base_url":"http://localhost",)"
      R"("auth":{"token_env":"T"},)";
  auto bad = ParseServerConfig(base + R"("retry":{"max_attempts":0}}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("backends[0].retry.max_attempts"),
            std::string::npos)
      << bad.status();
  bad = ParseServerConfig(base + R"("circuit_breaker":{"windw":3}}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("circuit_breaker.windw"),
            std::string::npos)
      << bad.status();
  bad = ParseServerConfig(base + R"("retry_budget":{"token_ratio":5}}]})");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

std::string Backend(const std::string& url, const std::string& tls = "") {
  return R"({"backends":[{"name":"a","kind":"apinizer","base_url":")" + url +
         R"(","auth":{"token_env":"T"})" + tls + "}]}";
}

TEST(ServerConfigTlsTest, PlainHttpOnlyToLoopbackUnlessAllowed) {
  for (const char* ok : {"http://127.0.0.1:8089/apiops", "http://localhost/x",
                         "http://[::1]:80", "https://mgr.example/apiops"}) {
    EXPECT_TRUE(ParseServerConfig(Backend(ok)).ok()) << ok;
  }
  auto bad = ParseServerConfig(Backend("http://mgr.example/apiops"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("backends[0].base_url: plain http://"));
  EXPECT_FALSE(ParseServerConfig(Backend("http://user@evil.example/x")).ok());
  EXPECT_TRUE(
      ParseServerConfig(Backend("http://mgr.example/apiops",
                                R"(,"tls":{"allow_insecure_http":true})"))
          .ok());
}

TEST(ServerConfigTlsTest, ServerTlsNeedsReadableFilesAndSensibleCallers) {
  const std::string backends =
      R"("backends":[{"name":"a","kind":"leegality","base_url":"http://127.0.0.1","auth":{"token_env":"T"}}])";
  auto missing = ParseServerConfig(
      R"({"tls":{"cert_file":"/nonexistent.pem","key_file":"/nonexistent.key"},)" +
      backends + "}");
  ASSERT_TRUE(missing.ok()) << "files are checked when the server starts";
  EXPECT_THAT(std::string(CheckConfiguredFiles(*missing).message()),
              HasSubstr("tls.cert_file: cannot read /nonexistent.pem"));
  auto half = ParseServerConfig(R"({"tls":{"cert_file":"/etc/hostname"},)" +
                                backends + "}");
  EXPECT_FALSE(half.ok());
  auto callers_without_ca = ParseServerConfig(
      R"({"tls":{"cert_file":"/etc/hostname","key_file":"/etc/hostname",)"
      R"("allowed_callers":["spiffe://corp/ns/x/sa/y"]},)" +
      backends + "}");
  ASSERT_FALSE(callers_without_ca.ok());
  EXPECT_THAT(std::string(callers_without_ca.status().message()),
              HasSubstr("needs tls.client_ca_file"));
  auto ok = ParseServerConfig(
      R"({"tls":{"cert_file":"/etc/hostname","key_file":"/etc/hostname",)"
      R"("client_ca_file":"/etc/ssl/certs/ca-certificates.crt","reload_interval":"5s",)"
      R"("allowed_callers":["spiffe://corp/ns/x/sa/y","dns:caller.corp"]},)" +
      backends + "}");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->tls.allowed_callers.size(), 2u);
  EXPECT_EQ(ok->tls.reload_interval, absl::Seconds(5));
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The configuration shipped in deploy/ (base and every overlay's
// config.json) must be one the server accepts, with the settings the
// manifests rely on: the ports their probes and Services name, a drain.
TEST(ServerConfigDeployTest, ManifestConfigsParse) {
  for (const char* file :
       {"/deploy/base/config.json", "/deploy/overlays/dev/config.json",
        "/deploy/overlays/prod/config.json",
        "/deploy/overlays/prod-mesh/config.json"}) {
    const std::string path = std::string(CERTBRIDGE_SOURCE_DIR) + file;
    const std::string json = ReadFile(path);
    ASSERT_FALSE(json.empty()) << path;
    auto config = ParseServerConfig(json);
    ASSERT_TRUE(config.ok()) << path << ": " << config.status();
    EXPECT_EQ(config->backends.size(), 2u) << path;
    EXPECT_EQ(config->listen_address, "0.0.0.0:50051") << path;
    EXPECT_EQ(config->health_listen_address, "0.0.0.0:8081") << path;
    EXPECT_EQ(config->metrics_address, "0.0.0.0:9464") << path;
    EXPECT_EQ(config->max_connection_age, absl::Minutes(5)) << path;
    EXPECT_EQ(config->shutdown_drain_delay, absl::Seconds(5)) << path;
  }
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

TEST(ServerConfigAuthTest, HeaderStyles) {
  auto parse = [](const std::string& header) {
    return ParseServerConfig(
        R"({"backends":[{"name":"a","kind":"apinizer","base_url":"http://127.0.0.1",)"
        R"("auth":{"token_env":"T","header":")" +
        header + R"("}}]})");
  };
  EXPECT_EQ(parse("authorization")->backends[0].credentials.header,
            AuthHeaderStyle::kAuthorization);
  EXPECT_EQ(parse("bearer")->backends[0].credentials.header,
            AuthHeaderStyle::kBearer);
  EXPECT_FALSE(parse("basic").ok());
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

TEST(ServerConfigPageTokenKeyTest, ReadAtStartUpAndTooShortIsRefused) {
  constexpr char kBackends[] =
      R"("backends":[{"name":"l","kind":"leegality",)"
      R"("base_url":"https://lee.example/api","auth":{"token_env":"T"}}])";
  auto c = ParseServerConfig(absl::StrCat(
      R"({"page_token_key_file":"/nonexistent/key",)", kBackends, "}"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->page_token_key_file, "/nonexistent/key");
  EXPECT_THAT(std::string(CheckConfiguredFiles(*c).message()),
              HasSubstr("page_token_key_file: cannot read /nonexistent/key"));

  const std::string path = ::testing::TempDir() + "/page_token_key";
  const std::string secret = "short-secret-never-in-messages";
  std::ofstream(path, std::ios::binary) << secret;
  c->page_token_key_file = path;
  auto key = ReadPageTokenKey(*c);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(std::string(key.status().message()),
              HasSubstr("needs at least 32"));
  EXPECT_THAT(std::string(key.status().message()),
              ::testing::Not(HasSubstr(secret)));
  EXPECT_FALSE(CheckConfiguredFiles(*c).ok());

  const std::string good(40, '\x07');
  std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
  key = ReadPageTokenKey(*c);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, good);
  EXPECT_TRUE(CheckConfiguredFiles(*c).ok());

  // Not configured: no key (the service makes one per process).
  ServerConfig none;
  EXPECT_EQ(ReadPageTokenKey(none).value(), "");
  // Wrong type.
  auto wrong = ParseServerConfig(
      absl::StrCat(R"({"page_token_key_file":7,)", kBackends, "}"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("page_token_key_file"));
}

}  // namespace
}  // namespace certbridge

namespace certbridge {
namespace {

absl::StatusOr<ServerConfig> WithInventory(const std::string& inventory) {
  return ParseServerConfig(absl::StrCat(
      R"({"backends":[{"name":"a","kind":"apinizer",
      "base_url":"http://localhost/apiops","auth":{"token_env":"T"},
      "inventory":)",
      inventory, "}]}"));
}

TEST(ServerConfigInventoryTest, ParsesAndDefaults) {
  auto c = WithInventory(R"({"enabled": true, "interval": "90s",
      "projects": ["p1", "My Project"], "max_series": 500})");
  ASSERT_TRUE(c.ok()) << c.status();
  const InventoryConfig& i = c->backends[0].inventory;
  EXPECT_TRUE(i.enabled);
  EXPECT_EQ(i.interval, absl::Seconds(90));
  EXPECT_THAT(i.projects, ::testing::ElementsAre("p1", "My Project"));
  EXPECT_EQ(i.max_series, 500);

  auto d = WithInventory("{}");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->backends[0].inventory.enabled);
  EXPECT_EQ(d->backends[0].inventory.interval, absl::Minutes(5));
  EXPECT_EQ(d->backends[0].inventory.max_series, 10000);
  EXPECT_TRUE(d->backends[0].inventory.projects.empty());
}

TEST(ServerConfigInventoryTest, BadValuesNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"interval": "9s"})",
       "backends[0].inventory.interval: must be at "
       "least 10s"},
      {R"({"interval": "soon"})", "backends[0].inventory.interval"},
      {R"({"intervall": "1m"})", "backends[0].inventory.intervall: unknown"},
      {R"({"enabled": "yes"})", "backends[0].inventory.enabled"},
      {R"({"max_series": 0})", "backends[0].inventory.max_series"},
      {R"({"projects": "p1"})",
       "backends[0].inventory.projects: must be an "
       "array"},
      {R"({"projects": [1]})",
       "backends[0].inventory.projects[0]: must be a "
       "string"},
      {R"({"projects": ["ok", "a/b"]})", "backends[0].inventory.projects[1]"},
      {R"({"projects": ["p", "p"]})",
       "backends[0].inventory.projects[1]: "
       "duplicate"},
      {R"([])", "backends[0].inventory: must be an object"},
  };
  for (const auto& [inventory, expected] : cases) {
    auto c = WithInventory(inventory);
    ASSERT_FALSE(c.ok()) << inventory;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(expected))
        << inventory;
  }
}

// Issue 15: the shared store's keys, their defaults and what is refused.
constexpr char kOneBackend[] = R"("backends":[{"name":"l","kind":"leegality",
    "base_url":"http://localhost/api","auth":{"token_env":"T"}}])";

absl::StatusOr<ServerConfig> WithIdempotency(const std::string& json) {
  return ParseServerConfig(
      absl::StrCat("{\"idempotency\":", json, ",", kOneBackend, "}"));
}

TEST(ServerConfigTest, IdempotencyStoreIsMemoryUnlessRedisIsAsked) {
  auto c = WithIdempotency(R"({"ttl":"5m"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->idempotency.store, "memory");
  EXPECT_EQ(c->idempotency.ttl, absl::Minutes(5));
  // A redis block without the redis store is a mistake, not ignored.
  auto stray = WithIdempotency(R"({"redis":{"address":"r:6379"}})");
  ASSERT_FALSE(stray.ok());
  EXPECT_THAT(stray.status().message(), HasSubstr("idempotency.redis"));
}

TEST(ServerConfigTest, RedisStoreKeysAndDefaults) {
  auto c = WithIdempotency(R"({"store":"redis","redis":{
      "address":"redis.certbridge.svc:6380"}})");
  ASSERT_TRUE(c.ok()) << c.status();
  const RedisStoreConfig& r = c->idempotency.redis;
  EXPECT_EQ(r.host, "redis.certbridge.svc");
  EXPECT_EQ(r.port, 6380);
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(r.database, 0);
  EXPECT_EQ(r.key_prefix, "certbridge:idempotency:");
  EXPECT_EQ(r.connect_timeout, absl::Seconds(1));
  EXPECT_EQ(r.command_timeout, absl::Milliseconds(500));
  EXPECT_EQ(r.lease, absl::Seconds(10));
  EXPECT_FALSE(r.fallback_to_local);

  auto full = WithIdempotency(R"({"store":"redis","redis":{
      "address":"[::1]:6379","password_file":"/p","username":"cb",
      "tls":{"enabled":true,"ca_file":"/ca.pem","server_name":"redis.internal"},
      "database":3,"key_prefix":"x:",
      "timeouts":{"connect":"2s","command":"250ms","lease":"30s"},
      "on_unavailable":"local"}})");
  ASSERT_TRUE(full.ok()) << full.status();
  const RedisStoreConfig& f = full->idempotency.redis;
  EXPECT_EQ(f.host, "::1");
  EXPECT_EQ(f.port, 6379);
  EXPECT_EQ(f.password_file, "/p");
  EXPECT_EQ(f.username, "cb");
  EXPECT_TRUE(f.tls);
  EXPECT_EQ(f.tls_ca_file, "/ca.pem");
  EXPECT_EQ(f.tls_server_name, "redis.internal");
  EXPECT_EQ(f.database, 3);
  EXPECT_EQ(f.key_prefix, "x:");
  EXPECT_EQ(f.connect_timeout, absl::Seconds(2));
  EXPECT_EQ(f.command_timeout, absl::Milliseconds(250));
  EXPECT_EQ(f.lease, absl::Seconds(30));
  EXPECT_TRUE(f.fallback_to_local);
}

TEST(ServerConfigTest, RedisStoreRefusesWhatItCannotUse) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"store":"redis"})", "idempotency.redis"},
      {R"({"store":"sql"})", "idempotency.store"},
      {R"({"store":"redis","redis":{}})", "idempotency.redis.address"},
      {R"({"store":"redis","redis":{"address":"redis"}})",
       "idempotency.redis.address"},
      {R"({"store":"redis","redis":{"address":":6379"}})",
       "idempotency.redis.address"},
      {R"({"store":"redis","redis":{"address":"r:70000"}})",
       "idempotency.redis.address"},
      {R"({"store":"redis","redis":{"address":"r:6379","username":"u"}})",
       "idempotency.redis.username"},
      {R"({"store":"redis","redis":{"address":"r:6379","database":1024}})",
       "idempotency.redis.database"},
      {R"({"store":"redis","redis":{"address":"r:6379",
          "timeouts":{"lease":"500ms"}}})",
       "idempotency.redis.timeouts.lease"},
      {R"({"store":"redis","redis":{"address":"r:6379",
          "timeouts":{"command":"3s","lease":"10s"}}})",
       "idempotency.redis.timeouts.command"},
      {R"({"store":"redis","redis":{"address":"r:6379",
          "timeouts":{"lease":"1s"}}})",
       "idempotency.redis.timeouts.command"},
      {R"({"store":"redis","redis":{"address":"r:6379",
          "on_unavailable":"ignore"}})",
       "idempotency.redis.on_unavailable"},
      {R"({"store":"redis","redis":{"address":"r:6379","passwd":"x"}})",
       "idempotency.redis.passwd"},
  };
  for (const auto& [json, field] : cases) {
    auto c = WithIdempotency(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr(field)) << json;
  }
}

TEST(ServerConfigTest, RedisPasswordFileIsReadWithoutItsNewline) {
  const std::string path = ::testing::TempDir() + "/redis-password";
  std::ofstream(path) << "s3cret-value\n";
  RedisStoreConfig r;
  r.password_file = path;
  auto password = ReadRedisPassword(r);
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(password->value_or(""), "s3cret-value");
  std::ofstream(path) << "\n";
  auto empty = ReadRedisPassword(r);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("is empty"));
  r.password_file = path + ".missing";
  auto missing = ReadRedisPassword(r);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot read"));
  EXPECT_FALSE(ReadRedisPassword(RedisStoreConfig{})->has_value());
}

}  // namespace
}  // namespace certbridge

// Issue 12: a vendor is a folder plus one registration. The example vendor
// (tests/example_vendor/) is registered only here, next to the shipped
// ones, and served end to end: the real server routes names of its shape
// to it, its validation and options apply, its stub talks to its emulator
// API through the curl transport with its token protocol, and the
// connection's policies (retries) wrap it as they wrap every vendor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/backends/vendor_registry.h"
#include "tests/example_vendor/example_api.h"
#include "tests/example_vendor/example_vendor.h"
#include "tests/integration/certbridge_harness.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;

class ExampleVendorIntegrationTest : public ::testing::Test {
 protected:
  // `configure` edits the example backend's configuration.
  void Start(std::function<void(BackendConfig&)> configure = nullptr) {
    vendors_ = BuiltinVendors();
    ASSERT_TRUE(
        vendors_.Register(std::make_shared<example::ExampleVendor>()).ok());
    api_ = std::make_shared<example::ExampleApi>();
    HarnessOptions options;
    options.vendors = &vendors_;
    options.extra_apis.push_back(api_);
    options.configure = [configure](ServerConfig& c) {
      BackendConfig b;
      b.name = "ex";
      b.kind = "example";
      // The emulator's base URL is known once it runs: the shipped
      // backends' URLs share it.
      b.base_url = c.backends[0].base_url;
      b.base_url = b.base_url.substr(0, b.base_url.find('/', 8)) +
                   example::ExampleApi::kPrefix;
      b.credentials.source = CredentialsConfig::Source::kClientCredentials;
      b.credentials.client_id = example::ExampleApi::kClientId;
      b.credentials.client_secret_env = "CERTBRIDGE_EXAMPLE_SECRET";
      b.retry.initial_backoff = absl::Milliseconds(5);
      if (configure) configure(b);
      c.backends.push_back(b);
    };
    setenv("CERTBRIDGE_EXAMPLE_SECRET", example::ExampleApi::kClientSecret, 1);
    h_ = Harness::Start(std::move(options));
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status Create(const std::string& id, v1::Certificate* out) {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/ex");
    r.set_certificate_id(id);
    r.mutable_certificate();
    auto ctx = Harness::Context();
    return h_->stub().CreateCertificate(ctx.get(), r, out);
  }
  grpc::Status Get(const std::string& name, v1::Certificate* out) {
    v1::GetCertificateRequest r;
    r.set_name(name);
    auto ctx = Harness::Context();
    return h_->stub().GetCertificate(ctx.get(), r, out);
  }

  VendorRegistry vendors_;
  std::shared_ptr<example::ExampleApi> api_;
  std::unique_ptr<Harness> h_;
};

TEST_F(ExampleVendorIntegrationTest, CreateGetDeleteEndToEnd) {
  Start();
  v1::Certificate created;
  ASSERT_TRUE(Create("web-1", &created).ok());
  EXPECT_EQ(created.name(), "backends/ex/certificates/web-1");
  EXPECT_FALSE(created.etag().empty());
  EXPECT_TRUE(api_->Has("web-1"));

  v1::Certificate got;
  ASSERT_TRUE(Get(created.name(), &got).ok());
  EXPECT_EQ(got.name(), created.name());
  EXPECT_EQ(got.etag(), created.etag());

  // Its token protocol: the token came from its endpoint, and calls carry
  // it as its default header (Bearer).
  bool token_fetched = false;
  bool bearer_used = false;
  for (const auto& r : h_->emulator().Requests()) {
    if (r.api != "example") continue;
    if (r.path == "/example/v1/token") token_fetched = true;
    auto auth = r.headers.find("authorization");
    if (auth != r.headers.end() && auth->second == "Bearer issued-1") {
      bearer_used = true;
    }
  }
  EXPECT_TRUE(token_fetched);
  EXPECT_TRUE(bearer_used);

  v1::DeleteCertificateRequest del;
  del.set_name(created.name());
  v1::DeleteCertificateResponse deleted;
  auto ctx = Harness::Context();
  ASSERT_TRUE(h_->stub().DeleteCertificate(ctx.get(), del, &deleted).ok());
  EXPECT_FALSE(api_->Has("web-1"));

  // The plain HTTP mapping applies to it like to every vendor: 404.
  const grpc::Status missing = Get(created.name(), &got);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(DecodeRpcError(missing).reason, "CERTIFICATE_NOT_FOUND");
}

TEST_F(ExampleVendorIntegrationTest, ItsValidationAndNameRulesApply) {
  Start();
  v1::Certificate out;
  // Its id rule (CheckCertificateId), before any I/O.
  const grpc::Status bad_id = Get("backends/ex/certificates/Web_1", &out);
  EXPECT_EQ(bad_id.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DecodeRpcError(bad_id).reason, "INVALID_NAME");
  // Its name shape: no project.
  const grpc::Status shape =
      Get("backends/ex/projects/p/certificates/web-1", &out);
  EXPECT_EQ(shape.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(shape.error_message(), HasSubstr("of kind example"));
  // Another vendor's fields are refused by its ValidateCreate.
  v1::CreateCertificateRequest r;
  r.set_parent("backends/ex");
  r.set_certificate_id("web-2");
  r.mutable_certificate()->mutable_apinizer()->set_alias("a");
  auto ctx = Harness::Context();
  const grpc::Status foreign = h_->stub().CreateCertificate(ctx.get(), r, &out);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An RPC its stub does not implement: UNIMPLEMENTED, nothing sent.
  v1::UpdateCertificateRequest u;
  u.mutable_certificate()->set_name("backends/ex/certificates/web-1");
  u.mutable_update_mask()->add_paths("*");
  auto uctx = Harness::Context();
  const grpc::Status update = h_->stub().UpdateCertificate(uctx.get(), u, &out);
  EXPECT_EQ(update.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  for (const auto& req : h_->emulator().Requests()) {
    EXPECT_NE(req.api, "example") << req.method << " " << req.path;
  }
}

TEST_F(ExampleVendorIntegrationTest, ItsOptionsReachItsStub) {
  Start([](BackendConfig& b) { b.options = {{"label", "blue"}}; });
  v1::Certificate out;
  ASSERT_TRUE(Create("web-3", &out).ok());
  bool labelled = false;
  for (const auto& r : h_->emulator().Requests()) {
    auto label = r.headers.find("x-example-label");
    if (r.method == "POST" && r.path == "/example/v1/certs" &&
        label != r.headers.end() && label->second == "blue") {
      labelled = true;
    }
  }
  EXPECT_TRUE(labelled);
}

// The connection's policies are the same for every vendor: a 503 on a Get
// is retried, whatever the vendor.
TEST_F(ExampleVendorIntegrationTest, PoliciesWrapItToo) {
  Start();
  v1::Certificate out;
  ASSERT_TRUE(Create("web-4", &out).ok());
  emulator::FaultSpec fault;
  fault.method = "GET";
  fault.path_prefix = "/example/v1/certs/web-4";
  fault.status = 503;
  h_->emulator().AddFault(fault);
  ASSERT_TRUE(Get("backends/ex/certificates/web-4", &out).ok());
  int gets = 0;
  for (const auto& r : h_->emulator().Requests()) {
    if (r.method == "GET" && r.path == "/example/v1/certs/web-4") ++gets;
  }
  EXPECT_EQ(gets, 2);
}

// Start-up refuses what the registry does not know, and options its vendor
// rejects, naming the field.
TEST(ExampleVendorConfigTest, UnknownKindsAndBadOptionsStopStartUp) {
  VendorRegistry vendors = BuiltinVendors();
  ASSERT_TRUE(
      vendors.Register(std::make_shared<example::ExampleVendor>()).ok());
  EXPECT_EQ(vendors.Register(std::make_shared<example::ExampleVendor>()).code(),
            absl::StatusCode::kAlreadyExists);
  ServerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.metrics_address = "";
  BackendConfig b;
  b.name = "ex";
  b.kind = "example";
  b.base_url = "http://127.0.0.1:9/example";
  b.credentials.source = CredentialsConfig::Source::kEnv;
  b.credentials.token_env = "CERTBRIDGE_EXAMPLE_TOKEN";
  setenv("CERTBRIDGE_EXAMPLE_TOKEN", "t", 1);
  config.backends.push_back(b);

  auto unknown = CertbridgeServer::Start(config);  // shipped vendors only
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("backends[0].kind"));
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("known kinds: apinizer, leegality"));

  config.backends[0].options = {{"colour", "red"}};
  auto bad_option = CertbridgeServer::Start(config, vendors);
  ASSERT_FALSE(bad_option.ok());
  EXPECT_THAT(std::string(bad_option.status().message()),
              HasSubstr("backends[0].options"));

  // The shipped vendors take no options at all.
  config.backends[0].kind = "leegality";
  auto shipped = CertbridgeServer::Start(config, vendors);
  ASSERT_FALSE(shipped.ok());
  EXPECT_THAT(std::string(shipped.status().message()),
              HasSubstr("take no options"));

  config.backends[0].kind = "example";
  config.backends[0].options = {{"label", "x"}};
  auto ok = CertbridgeServer::Start(config, vendors);
  ASSERT_TRUE(ok.ok()) << ok.status();
}

}  // namespace
}  // namespace certbridge::testing

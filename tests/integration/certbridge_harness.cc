#include "tests/integration/certbridge_harness.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {

namespace {

// Reservations made by DeadUrl() and not yet owned by a harness. Per thread:
// the harness a test starts next on the same thread adopts them.
std::vector<ReservedPort>& PendingDeadPorts() {
  thread_local std::vector<ReservedPort> pending;
  return pending;
}

}  // namespace

std::unique_ptr<Harness> Harness::Start(HarnessOptions options) {
  std::unique_ptr<Harness> h(new Harness());
  char dir_template[] = "/tmp/certbridge-it.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return nullptr;
  }
  h->temp_dir_ = dir_template;

  emulator::EmulatorOptions emulator_options;
  emulator_options.extra_apis = options.extra_apis;
  auto emulator = emulator::Emulator::Start(std::move(emulator_options));
  if (!emulator.ok()) {
    ADD_FAILURE() << "emulator: " << emulator.status();
    return nullptr;
  }
  h->emulator_ = *std::move(emulator);

  const std::string leegality_token = h->temp_dir_ + "/leegality.token";
  const std::string apinizer_token = h->temp_dir_ + "/apinizer.token";
  std::ofstream(leegality_token) << emulator::EmulatorOptions().leegality_token;
  std::ofstream(apinizer_token) << emulator::EmulatorOptions().apinizer_token;

  ServerConfig& config = h->config_;
  config.listen_address = "127.0.0.1:0";
  // prometheus-cpp's exposer takes ~2 s to stop; tests that scrape turn it
  // on with "127.0.0.1:0".
  config.metrics_address = "";
  config.log_level = "warning";
  BackendConfig leegality;
  leegality.name = "leegality";
  leegality.kind = "leegality";
  leegality.base_url = h->emulator_->base_url();
  leegality.credentials.source = CredentialsConfig::Source::kFile;
  leegality.credentials.token_file = leegality_token;
  config.backends.push_back(leegality);
  BackendConfig apinizer;
  apinizer.name = "apinizer";
  apinizer.kind = "apinizer";
  apinizer.base_url = h->emulator_->base_url() + "/apiops";
  apinizer.credentials.source = CredentialsConfig::Source::kFile;
  apinizer.credentials.token_file = apinizer_token;
  apinizer.credentials.header = AuthHeaderStyle::kBearer;
  config.backends.push_back(apinizer);
  if (options.configure) options.configure(config);
  // DeadUrl()s made for this configuration stay reserved while it runs.
  h->dead_ports_ = std::exchange(PendingDeadPorts(), {});

  auto server = CertbridgeServer::Start(
      config, options.vendors != nullptr ? *options.vendors : BuiltinVendors());
  if (!server.ok()) {
    ADD_FAILURE() << "server: " << server.status();
    return nullptr;
  }
  h->server_ = *std::move(server);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  h->channel_ =
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", h->server_->port()),
                                grpc::InsecureChannelCredentials(), args);
  h->stub_ = v1::CertificateService::NewStub(h->channel_);
  return h;
}

Harness::~Harness() {
  stub_.reset();
  channel_.reset();
  server_.reset();
  emulator_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

std::unique_ptr<grpc::ClientContext> Harness::Context(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

std::string Harness::DeadUrl() {
  // The port stays bound (not listening) until the harness that adopts it
  // is gone: connects are refused and nothing else can listen there.
  ReservedPort port;
  std::string url = port.url();
  PendingDeadPorts().push_back(std::move(port));
  return url;
}

RpcError DecodeRpcError(const grpc::Status& status) {
  RpcError out;
  out.code = status.error_code();
  out.message = status.error_message();
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return out;
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) {
      ++out.error_info_count;
      out.reason = info.reason();
      for (const auto& [k, v] : info.metadata()) out.metadata[k] = v;
    } else if (any.UnpackTo(&retry)) {
      out.has_retry_info = true;
      out.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                        absl::Nanoseconds(retry.retry_delay().nanos());
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        out.violation_fields.push_back(v.field());
      }
    }
  }
  return out;
}

namespace {
size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

std::string ScrapeMetrics(int port) {
  std::string body;
  CURL* curl = curl_easy_init();
  const std::string url = absl::StrCat("http://127.0.0.1:", port, "/metrics");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_cleanup(curl);
  return body;
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << content;
  std::rename(tmp.c_str(), path.c_str());
}

v1::CreateCertificateRequest LeegalityCreateRequest(
    const std::string& file_name, const std::string& passkey,
    std::size_t exact_size) {
  Pkcs12Options options;
  options.passkey = passkey;
  options.common_name = file_name;
  options.exact_size = exact_size;
  v1::CreateCertificateRequest request;
  request.set_parent(kLeegalityParent);
  auto* l = request.mutable_certificate()->mutable_leegality();
  l->set_pkcs12_file(MakePkcs12(options));
  l->set_passkey(passkey);
  l->set_file_name(file_name);
  l->set_department_id(kHrDepartment);
  l->set_enabled(true);
  return request;
}

}  // namespace certbridge::testing

// CertificateClient (client/library) against the real thing: gRPC ->
// CertbridgeServer -> libcurl -> emulator, over a channel made by
// CreateCertificateChannel. Every RPC blocking and callback-based, the rich
// error details as the server sends them, and a Create whose first attempt
// was applied at the backend but whose answer was lost: gRPC's retry (the
// shipped service config) repeats it with the same request_id and certbridge
// answers with the one certificate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/library/certificate_client.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

constexpr char kParent[] = "backends/apinizer/projects/Payments";
constexpr char kRequestId[] = "6f1c2b1e-8d3a-4f7b-9c2e-0a1b2c3d4e5f";

template <typename T>
class Waiter {
 public:
  ResultCallback<T> Callback() {
    return [this](absl::StatusOr<T> result) {
      result_ = std::move(result);
      done_.Notify();
    };
  }
  absl::StatusOr<T> Wait() {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(30)));
    return result_;
  }

 private:
  absl::Notification done_;
  absl::StatusOr<T> result_ = absl::UnknownError("callback not run");
};

class ClientLibraryIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = Harness::Start();
    ASSERT_NE(h_, nullptr);
    CertificateClientOptions options;
    options.default_timeout = absl::Seconds(20);
    options.request_id_generator = [] { return std::string(kRequestId); };
    client_ = std::make_unique<CertificateClient>(
        CreateCertificateChannel(
            absl::StrCat("127.0.0.1:", h_->server().port()),
            grpc::InsecureChannelCredentials()),
        options);
  }

  static v1::CreateCertificateRequest CreateRequest(const std::string& id) {
    v1::CreateCertificateRequest r;
    r.set_parent(kParent);
    r.set_certificate_id(id);
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias(id + "-alias");
    a->set_description("Root CA of " + id);
    a->add_environments("prod");
    CertificateOptions options;
    options.common_name = id;
    a->set_pem_certificate(MakePemCertificate(options));
    return r;
  }

  static std::string NameOf(const std::string& id) {
    return absl::StrCat(kParent, "/certificates/", id);
  }

  int ApinizerPosts() const {
    int posts = 0;
    for (const auto& r : h_->emulator().Requests()) {
      if (r.api == "apinizer" && r.method == "POST") ++posts;
    }
    return posts;
  }

  static std::vector<std::string> Names(
      const v1::ListCertificatesResponse& list) {
    std::vector<std::string> names;
    for (const auto& c : list.certificates()) names.push_back(c.name());
    return names;
  }

  // Whether a failed call's response had headers (anything in the server's
  // initial metadata), which keeps gRPC from retrying it.
  bool ServerSendsHeadersWithFailures() {
    v1::GetCertificateRequest get;
    get.set_name(NameOf("probe-missing"));
    auto context = Harness::Context();
    v1::Certificate out;
    const grpc::Status status =
        h_->stub().GetCertificate(context.get(), get, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    return !context->GetServerInitialMetadata().empty();
  }

  std::unique_ptr<Harness> h_;
  std::unique_ptr<CertificateClient> client_;
};

TEST_F(ClientLibraryIntegrationTest, BlockingRoundTrip) {
  absl::StatusOr<v1::Certificate> created =
      client_->CreateCertificate(CreateRequest("lib-blocking"));
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = NameOf("lib-blocking");
  EXPECT_EQ(created->name(), name);
  EXPECT_EQ(created->apinizer().deployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);

  v1::GetCertificateRequest get;
  get.set_name(name);
  absl::StatusOr<v1::Certificate> got = client_->GetCertificate(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->apinizer().alias(), "lib-blocking-alias");

  v1::ListCertificatesRequest list;
  list.set_parent(kParent);
  absl::StatusOr<v1::ListCertificatesResponse> listed =
      client_->ListCertificates(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(Names(*listed), Contains(name));

  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(name);
  update.mutable_certificate()->set_etag(got->etag());
  update.mutable_certificate()->mutable_apinizer()->set_description("rotated");
  update.mutable_update_mask()->add_paths("apinizer.description");
  absl::StatusOr<v1::Certificate> updated = client_->UpdateCertificate(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->apinizer().description(), "rotated");

  v1::DeleteCertificateRequest del;
  del.set_name(name);
  absl::StatusOr<v1::DeleteCertificateResponse> deleted =
      client_->DeleteCertificate(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->name(), name);

  absl::StatusOr<v1::Certificate> gone = client_->GetCertificate(get);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientLibraryIntegrationTest, CallbackRoundTrip) {
  const std::string name = NameOf("lib-async");
  Waiter<v1::Certificate> created;
  client_->CreateCertificateAsync(CreateRequest("lib-async"),
                                  created.Callback());
  absl::StatusOr<v1::Certificate> cert = created.Wait();
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->name(), name);

  v1::GetCertificateRequest get;
  get.set_name(name);
  Waiter<v1::Certificate> got;
  client_->GetCertificateAsync(get, got.Callback());
  v1::ListCertificatesRequest list;
  list.set_parent(kParent);
  Waiter<v1::ListCertificatesResponse> listed;
  client_->ListCertificatesAsync(list, listed.Callback());
  absl::StatusOr<v1::Certificate> read = got.Wait();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->apinizer().alias(), "lib-async-alias");
  absl::StatusOr<v1::ListCertificatesResponse> page = listed.Wait();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Names(*page), Contains(name));

  v1::UpdateCertificateRequest update;
  update.mutable_certificate()->set_name(name);
  update.mutable_certificate()->mutable_apinizer()->add_environments("uat");
  update.mutable_update_mask()->add_paths("apinizer.environments");
  Waiter<v1::Certificate> updated;
  client_->UpdateCertificateAsync(update, updated.Callback());
  absl::StatusOr<v1::Certificate> after = updated.Wait();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(after->apinizer().environments(), ElementsAre("uat"));

  v1::DeleteCertificateRequest del;
  del.set_name(name);
  Waiter<v1::DeleteCertificateResponse> deleted;
  client_->DeleteCertificateAsync(del, deleted.Callback());
  absl::StatusOr<v1::DeleteCertificateResponse> result = deleted.Wait();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->undeployment_result().state(),
            v1::DeploymentResult::SUCCEEDED);
}

TEST_F(ClientLibraryIntegrationTest, ErrorsCarryTheServersDetails) {
  v1::GetCertificateRequest get;
  get.set_name(NameOf("never-created"));
  CallOptions call;
  call.correlation_id = "lib-it-corr-1";
  absl::StatusOr<v1::Certificate> missing = client_->GetCertificate(get, call);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  ErrorDetails details = GetErrorDetails(missing.status());
  EXPECT_EQ(details.reason, "CERTIFICATE_NOT_FOUND");
  EXPECT_EQ(details.domain, "certbridge.v1");
  EXPECT_EQ(details.metadata["backend"], "apinizer");
  // The correlation id went out as x-request-id and came back.
  EXPECT_EQ(details.metadata["requestId"], "lib-it-corr-1");

  // certbridge's own validation: BadRequest field violations, callback form.
  v1::ListCertificatesRequest list;
  list.set_parent(kParent);
  list.set_filter("name = \"x\"");
  Waiter<v1::ListCertificatesResponse> listed;
  client_->ListCertificatesAsync(list, listed.Callback());
  absl::StatusOr<v1::ListCertificatesResponse> refused = listed.Wait();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  details = GetErrorDetails(refused.status());
  EXPECT_EQ(details.reason, "INVALID_ARGUMENT");
  ASSERT_FALSE(details.field_violations.empty());
  EXPECT_EQ(details.field_violations[0].field, "filter");
}

TEST_F(ClientLibraryIntegrationTest, LostCreateAnswerIsRetriedWithTheSameId) {
  // The Manager stores the certificate, then the connection drops before
  // its answer: certbridge cannot know it worked and returns UNAVAILABLE
  // (it never re-sends a POST that may have been applied). gRPC's retry
  // repeats the call with the same request_id; certbridge sends it again,
  // meets "already exists", reads the certificate back, finds what was
  // sent, and returns it -- one certificate, one OK.
  // A failure with response headers would be committed: gRPC would retry
  // none of certbridge's own failures (gRFC A6).
  ASSERT_FALSE(ServerSendsHeadersWithFailures())
      << "certbridge-server answers failures with response headers";
  emulator::FaultSpec lost;
  lost.method = "POST";
  lost.path_prefix = "/apiops/projects/Payments/certificates";
  lost.reset_after_apply = true;
  h_->emulator().AddFault(lost);
  const std::size_t before = h_->emulator().apinizer().CertificateCount();

  absl::StatusOr<v1::Certificate> created =
      client_->CreateCertificate(CreateRequest("lib-retried"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->name(), NameOf("lib-retried"));
  EXPECT_EQ(ApinizerPosts(), 2) << "the lost attempt and the repeat";
  EXPECT_EQ(h_->emulator().apinizer().CertificateCount(), before + 1);
  for (const auto& r : h_->emulator().Requests()) {
    if (r.api == "apinizer" && r.method == "POST") {
      EXPECT_THAT(r.body, Not(::testing::IsEmpty()));
    }
  }
}

TEST_F(ClientLibraryIntegrationTest,
       CreateWithoutTheServiceConfigSurfacesTheLoss) {
  // The same fault without the library's channel: one attempt, and the
  // caller is left with UNAVAILABLE and the advice to repeat.
  emulator::FaultSpec lost;
  lost.method = "POST";
  lost.path_prefix = "/apiops/projects/Payments/certificates";
  lost.reset_after_apply = true;
  h_->emulator().AddFault(lost);
  const CertificateClient plain(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", h_->server().port()),
                          grpc::InsecureChannelCredentials()));
  v1::CreateCertificateRequest request = CreateRequest("lib-not-retried");
  request.set_request_id(kRequestId);
  absl::StatusOr<v1::Certificate> created = plain.CreateCertificate(request);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorDetails(created.status()).reason,
            "BACKEND_CONNECTION_RESET");
  EXPECT_EQ(ApinizerPosts(), 1);
  // Repeating by hand with the same id ends the same way the retry did.
  absl::StatusOr<v1::Certificate> repeated =
      client_->CreateCertificate(request);
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_EQ(repeated->name(), NameOf("lib-not-retried"));
}

}  // namespace
}  // namespace certbridge::testing

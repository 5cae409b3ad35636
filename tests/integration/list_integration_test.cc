// ListCertificates end to end: gRPC -> CertbridgeServer -> libcurl ->
// emulator for both vendors. Paging through a whole collection, the filter
// and the order, the Leegality limit (disabled certificates are not listed),
// Apinizer's admin project, page tokens refused through the real server,
// vendor errors, and the "list" operation in the backend metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

constexpr char kPaymentsParent[] = "backends/apinizer/projects/Payments";

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

class ListIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.configure = [](ServerConfig& c) {
      c.metrics_address = "127.0.0.1:0";
      for (auto& b : c.backends)
        b.retry.initial_backoff = absl::Milliseconds(5);
    };
    h_ = Harness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  grpc::Status List(const v1::ListCertificatesRequest& r,
                    v1::ListCertificatesResponse* out) {
    auto ctx = Harness::Context();
    return h_->stub().ListCertificates(ctx.get(), r, out);
  }

  // Every page of `r`, page_size `page_size`; the names in order.
  std::vector<std::string> ListAll(v1::ListCertificatesRequest r, int page_size,
                                   int* pages = nullptr) {
    std::vector<std::string> names;
    r.set_page_size(page_size);
    for (int page = 0; page < 100; ++page) {
      v1::ListCertificatesResponse response;
      grpc::Status s = List(r, &response);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      EXPECT_LE(response.certificates_size(), page_size);
      for (const auto& c : response.certificates()) names.push_back(c.name());
      if (pages != nullptr) *pages = page + 1;
      if (response.next_page_token().empty()) break;
      r.set_page_token(response.next_page_token());
    }
    return names;
  }

  // A SignStation certificate expiring `days` from now; its resource name.
  std::string AddLeegality(int days, bool enabled = true) {
    emulator::LeegalityCertificate c;
    c.name = absl::StrCat("signer-", next_++);
    c.expiry = now_ + absl::Hours(24) * days;
    c.created_at = now_;
    c.enabled = enabled;
    c.department_id = kHrDepartment;
    auto stored = h_->emulator().leegality().Insert(c);
    EXPECT_TRUE(stored.ok());
    return absl::StrCat("backends/leegality/certificates/", stored->id);
  }

  std::string CreateApinizer(const std::string& parent, const std::string& name,
                             int valid_days) {
    v1::CreateCertificateRequest r;
    r.set_parent(parent);
    r.set_certificate_id(name);
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias(name + "-alias");
    a->set_description("d");
    a->add_environments("prod");
    CertificateOptions options;
    options.common_name = name;
    options.valid_days = valid_days;
    a->set_pem_certificate(MakePemCertificate(options));
    v1::Certificate out;
    auto ctx = Harness::Context();
    grpc::Status s = h_->stub().CreateCertificate(ctx.get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.name();
  }

  std::unique_ptr<Harness> h_;
  const absl::Time now_ = absl::Now();
  int next_ = 0;
};

TEST_F(ListIntegrationTest, LeegalityPagesThroughEveryEnabledCertificate) {
  std::vector<std::string> enabled;
  for (int i = 0; i < 23; ++i) enabled.push_back(AddLeegality(10 + i * 40));
  AddLeegality(5, /*enabled=*/false);  // the vendor's limit: never listed
  v1::ListCertificatesRequest r;
  r.set_parent(kLeegalityParent);
  int pages = 0;
  const std::vector<std::string> names = ListAll(r, 5, &pages);
  EXPECT_EQ(pages, 5);
  EXPECT_THAT(names, UnorderedElementsAreArray(enabled));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  // What a list returns is what Get returns.
  v1::ListCertificatesRequest one = r;
  one.set_page_size(1);
  v1::ListCertificatesResponse first;
  ASSERT_TRUE(List(one, &first).ok());
  ASSERT_EQ(first.certificates_size(), 1);
  EXPECT_EQ(first.total_size(), 23);
  v1::GetCertificateRequest get;
  get.set_name(first.certificates(0).name());
  v1::Certificate got;
  auto ctx = Harness::Context();
  ASSERT_TRUE(h_->stub().GetCertificate(ctx.get(), get, &got).ok());
  EXPECT_EQ(got.SerializeAsString(), first.certificates(0).SerializeAsString());
  // The vendor saw the expiring-soon report with the long horizon (the
  // harness' base URL is the emulator's root, so the path has one /api).
  bool asked = false;
  for (const auto& req : h_->emulator().Requests()) {
    if (req.method == "GET" &&
        req.path == "/api/v1/certificates/expiring-soon?days=3000000") {
      asked = true;
    }
  }
  EXPECT_TRUE(asked);
}

TEST_F(ListIntegrationTest, LeegalityFilterAndOrderByExpireTime) {
  const std::string soon = AddLeegality(3);
  const std::string later = AddLeegality(100);
  const std::string expired = AddLeegality(-2);
  AddLeegality(400);
  v1::ListCertificatesRequest r;
  r.set_parent(kLeegalityParent);
  r.set_filter(absl::StrCat("expire_time < \"",
                            Rfc3339(now_ + absl::Hours(24 * 200)), "\""));
  r.set_order_by("expire_time");
  EXPECT_THAT(ListAll(r, 2), ElementsAre(expired, soon, later));
  r.set_order_by("expire_time desc");
  EXPECT_THAT(ListAll(r, 50), ElementsAre(later, soon, expired));
  r.set_filter(absl::StrCat("expire_time >= \"", Rfc3339(now_), "\" AND ",
                            "expire_time < \"",
                            Rfc3339(now_ + absl::Hours(24 * 30)), "\""));
  EXPECT_THAT(ListAll(r, 50), ElementsAre(soon));
}

TEST_F(ListIntegrationTest, ApinizerPagesAProjectAndFilters) {
  std::vector<std::string> names;
  for (int i = 0; i < 7; ++i) {
    names.push_back(CreateApinizer(kPaymentsParent, absl::StrCat("cert-", i),
                                   30 + 100 * i));
  }
  CreateApinizer("backends/apinizer/projects/My%20Project", "elsewhere", 30);
  v1::ListCertificatesRequest r;
  r.set_parent(kPaymentsParent);
  EXPECT_THAT(ListAll(r, 3), ElementsAre(names[0], names[1], names[2], names[3],
                                         names[4], names[5], names[6]));
  r.set_filter(absl::StrCat("expire_time < \"",
                            Rfc3339(now_ + absl::Hours(24 * 250)), "\""));
  r.set_order_by("expire_time desc");
  EXPECT_THAT(ListAll(r, 3), ElementsAre(names[2], names[1], names[0]));
  // The listed certificate carries its deployments (validity per
  // environment), as a Get does.
  v1::ListCertificatesResponse page;
  ASSERT_TRUE(List(r, &page).ok());
  ASSERT_GT(page.certificates_size(), 0);
  ASSERT_EQ(page.certificates(0).apinizer().deployments_size(), 1);
  EXPECT_TRUE(page.certificates(0).apinizer().deployments(0).has_end_time());
}

TEST_F(ListIntegrationTest, ApinizerAdminProjectListsEveryProject) {
  CreateApinizer(kPaymentsParent, "pay", 30);
  CreateApinizer("backends/apinizer/projects/admin", "global", 30);
  v1::ListCertificatesRequest r;
  r.set_parent("backends/apinizer/projects/admin");
  EXPECT_THAT(
      ListAll(r, 10),
      ElementsAre("backends/apinizer/projects/admin/certificates/global",
                  "backends/apinizer/projects/admin/certificates/pay"));
}

TEST_F(ListIntegrationTest, BadRequestsNeverReachTheBackend) {
  AddLeegality(10);
  AddLeegality(20);
  v1::ListCertificatesRequest r;
  r.set_parent(kLeegalityParent);
  r.set_page_size(1);
  v1::ListCertificatesResponse first;
  ASSERT_TRUE(List(r, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  const std::size_t sent = h_->emulator().Requests().size();

  struct Case {
    std::string what;
    v1::ListCertificatesRequest request;
    std::string field;
  };
  std::vector<Case> cases;
  v1::ListCertificatesRequest c = r;
  std::string tampered = first.next_page_token();
  tampered[tampered.size() / 2] ^= 1;
  c.set_page_token(tampered);
  cases.push_back({"tampered token", c, "page_token"});
  c = r;
  c.set_page_token(first.next_page_token());
  c.set_order_by("expire_time");
  cases.push_back({"token reused with another order_by", c, "page_token"});
  c = r;
  c.set_filter("expire_time < \"soon\"");
  cases.push_back({"bad filter", c, "filter"});
  c = r;
  c.set_filter(std::string(100'000, 'x'));
  cases.push_back({"huge filter", c, "filter"});
  c = r;
  c.set_page_size(-5);
  cases.push_back({"negative page_size", c, "page_size"});
  c = r;
  c.set_parent("backends/leegality/projects/p");
  cases.push_back({"Apinizer-shaped parent on Leegality", c, "parent"});
  c = r;
  c.set_parent("backends/nope");
  cases.push_back({"unknown backend", c, "parent"});
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.what);
    v1::ListCertificatesResponse out;
    const grpc::Status s = List(bad.request, &out);
    const RpcError e = DecodeRpcError(s);
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(e.violation_fields, ElementsAre(bad.field));
    EXPECT_LE(e.message.size(), 512u);
  }
  EXPECT_EQ(h_->emulator().Requests().size(), sent)
      << "a refused request reached the emulator";
  // The good token still works, with another page_size.
  c = r;
  c.set_page_token(first.next_page_token());
  c.set_page_size(10);
  v1::ListCertificatesResponse rest;
  ASSERT_TRUE(List(c, &rest).ok());
  EXPECT_EQ(rest.certificates_size(), 1);
  EXPECT_TRUE(rest.next_page_token().empty());
}

TEST_F(ListIntegrationTest, VendorErrorsAndMetricsUseTheListOperation) {
  v1::ListCertificatesRequest r;
  r.set_parent("backends/apinizer/projects/Unknown");
  v1::ListCertificatesResponse out;
  RpcError e = DecodeRpcError(List(r, &out));
  EXPECT_EQ(e.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(e.message, HasSubstr("Project(Unknown) was not found"));

  // A transient 503 is retried, like a Get.
  emulator::FaultSpec fault;
  fault.method = "GET";
  fault.path_prefix = "/api/v1/certificates/expiring-soon";
  fault.status = 503;
  h_->emulator().AddFault(fault);
  r.set_parent(kLeegalityParent);
  grpc::Status s = List(r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();

  const std::string text = ScrapeMetrics(h_->server().metrics_port());
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_requests_total{backend="leegality",code="503",error="none",operation="list"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(certbridge_backend_retries_total{backend="leegality",operation="list",reason="BACKEND_UNAVAILABLE"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(grpc_server_handled_total{grpc_code="NotFound",grpc_method="ListCertificates",)"));
}

}  // namespace
}  // namespace certbridge::testing

namespace certbridge::testing {
namespace {

// Two replicas: a token from one is refused by the other unless both are
// given the same page_token_key_file.
TEST(ListReplicasTest, ATokenCrossesReplicasOnlyWithASharedKey) {
  const std::string key_path = ::testing::TempDir() + "/list_page_token_key";
  { std::ofstream(key_path, std::ios::binary) << std::string(32, 'k') << "ey"; }
  auto start = [&key_path](bool shared) {
    HarnessOptions options;
    options.configure = [&key_path, shared](ServerConfig& c) {
      if (shared) c.page_token_key_file = key_path;
    };
    return Harness::Start(options);
  };
  auto first_page = [](Harness& h) {
    for (int i = 0; i < 3; ++i) {
      emulator::LeegalityCertificate c;
      c.name = absl::StrCat("replica-", i);
      c.expiry = absl::Now() + absl::Hours(24 * (i + 1));
      c.created_at = absl::Now();
      EXPECT_TRUE(h.emulator().leegality().Insert(c).ok());
    }
    v1::ListCertificatesRequest r;
    r.set_parent(kLeegalityParent);
    r.set_page_size(1);
    v1::ListCertificatesResponse out;
    auto ctx = Harness::Context();
    EXPECT_TRUE(h.stub().ListCertificates(ctx.get(), r, &out).ok());
    EXPECT_FALSE(out.next_page_token().empty());
    r.set_page_token(out.next_page_token());
    return r;
  };
  auto next_page = [](Harness& h, const v1::ListCertificatesRequest& r) {
    v1::ListCertificatesResponse out;
    auto ctx = Harness::Context();
    return h.stub().ListCertificates(ctx.get(), r, &out).error_code();
  };
  {
    auto a = start(false);
    auto b = start(false);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    const v1::ListCertificatesRequest next = first_page(*a);
    first_page(*b);  // the same collection behind the other replica
    EXPECT_EQ(next_page(*a, next), grpc::StatusCode::OK);
    EXPECT_EQ(next_page(*b, next), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    auto a = start(true);
    auto b = start(true);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    const v1::ListCertificatesRequest next = first_page(*a);
    first_page(*b);
    EXPECT_EQ(next_page(*b, next), grpc::StatusCode::OK);
  }
}

}  // namespace
}  // namespace certbridge::testing

// The inventory end to end: CertbridgeServer's pollers list the emulator's
// certificates on both backends through the real stack, and the expiry
// series appear in the registry and on /metrics; a vanished certificate's
// series goes, a failing backend keeps its series and counts the failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/certbridge_harness.h"
#include "tests/testing/certificate_fixtures.h"

namespace certbridge::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kExpiry[] =
    "certbridge_certificate_expiration_timestamp_seconds";

// The value of the sample whose name and labels are exactly `series`.
std::optional<double> Sample(const std::string& text,
                             const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return std::nullopt;
}

std::string LeegalitySeries(const std::string& id) {
  return absl::StrCat(kExpiry, R"({backend="leegality",certificate=")", id,
                      R"(",environment="",project=""})");
}

class InventoryIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.configure = [](ServerConfig& c) {
      c.metrics_address = "127.0.0.1:0";
      for (auto& b : c.backends) {
        b.retry.initial_backoff = absl::Milliseconds(5);
        b.inventory.enabled = true;
        // Below the configuration's minimum: set directly, so the test
        // sees several sweeps in a few seconds.
        b.inventory.interval = absl::Milliseconds(200);
        if (b.kind == "apinizer") b.inventory.projects = {"Payments"};
      }
    };
    h_ = Harness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  // Waits until `pred` holds for the registry's exposition.
  bool WaitFor(const std::function<bool(const std::string&)>& pred,
               absl::Duration timeout = absl::Seconds(15)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (pred(h_->server().metrics().Serialize())) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  std::string AddLeegality(const std::string& name, absl::Time expiry) {
    emulator::LeegalityCertificate c;
    c.name = name;
    c.expiry = expiry;
    c.created_at = absl::Now();
    c.enabled = true;
    c.department_id = kHrDepartment;
    auto stored = h_->emulator().leegality().Insert(c);
    EXPECT_TRUE(stored.ok());
    return stored.ok() ? stored->id : "";
  }

  void CreateApinizer(const std::string& name, int valid_days) {
    v1::CreateCertificateRequest r;
    r.set_parent("backends/apinizer/projects/Payments");
    r.set_certificate_id(name);
    auto* a = r.mutable_certificate()->mutable_apinizer();
    a->set_alias(name + "-alias");
    a->set_description("d");
    a->add_environments("prod");
    a->add_environments("uat");
    CertificateOptions options;
    options.common_name = name;
    options.valid_days = valid_days;
    a->set_pem_certificate(MakePemCertificate(options));
    v1::Certificate out;
    auto ctx = Harness::Context();
    grpc::Status s = h_->stub().CreateCertificate(ctx.get(), r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::unique_ptr<Harness> h_;
};

TEST_F(InventoryIntegrationTest, ExpiriesOfBothBackendsBecomeSeries) {
  const absl::Time expiry = absl::FromUnixSeconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 20)));
  const std::string kept = AddLeegality("signer-kept", expiry);
  const std::string gone = AddLeegality("signer-gone", expiry + absl::Hours(1));
  CreateApinizer("inv-cert", 30);
  const std::string prod = absl::StrCat(
      kExpiry,
      R"({backend="apinizer",certificate="inv-cert",environment="prod",project="Payments"})");
  const std::string uat = absl::StrCat(
      kExpiry,
      R"({backend="apinizer",certificate="inv-cert",environment="uat",project="Payments"})");
  ASSERT_TRUE(WaitFor([&](const std::string& text) {
    return Sample(text, LeegalitySeries(kept)) &&
           Sample(text, LeegalitySeries(gone)) && Sample(text, prod) &&
           Sample(text, uat);
  })) << h_->server().metrics().Serialize();

  // The same through /metrics, with the values the vendors report.
  const std::string text = ScrapeMetrics(h_->server().metrics_port());
  EXPECT_EQ(Sample(text, LeegalitySeries(kept)),
            absl::ToDoubleSeconds(expiry - absl::UnixEpoch()));
  const double thirty_days = absl::ToDoubleSeconds(
      absl::Now() + absl::Hours(24 * 30) - absl::UnixEpoch());
  ASSERT_TRUE(Sample(text, prod).has_value()) << text;
  EXPECT_NEAR(*Sample(text, prod), thirty_days, 2 * 86400);
  EXPECT_THAT(text,
              HasSubstr(R"(certbridge_certificates{backend="apinizer"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(certbridge_certificates{backend="leegality"} 2)"));
  EXPECT_GT(
      Sample(
          text,
          R"(certbridge_inventory_last_success_timestamp_seconds{backend="leegality"})")
          .value_or(0),
      absl::ToDoubleSeconds(absl::Now() - absl::Minutes(1) -
                            absl::UnixEpoch()));
  EXPECT_EQ(
      Sample(text,
             R"(certbridge_inventory_series_dropped{backend="apinizer"})"),
      0);
  // The sweeps went through the connection: counted as "list" requests.
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(backend="apinizer",code="200",error="none",operation="list"})"));

  // Deleted at the vendor: its series goes with the next sweep.
  ASSERT_TRUE(h_->emulator().leegality().Remove(gone));
  ASSERT_TRUE(WaitFor([&](const std::string& t) {
    return !Sample(t, LeegalitySeries(gone)) &&
           Sample(t, LeegalitySeries(kept));
  }));

  // The vendor fails: the series stay, the failures are counted by reason.
  emulator::FaultSpec fault;
  fault.method = "GET";
  fault.path_prefix = "/api/v1/certificates/expiring-soon";
  fault.status = 503;
  fault.times = -1;
  h_->emulator().AddFault(fault);
  ASSERT_TRUE(WaitFor([&](const std::string& t) {
    return Sample(
               t,
               R"(certbridge_inventory_errors_total{backend="leegality",reason="BACKEND_UNAVAILABLE"})")
               .value_or(0) >= 1;
  })) << h_->server().metrics().Serialize();
  const std::string failing = h_->server().metrics().Serialize();
  EXPECT_EQ(Sample(failing, LeegalitySeries(kept)),
            absl::ToDoubleSeconds(expiry - absl::UnixEpoch()));
  EXPECT_THAT(failing,
              HasSubstr(R"(certbridge_certificates{backend="leegality"} 1)"));
}

}  // namespace
}  // namespace certbridge::testing

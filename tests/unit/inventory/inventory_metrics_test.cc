// The inventory's series over a real registry: replacement and removal,
// the cap, failures, and label values made from hostile vendor text.
#include "server/inventory/inventory_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/unit/inventory/registry_values.h"

namespace certbridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Exposition(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

absl::Time Day(int n) {
  return absl::FromUnixSeconds(1800000000) + absl::Hours(24) * n;
}

double Seconds(absl::Time t) {
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

std::map<std::string, std::string> Labels(const std::string& project,
                                          const std::string& cert,
                                          const std::string& env = "") {
  return {{"backend", "b"},
          {"project", project},
          {"certificate", cert},
          {"environment", env}};
}

class InventoryMetricsTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  InventoryMetrics metrics_{registry_};
  std::unique_ptr<BackendInventoryMetrics> b_ = metrics_.ForBackend("b");
};

TEST_F(InventoryMetricsTest, BackendSeriesExistAtZeroBeforeAnySweep) {
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "b"}}), 0);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "b"}}),
      0);
  EXPECT_EQ(Value(registry_, "certbridge_inventory_series_dropped",
                  {{"backend", "b"}}),
            0);
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "b"}, {"reason", "BACKEND_UNAVAILABLE"}}),
            0);
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 0u);
}

TEST_F(InventoryMetricsTest, SweepReplacesSeriesAndRemovesVanishedOnes) {
  b_->OnSweepSucceeded({{"", "a", "", Day(1)},
                        {"", "b", "", Day(2)},
                        {"p", "c", "prod", Day(3)},
                        {"p", "c", "uat", Day(4)}},
                       5, 100, Day(0));
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 4u);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "a")), Seconds(Day(1)));
  EXPECT_EQ(Value(registry_, kExpiry, Labels("p", "c", "uat")),
            Seconds(Day(4)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "b"}}), 5);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "b"}}),
      Seconds(Day(0)));

  // "a" is gone, "c" left uat, "b" was renewed.
  b_->OnSweepSucceeded({{"", "b", "", Day(30)}, {"p", "c", "prod", Day(3)}}, 2,
                       100, Day(1));
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 2u);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "a")), std::nullopt);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("p", "c", "uat")), std::nullopt);
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "b")), Seconds(Day(30)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "b"}}), 2);
  EXPECT_THAT(Exposition(registry_), Not(HasSubstr("certificate=\"a\"")));

  b_->OnSweepSucceeded({}, 0, 100, Day(2));
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 0u);
}

TEST_F(InventoryMetricsTest, CapKeepsTheEarliestExpiriesAndCountsTheRest) {
  std::vector<ExpirySeries> series;
  for (int i = 0; i < 10; ++i) {
    series.push_back({"", "c" + std::to_string(i), "", Day(10 - i)});
  }
  b_->OnSweepSucceeded(series, 10, 3, Day(0));
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 3u);
  // Expiring first: c9 (day 1), c8, c7.
  for (const char* kept : {"c9", "c8", "c7"}) {
    EXPECT_TRUE(Value(registry_, kExpiry, Labels("", kept)).has_value())
        << kept;
  }
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "c0")), std::nullopt);
  EXPECT_EQ(Value(registry_, "certbridge_inventory_series_dropped",
                  {{"backend", "b"}}),
            7);
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "b"}}),
            10);
  // Under the cap again: nothing dropped.
  b_->OnSweepSucceeded({series[0]}, 1, 3, Day(1));
  EXPECT_EQ(Value(registry_, "certbridge_inventory_series_dropped",
                  {{"backend", "b"}}),
            0);
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 1u);
}

TEST_F(InventoryMetricsTest, FailureKeepsSeriesAndCountsReason) {
  b_->OnSweepSucceeded({{"", "a", "", Day(1)}}, 1, 100, Day(0));
  b_->OnSweepFailed("BACKEND_UNAVAILABLE");
  b_->OnSweepFailed("BACKEND_UNAVAILABLE");
  b_->OnSweepFailed("BACKEND_MALFORMED_RESPONSE");
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "a")), Seconds(Day(1)));
  EXPECT_EQ(Value(registry_, "certbridge_certificates", {{"backend", "b"}}), 1);
  EXPECT_EQ(
      Value(registry_, "certbridge_inventory_last_success_timestamp_seconds",
            {{"backend", "b"}}),
      Seconds(Day(0)));
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "b"}, {"reason", "BACKEND_UNAVAILABLE"}}),
            2);
  EXPECT_EQ(Value(registry_, "certbridge_inventory_errors_total",
                  {{"backend", "b"}, {"reason", "BACKEND_MALFORMED_RESPONSE"}}),
            1);
}

TEST_F(InventoryMetricsTest, BackendsKeepTheirOwnSeries) {
  auto other = metrics_.ForBackend("other");
  b_->OnSweepSucceeded({{"", "a", "", Day(1)}}, 1, 100, Day(0));
  other->OnSweepSucceeded({{"", "a", "", Day(2)}}, 1, 100, Day(0));
  other->OnSweepSucceeded({}, 0, 100, Day(1));
  EXPECT_EQ(Value(registry_, kExpiry, Labels("", "a")), Seconds(Day(1)));
  EXPECT_EQ(SeriesCount(registry_, kExpiry), 1u);
}

TEST(InventoryLabelTest, CleansAndBoundsVendorText) {
  EXPECT_EQ(InventoryLabel("plain-name_1.pem"), "plain-name_1.pem");
  EXPECT_EQ(InventoryLabel("caf\xC3\xA9 \xE2\x9C\x93"),
            "caf\xC3\xA9 \xE2\x9C\x93");
  EXPECT_EQ(InventoryLabel("a\nb\tc\x7F"), "a?b?c?");
  EXPECT_EQ(InventoryLabel("bad\xFF\xC3(x"),
            "bad?"
            "?(x");
  EXPECT_EQ(InventoryLabel("\xC0\xAF"), "??");       // overlong '/'
  EXPECT_EQ(InventoryLabel("\xED\xA0\x80"), "???");  // a surrogate
  EXPECT_EQ(InventoryLabel(std::string(128, 'x')), std::string(128, 'x'));
  const std::string cut = InventoryLabel(std::string(100000, 'x'));
  EXPECT_EQ(cut, std::string(125, 'x') + "...");
  // Never half a character at the cut.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "\xE2\x9C\x93";
  const std::string w = InventoryLabel(wide);
  EXPECT_LE(w.size(), kMaxInventoryLabelBytes);
  EXPECT_TRUE(absl::EndsWith(w, "\xE2\x9C\x93..."));
  EXPECT_EQ((w.size() - 3) % 3, 0u);
}

TEST_F(InventoryMetricsTest, OddNamesCannotBreakTheExposition) {
  const std::string evil =
      "x\"} 1\nfake_metric{a=\"b\\\n\r\xFF" + std::string(300, 'z');
  b_->OnSweepSucceeded(
      {{"p\"q", evil, "env\\", Day(1)}, {"", "ok", "", Day(2)}}, 2, 100,
      Day(0));
  const std::string text = Exposition(registry_);
  // Exactly the two expiry samples, each on one line; nothing injected.
  int samples = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    EXPECT_FALSE(absl::StartsWith(line, "fake_metric")) << line;
    if (absl::StartsWith(line, std::string(kExpiry) + "{")) ++samples;
  }
  EXPECT_EQ(samples, 2);
  EXPECT_THAT(text, HasSubstr("project=\"p\\\"q\""));
  EXPECT_THAT(text, HasSubstr("environment=\"env\\\\\""));
  EXPECT_THAT(text,
              HasSubstr("certificate=\"x\\\"} 1?fake_metric{a=\\\"b\\\\??"));
  EXPECT_THAT(text, Not(HasSubstr("\xFF")));
  for (const auto& family : registry_.Collect()) {
    for (const auto& metric : family.metric) {
      for (const auto& l : metric.label) {
        EXPECT_LE(l.value.size(), kMaxInventoryLabelBytes);
      }
    }
  }
}

}  // namespace
}  // namespace certbridge

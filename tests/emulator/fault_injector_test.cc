#include "tests/emulator/fault_injector.h"

#include <gtest/gtest.h>

namespace certbridge::emulator {
namespace {

FaultSpec Status(int status, int times = 1, std::string method = "",
                 std::string prefix = "") {
  FaultSpec f;
  f.status = status;
  f.times = times;
  f.method = std::move(method);
  f.path_prefix = std::move(prefix);
  return f;
}

TEST(FaultInjectorTest, SpecsAreConsumedInOrder) {
  FaultInjector faults;
  faults.Add(Status(503));
  faults.Add(Status(502, 2));
  EXPECT_EQ(faults.Take("GET", "/x")->status, 503);
  EXPECT_EQ(faults.Take("GET", "/x")->status, 502);
  EXPECT_EQ(faults.Take("GET", "/x")->status, 502);
  EXPECT_FALSE(faults.Take("GET", "/x").has_value());
  EXPECT_EQ(faults.size(), 0u);
}

TEST(FaultInjectorTest, ForeverStaysAndFiltersApply) {
  FaultInjector faults;
  faults.Add(Status(500, -1, "post", "/api/v1/certificates"));
  EXPECT_FALSE(faults.Take("GET", "/api/v1/certificates").has_value());
  EXPECT_FALSE(faults.Take("POST", "/apiops/x").has_value());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(faults.Take("POST", "/api/v1/certificates?x=1")->status, 500);
  }
  faults.Clear();
  EXPECT_FALSE(faults.Take("POST", "/api/v1/certificates").has_value());
}

TEST(FaultInjectorTest, FirstMatchingSpecWinsEvenIfLaterOnesMatchToo) {
  FaultInjector faults;
  faults.Add(Status(401, 1, "DELETE"));
  faults.Add(Status(503, 1));
  EXPECT_EQ(faults.Take("GET", "/")->status, 503);
  EXPECT_EQ(faults.Take("DELETE", "/")->status, 401);
}

TEST(ParseFaultSpecsTest, ParsesEveryField) {
  auto specs = ParseFaultSpecs(R"({
    "method": "GET", "path_prefix": "/api", "times": -1, "status": 429,
    "body": {"code": "x"}, "headers": {"Retry-After": "3"}, "delay_ms": 10,
    "reset": false, "reset_after_apply": true, "malformed": true})");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 1u);
  const FaultSpec& f = (*specs)[0];
  EXPECT_EQ(f.method, "GET");
  EXPECT_EQ(f.path_prefix, "/api");
  EXPECT_EQ(f.times, -1);
  EXPECT_EQ(f.status, 429);
  EXPECT_EQ(f.body, R"({"code":"x"})");
  ASSERT_EQ(f.headers.size(), 1u);
  EXPECT_EQ(f.headers[0].first, "Retry-After");
  EXPECT_EQ(f.delay_ms, 10);
  EXPECT_TRUE(f.reset_after_apply);
  EXPECT_TRUE(f.malformed);
}

TEST(ParseFaultSpecsTest, ParsesArraysAndHeaderPairs) {
  auto specs = ParseFaultSpecs(
      R"([{"status": 503}, {"status": 200, "headers": [["A", "1"]]}])");
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].times, 1);
  EXPECT_EQ((*specs)[1].headers[0].second, "1");
}

TEST(ParseFaultSpecsTest, RejectsBadInput) {
  EXPECT_FALSE(ParseFaultSpecs("{").ok());
  EXPECT_FALSE(ParseFaultSpecs("42").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"stauts": 500})").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"status": "500"})").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"status": 42})").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"times": 0})").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"delay_ms": -1})").ok());
  EXPECT_FALSE(ParseFaultSpecs(R"({"headers": "x"})").ok());
}

}  // namespace
}  // namespace certbridge::emulator

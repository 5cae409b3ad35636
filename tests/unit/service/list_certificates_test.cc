// ListCertificates' request checks and paging, without gRPC: page_size
// defaults and caps, page tokens that are opaque, tamper-evident and bound
// to the request, paging over a collection from start to end, filtering and
// ordering with the shipped vendors' notion of expire_time.
#include "server/service/list_certificates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/errors.h"
#include "server/common/time_format.h"
#include "tests/testing/builtin_vendor.h"

namespace certbridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kParent[] = "backends/lee";
const absl::Time kBase = absl::FromUnixSeconds(1'800'000'000);  // 2027

// A Leegality certificate expiring `days` after kBase (none when negative).
v1::Certificate Lee(int index, int days) {
  v1::Certificate c;
  const std::string id = absl::StrCat("00000000-0000-4000-8000-",
                                      absl::Dec(index, absl::kZeroPad12));
  c.set_name(absl::StrCat(kParent, "/certificates/", id));
  c.mutable_leegality()->set_id(id);
  if (days >= 0) {
    ToTimestamp(kBase + absl::Hours(24) * days,
                c.mutable_leegality()->mutable_expire_time());
  }
  return c;
}

v1::ListCertificatesRequest Request(int page_size = 0,
                                    const std::string& filter = "",
                                    const std::string& order_by = "") {
  v1::ListCertificatesRequest r;
  r.set_parent(kParent);
  r.set_page_size(page_size);
  r.set_filter(filter);
  r.set_order_by(order_by);
  return r;
}

std::string FilterBefore(int days) {
  return absl::StrCat(
      "expire_time < \"",
      absl::FormatTime(absl::RFC3339_full, kBase + absl::Hours(24) * days,
                       absl::UTCTimeZone()),
      "\"");
}

class ListCertificatesTest : public ::testing::Test {
 protected:
  // Pages through `all` with `request` until the last page; the names seen.
  std::vector<std::string> PageThrough(v1::ListCertificatesRequest request,
                                       const CertificateList& all,
                                       int* pages = nullptr) {
    std::vector<std::string> seen;
    for (int page = 0; page < 1000; ++page) {
      auto plan = PlanList(request, tokens_);
      EXPECT_TRUE(plan.ok()) << plan.status();
      if (!plan.ok()) break;
      v1::ListCertificatesResponse response =
          BuildListPage(request, *plan, vendor_, all, tokens_);
      for (const auto& c : response.certificates()) seen.push_back(c.name());
      if (pages != nullptr) *pages = page + 1;
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return seen;
  }

  const PageTokenCodec tokens_{std::string(32, 'k')};
  const Vendor& vendor_ = BuiltinVendor("leegality");
};

TEST_F(ListCertificatesTest, PageSizeDefaultsCapsAndRefusesNegative) {
  EXPECT_EQ(PlanList(Request(0), tokens_)->page_size, kDefaultListPageSize);
  EXPECT_EQ(PlanList(Request(7), tokens_)->page_size, 7);
  EXPECT_EQ(PlanList(Request(1'000'000), tokens_)->page_size, kMaxListPageSize);
  auto negative = PlanList(Request(-1), tokens_);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetFieldViolations(negative.status())[0].field, "page_size");
}

TEST_F(ListCertificatesTest, BadFilterOrOrderIsInvalidArgumentNamingIt) {
  auto filter = PlanList(Request(0, "name = \"x\""), tokens_);
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(GetFieldViolations(filter.status())[0].field, "filter");
  auto order = PlanList(Request(0, "", "display_name"), tokens_);
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(GetFieldViolations(order.status())[0].field, "order_by");
}

TEST_F(ListCertificatesTest, PagingVisitsEveryCertificateOnceInNameOrder) {
  CertificateList all;
  // Given out of order, as a vendor might.
  for (int i = 136; i >= 0; --i) all.certificates.push_back(Lee(i, i % 17));
  int pages = 0;
  const std::vector<std::string> seen = PageThrough(Request(10), all, &pages);
  EXPECT_EQ(pages, 14);
  ASSERT_EQ(seen.size(), 137u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 137u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(ListCertificatesTest, PageSizeMayChangeBetweenPages) {
  CertificateList all;
  for (int i = 0; i < 30; ++i) all.certificates.push_back(Lee(i, i));
  v1::ListCertificatesRequest request = Request(4);
  auto plan = PlanList(request, tokens_);
  auto first = BuildListPage(request, *plan, vendor_, all, tokens_);
  ASSERT_EQ(first.certificates_size(), 4);
  EXPECT_EQ(first.total_size(), 30);
  request.set_page_size(100);
  request.set_page_token(first.next_page_token());
  plan = PlanList(request, tokens_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto rest = BuildListPage(request, *plan, vendor_, all, tokens_);
  EXPECT_EQ(rest.certificates_size(), 26);
  EXPECT_EQ(rest.certificates(0).name(), Lee(4, 0).name());
  EXPECT_TRUE(rest.next_page_token().empty());
}

TEST_F(ListCertificatesTest, FilterAppliesBeforePagingAndCountsTheTotal) {
  CertificateList all;
  for (int i = 0; i < 40; ++i) all.certificates.push_back(Lee(i, i));
  all.certificates.push_back(Lee(99, -1));  // no expiry: never matches
  v1::ListCertificatesRequest request = Request(7, FilterBefore(20));
  auto plan = PlanList(request, tokens_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto page = BuildListPage(request, *plan, vendor_, all, tokens_);
  EXPECT_EQ(page.total_size(), 20);
  const std::vector<std::string> seen = PageThrough(request, all);
  ASSERT_EQ(seen.size(), 20u);
  EXPECT_EQ(seen.front(), Lee(0, 0).name());
  EXPECT_EQ(seen.back(), Lee(19, 0).name());
}

TEST_F(ListCertificatesTest, OrderByExpireTimeBothWaysWithoutExpiryLast) {
  CertificateList all;
  all.certificates.push_back(Lee(1, 30));
  all.certificates.push_back(Lee(2, -1));
  all.certificates.push_back(Lee(3, 10));
  all.certificates.push_back(Lee(4, 30));  // ties with 1: by name
  all.certificates.push_back(Lee(5, 20));
  EXPECT_THAT(PageThrough(Request(2, "", "expire_time"), all),
              ElementsAre(Lee(3, 0).name(), Lee(5, 0).name(), Lee(1, 0).name(),
                          Lee(4, 0).name(), Lee(2, 0).name()));
  EXPECT_THAT(PageThrough(Request(2, "", "expire_time desc"), all),
              ElementsAre(Lee(1, 0).name(), Lee(4, 0).name(), Lee(5, 0).name(),
                          Lee(3, 0).name(), Lee(2, 0).name()));
  EXPECT_THAT(PageThrough(Request(0, "", "name desc"), all),
              ElementsAre(Lee(5, 0).name(), Lee(4, 0).name(), Lee(3, 0).name(),
                          Lee(2, 0).name(), Lee(1, 0).name()));
}

TEST_F(ListCertificatesTest, ApinizerExpiresAtItsEarliestDeployment) {
  const Vendor& apinizer = BuiltinVendor("apinizer");
  auto cert = [](const std::string& name, std::vector<int> days) {
    v1::Certificate c;
    c.set_name(absl::StrCat("backends/api/projects/p/certificates/", name));
    for (int d : days) {
      ToTimestamp(kBase + absl::Hours(24) * d,
                  c.mutable_apinizer()->add_deployments()->mutable_end_time());
    }
    return c;
  };
  CertificateList all;
  all.certificates.push_back(cert("late", {50, 40}));
  all.certificates.push_back(cert("mixed", {60, 5}));  // uat renewed, prod not
  all.certificates.push_back(cert("none", {}));
  v1::ListCertificatesRequest request = Request(0, FilterBefore(30));
  request.set_parent("backends/api/projects/p");
  auto plan = PlanList(request, tokens_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto page = BuildListPage(request, *plan, apinizer, all, tokens_);
  ASSERT_EQ(page.certificates_size(), 1);
  EXPECT_EQ(page.certificates(0).name(),
            "backends/api/projects/p/certificates/mixed");
}

TEST_F(ListCertificatesTest, AnOffsetPastTheEndIsAnEmptyLastPage) {
  CertificateList all;
  for (int i = 0; i < 10; ++i) all.certificates.push_back(Lee(i, i));
  v1::ListCertificatesRequest request = Request(5);
  request.set_page_token(tokens_.Encode(
      {request.parent(), request.filter(), request.order_by()}, 25));
  auto plan = PlanList(request, tokens_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto page = BuildListPage(request, *plan, vendor_, all, tokens_);
  EXPECT_EQ(page.certificates_size(), 0);
  EXPECT_TRUE(page.next_page_token().empty());
  EXPECT_EQ(page.total_size(), 10);
}

TEST_F(ListCertificatesTest, PagesStayUnderTheByteCap) {
  CertificateList all;
  for (int i = 0; i < 10; ++i) {
    v1::Certificate c = Lee(i, i);
    c.set_display_name(std::string(700 * 1024, 'd'));
    all.certificates.push_back(c);
  }
  int pages = 0;
  const std::vector<std::string> seen = PageThrough(Request(1000), all, &pages);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_GE(pages, 4);  // at most two 700 KiB certificates per 2 MiB page
}

class PageTokenTest : public ListCertificatesTest {
 protected:
  // A real second page's request.
  v1::ListCertificatesRequest SecondPage(const v1::ListCertificatesRequest& r) {
    CertificateList all;
    for (int i = 0; i < 10; ++i) all.certificates.push_back(Lee(i, i));
    auto plan = PlanList(r, tokens_);
    auto page = BuildListPage(r, *plan, vendor_, all, tokens_);
    EXPECT_FALSE(page.next_page_token().empty());
    v1::ListCertificatesRequest next = r;
    next.set_page_token(page.next_page_token());
    return next;
  }
  static void ExpectTokenRefused(const absl::StatusOr<ListPlan>& plan) {
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(GetFieldViolations(plan.status())[0].field, "page_token");
  }
};

TEST_F(PageTokenTest, ATokenIsOpaqueAndContinuesItsRequest) {
  const auto next = SecondPage(Request(3, FilterBefore(100), "expire_time"));
  // Nothing readable in it: not the offset, not the parameters.
  EXPECT_THAT(next.page_token(), ::testing::Not(HasSubstr("lee")));
  EXPECT_LE(next.page_token().size(), PageTokenCodec::kMaxTokenBytes);
  auto plan = PlanList(next, tokens_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->offset, 3u);
}

TEST_F(PageTokenTest, EveryAlteredCharacterIsRefused) {
  const auto next = SecondPage(Request(3));
  const std::string token = next.page_token();
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char c : {alphabet[(alphabet.find(token[i]) + 1) % 64],
                   alphabet[(alphabet.find(token[i]) + 31) % 64]}) {
      v1::ListCertificatesRequest tampered = next;
      std::string t = token;
      t[i] = c;
      tampered.set_page_token(t);
      SCOPED_TRACE(absl::StrCat("position ", i));
      ExpectTokenRefused(PlanList(tampered, tokens_));
    }
  }
  // Cut, extended, padded, garbage, huge.
  for (const std::string& t :
       {token.substr(0, token.size() - 1), token + "A", token + "=",
        std::string("garbage!"), std::string(10'000, 'A'),
        std::string("\x01\xff", 2)}) {
    v1::ListCertificatesRequest bad = next;
    bad.set_page_token(t);
    ExpectTokenRefused(PlanList(bad, tokens_));
    // The token is never echoed back.
    EXPECT_THAT(std::string(PlanList(bad, tokens_).status().message()),
                ::testing::Not(HasSubstr(t)));
  }
}

TEST_F(PageTokenTest, ReuseWithOtherParametersIsRefused) {
  const auto next = SecondPage(Request(3, FilterBefore(100), "expire_time"));
  v1::ListCertificatesRequest other = next;
  other.set_filter(FilterBefore(99));
  ExpectTokenRefused(PlanList(other, tokens_));
  other = next;
  other.set_order_by("expire_time desc");
  ExpectTokenRefused(PlanList(other, tokens_));
  other = next;
  other.set_parent("backends/other");
  ExpectTokenRefused(PlanList(other, tokens_));
  // Parameters are bound exactly: the same filter spelled differently is
  // another request.
  other = next;
  other.set_filter(" " + next.filter());
  ExpectTokenRefused(PlanList(other, tokens_));
}

TEST_F(PageTokenTest, AnotherProcessKeyRefusesTheToken) {
  const auto next = SecondPage(Request(3));
  const PageTokenCodec restarted;  // a fresh random key, as after a restart
  ExpectTokenRefused(PlanList(next, restarted));
  const PageTokenCodec other_random;
  EXPECT_NE(restarted.Encode({"p", "", ""}, 1),
            other_random.Encode({"p", "", ""}, 1));
}

}  // namespace
}  // namespace certbridge

#include "server/service/list_certificates.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/errors.h"

namespace certbridge {
namespace {

PageTokenScope ScopeOf(const v1::ListCertificatesRequest& request) {
  return {request.parent(), request.filter(), request.order_by()};
}

struct Entry {
  std::optional<absl::Time> expire_time;
  v1::Certificate* cert;
};

}  // namespace

absl::StatusOr<ListPlan> PlanList(const v1::ListCertificatesRequest& request,
                                  const PageTokenCodec& tokens) {
  ListPlan plan;
  if (request.page_size() < 0) {
    return MakeValidationError(reason::kInvalidArgument, "page_size",
                               "must not be negative");
  }
  if (request.page_size() > 0) {
    plan.page_size = std::min(request.page_size(), kMaxListPageSize);
  }
  auto filter = ParseListFilter(request.filter());
  if (!filter.ok()) return filter.status();
  plan.filter = *std::move(filter);
  auto order = ParseListOrder(request.order_by());
  if (!order.ok()) return order.status();
  plan.order = *order;
  if (!request.page_token().empty()) {
    auto offset = tokens.Decode(request.page_token(), ScopeOf(request));
    if (!offset.ok()) return offset.status();
    plan.offset = *offset;
  }
  return plan;
}

v1::ListCertificatesResponse BuildListPage(
    const v1::ListCertificatesRequest& request, const ListPlan& plan,
    const Vendor& vendor, CertificateList all, const PageTokenCodec& tokens) {
  std::vector<Entry> entries;
  entries.reserve(all.certificates.size());
  for (v1::Certificate& cert : all.certificates) {
    std::optional<absl::Time> expire = vendor.ExpireTimeOf(cert);
    if (!plan.filter.Matches(expire)) continue;
    entries.push_back({expire, &cert});
  }
  const bool by_expiry = plan.order.key == ListOrder::Key::kExpireTime;
  const bool descending = plan.order.descending;
  // Stable: equal names (a vendor's catch-all project can list one twice) keep
  // the vendor's order, so every call pages the same sequence.
  std::stable_sort(entries.begin(), entries.end(),
                   [by_expiry, descending](const Entry& a, const Entry& b) {
                     if (by_expiry && a.expire_time != b.expire_time) {
                       // Without an expiry: last, whichever the direction.
                       if (!a.expire_time) return false;
                       if (!b.expire_time) return true;
                       return descending ? *a.expire_time > *b.expire_time
                                         : *a.expire_time < *b.expire_time;
                     }
                     const std::string& x = a.cert->name();
                     const std::string& y = b.cert->name();
                     return (!by_expiry && descending) ? y < x : x < y;
                   });

  v1::ListCertificatesResponse response;
  response.set_total_size(static_cast<int32_t>(entries.size()));
  std::size_t next = entries.size();
  std::size_t bytes = 0;
  for (std::size_t i = plan.offset; i < entries.size(); ++i) {
    if (response.certificates_size() == plan.page_size) {
      next = i;
      break;
    }
    const std::size_t size = entries[i].cert->ByteSizeLong();
    if (response.certificates_size() > 0 && bytes + size > kMaxListPageBytes) {
      next = i;
      break;
    }
    bytes += size;
    *response.add_certificates() = std::move(*entries[i].cert);
  }
  if (next < entries.size()) {
    response.set_next_page_token(tokens.Encode(ScopeOf(request), next));
  }
  return response;
}

}  // namespace certbridge

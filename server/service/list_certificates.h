// ListCertificates over a vendor's whole answer (neither vendor pages,
// filters or orders): the request checks before any backend call, and the
// page cut from the vendor's list once it arrives. Pure functions; the
// service calls them around BackendConnection::ListCertificates.
#ifndef CERTBRIDGE_SERVER_SERVICE_LIST_CERTIFICATES_H_
#define CERTBRIDGE_SERVER_SERVICE_LIST_CERTIFICATES_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "certbridge/v1/certificate_service.pb.h"
#include "server/backends/backend_stub.h"
#include "server/backends/vendor.h"
#include "server/common/list_query.h"
#include "server/service/page_token.h"

namespace certbridge {

/// page_size 0 means this many.
inline constexpr int kDefaultListPageSize = 50;
/// A larger page_size is lowered to this (AIP-158).
inline constexpr int kMaxListPageSize = 1000;
/// A page stops growing past this many bytes of certificates (at least
/// one is always returned), well inside clients' 4 MiB receive limit.
inline constexpr std::size_t kMaxListPageBytes = std::size_t{2} << 20;

/// A checked ListCertificates request.
struct ListPlan {
  int page_size = kDefaultListPageSize;
  std::uint64_t offset = 0;
  ListFilter filter;
  ListOrder order;
};

/// The request's page_size, page_token, filter and order_by, checked:
/// INVALID_ARGUMENT naming the field (never echoing more than a short piece
/// of the caller's text). The parent has been routed already.
absl::StatusOr<ListPlan> PlanList(const v1::ListCertificatesRequest& request,
                                  const PageTokenCodec& tokens);

/// The page of `all` that `plan` asks for: filtered, ordered (ties by
/// name, then the vendor's order), cut at the plan's offset, with a token
/// for the rest when there is one.
v1::ListCertificatesResponse BuildListPage(
    const v1::ListCertificatesRequest& request, const ListPlan& plan,
    const Vendor& vendor, CertificateList all, const PageTokenCodec& tokens);

}  // namespace certbridge

#endif  // CERTBRIDGE_SERVER_SERVICE_LIST_CERTIFICATES_H_

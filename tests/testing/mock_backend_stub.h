// gMock BackendStub: the mock connection of service-level and decorator
// tests. Every layer of a BackendConnection and every vendor stub is a
// BackendStub, so one mock stands in for any of them.
#ifndef CERTBRIDGE_TESTS_TESTING_MOCK_BACKEND_STUB_H_
#define CERTBRIDGE_TESTS_TESTING_MOCK_BACKEND_STUB_H_

#include <gmock/gmock.h>

#include <memory>

#include "server/backends/backend_stub.h"

namespace certbridge::testing {

class MockBackendStub : public BackendStub {
 public:
  MOCK_METHOD(void, CreateCertificate,
              (std::shared_ptr<CallContext>, const ParentName&,
               const v1::CreateCertificateRequest&, Done<v1::Certificate>),
              (override));
  MOCK_METHOD(void, GetCertificate,
              (std::shared_ptr<CallContext>, const CertificateName&,
               const v1::GetCertificateRequest&, Done<v1::Certificate>),
              (override));
  MOCK_METHOD(void, UpdateCertificate,
              (std::shared_ptr<CallContext>, const CertificateName&,
               const v1::UpdateCertificateRequest&, Done<v1::Certificate>),
              (override));
  MOCK_METHOD(void, DeleteCertificate,
              (std::shared_ptr<CallContext>, const CertificateName&,
               const v1::DeleteCertificateRequest&,
               Done<v1::DeleteCertificateResponse>),
              (override));
  MOCK_METHOD(void, ListCertificates,
              (std::shared_ptr<CallContext>, const ParentName&,
               const v1::ListCertificatesRequest&, Done<CertificateList>),
              (override));
  MOCK_METHOD(void, RecoverCreate,
              (std::shared_ptr<CallContext>, const ParentName&,
               const v1::CreateCertificateRequest&, absl::Status,
               Done<v1::Certificate>),
              (override));
};

}  // namespace certbridge::testing

#endif  // CERTBRIDGE_TESTS_TESTING_MOCK_BACKEND_STUB_H_
